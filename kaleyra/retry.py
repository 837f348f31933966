"""When and how long to wait before repeating a Kaleyra call that is safe to repeat.

Exponential backoff with full jitter (spreads the retries of many workers), bounded by a number of
retries and by a total time budget so a request of ours never waits on Kaleyra for long. The sleep,
random source and clock are injected so tests neither wait nor guess.
"""

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from kaleyra.errors import (
    KaleyraError,
    KaleyraRateLimited,
    KaleyraServerError,
    KaleyraTimeout,
    KaleyraUnavailable,
)

logger = logging.getLogger("kaleyra")

T = TypeVar("T")

RETRIED_SERVER_STATUSES = (502, 503, 504)  # gateway trouble; a 500 is a bug, repeating won't help

# Operations whose repetition cannot create a second thing: reads, deletes, PUTs of a value, and
# user creation with our own id (a repeat gets "already exists"). Room and credential creation
# and background upload are absent: a lost answer plus a repeat would make two rooms, two tokens
# or use two of the company's ten background slots. `ping` is absent so health checks stay fast.
SAFE_TO_REPEAT = frozenset(
    {
        "create_user",
        "get_user",
        "update_user_role",
        "get_room",
        "delete_room",
        "iter_room_uploads",
        "delete_upload",
        "get_company",
        "set_default_background",
    }
)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int
    backoff_seconds: float
    max_total_seconds: float

    @classmethod
    def from_settings(cls) -> "RetryPolicy":
        from django.conf import settings

        return cls(
            max_retries=settings.KALEYRA_MAX_RETRIES,
            backoff_seconds=settings.KALEYRA_RETRY_BACKOFF_SECONDS,
            max_total_seconds=settings.KALEYRA_RETRY_MAX_SECONDS,
        )

    def backoff_ceiling(self, retry_number: int) -> float:
        """Upper bound of the wait before retry `retry_number` (0-based): base * 2**n."""
        return self.backoff_seconds * (2**retry_number)


def is_transient(error: KaleyraError) -> bool:
    if isinstance(error, KaleyraUnavailable | KaleyraTimeout | KaleyraRateLimited):
        return True
    return isinstance(error, KaleyraServerError) and error.status in RETRIED_SERVER_STATUSES


@dataclass(frozen=True)
class Retrier:
    policy: RetryPolicy
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[float, float], float] = random.uniform
    clock: Callable[[], float] = time.monotonic

    def call(self, attempt: Callable[[], T], *, operation: str) -> T:
        """Runs `attempt`; when `operation` is safe to repeat and fails transiently, waits and
        runs it again."""
        retry = operation in SAFE_TO_REPEAT
        started = self.clock()
        retries = 0
        while True:
            try:
                return attempt()
            except KaleyraError as error:
                delay = self._delay_before_retry(error, retry, retries, started)
                if delay is None:
                    raise
                retries += 1
                logger.warning(
                    "Kaleyra %s failed (%s), retry %d/%d in %.3fs",
                    operation,
                    type(error).__name__,
                    retries,
                    self.policy.max_retries,
                    delay,
                    extra={"kaleyra_operation": operation, "kaleyra_status": error.status},
                )
                self.sleep(delay)

    def _delay_before_retry(
        self, error: KaleyraError, retry: bool, retries: int, started: float
    ) -> float | None:
        if not retry or not is_transient(error) or retries >= self.policy.max_retries:
            return None
        remaining = self.policy.max_total_seconds - (self.clock() - started)
        if remaining <= 0:
            return None
        if isinstance(error, KaleyraRateLimited) and error.retry_after is not None:
            return min(error.retry_after, remaining)
        return min(self.rand(0.0, self.policy.backoff_ceiling(retries)), remaining)
