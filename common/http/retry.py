"""The loop that repeats a failed outbound call, for the clients whose rules say it is safe.

The rule is the client's (which operations, which failures, how long to wait: `kaleyra.retry`,
`crud.client`); the loop, its log line and the wait are here, so every service retries alike.
"""

import logging
from collections.abc import Callable
from typing import TypeVar

from common.http.errors import OutboundError

T = TypeVar("T")


def call_repeating(
    attempt: Callable[[], T],
    *,
    delay_before_retry: Callable[[OutboundError, int], float | None],
    sleep: Callable[[float], None],
    logger: logging.Logger,
    label: str,
    operation: str,
    max_retries: int,
) -> T:
    """Runs `attempt`; after an OutboundError, `delay_before_retry(error, retries so far)` says
    how long to wait before running it again, or None to raise the error. Each retry is logged
    on `logger` as "<label> <operation> failed (<error class>), retry n/max in s"."""
    retries = 0
    while True:
        try:
            return attempt()
        except OutboundError as error:
            delay = delay_before_retry(error, retries)
            if delay is None:
                raise
            retries += 1
            logger.warning(
                "%s %s failed (%s), retry %d/%d in %.3fs",
                label,
                operation,
                type(error).__name__,
                retries,
                max_retries,
                delay,
                extra={"operation": operation, "status": error.status},
            )
            sleep(delay)
