"""When and how long to wait before repeating a Kaleyra call that is safe to repeat.

Exponential backoff with full jitter (spreads the retries of many workers), bounded by a number of
retries, by a total time budget and by the incoming request's deadline, so a request of ours never
waits on Kaleyra for long. A 429 is repeatable for every operation (Kaleyra did not do what was
asked); on a request path it is repeated once, and only when its Retry-After fits. Background work
(`background_work()`) has a budget of its own and waits out a 429 that names no time. The sleep,
random source and clock are injected so tests neither wait nor guess. The loop that repeats is the
outbound base's (`common.http.retry`).
"""

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from common.http import deadline
from common.http.errors import OutboundError
from common.http.retry import call_repeating
from kaleyra.errors import (
    DEFAULT_RATE_LIMIT_WAIT,
    KaleyraDeadlineExceeded,
    KaleyraError,
    KaleyraRateLimited,
    KaleyraServerError,
    KaleyraTimeout,
    KaleyraUnavailable,
)

logger = logging.getLogger("kaleyra")

T = TypeVar("T")

RETRIED_SERVER_STATUSES = (502, 503, 504)  # gateway trouble; a 500 is a bug, repeating won't help

# Operations whose repetition cannot create a second thing, whatever the failure: reads, deletes,
# PUTs of a value, and user creation with our own id (a repeat gets "already exists"). Room and
# credential creation, background upload and webhook registration are absent: a lost answer (a
# timeout, a dropped connection, a 5xx) plus a repeat would make two rooms, two tokens, two
# webhooks or use two of the company's ten background slots. They are repeated after a 429 only:
# a refusal to do anything, so no second thing can come of it.
SAFE_TO_REPEAT = frozenset(
    {
        "create_user",
        "get_user",
        "update_user_role",
        "deactivate_user",
        "get_room",
        "delete_room",
        "iter_rooms",
        "iter_room_uploads",
        "delete_upload",
        "iter_room_sessions",
        "recording_link",
        "delete_recording",
        "get_company",
        "set_default_background",
        "list_webhooks",
        "delete_webhook",
        "set_user_details_provider",
    }
)
# Never repeated, not even after a 429: a health check must be fast.
NEVER_REPEATED = frozenset({"ping"})
# A request waits for at most this many 429s' Retry-After per call; then it answers 503.
REQUEST_RATE_LIMIT_RETRIES = 1


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


@dataclass(frozen=True)
class BackgroundWork:
    max_total_seconds: float
    sleep: Callable[[float], None] | None


_background: ContextVar[BackgroundWork | None] = ContextVar("kaleyra_background", default=None)


@contextmanager
def background_work(
    *, max_total_seconds: float | None = None, sleep: Callable[[float], None] | None = None
) -> Iterator[None]:
    """Marks the Kaleyra calls made inside the block as background work (management commands,
    jobs): nobody is waiting for an answer, so a 429 that names no time is waited out
    (DEFAULT_RATE_LIMIT_WAIT) instead of handed back, within a budget of its own
    (KALEYRA_BACKGROUND_RETRY_MAX_SECONDS unless given). `sleep` replaces the wait, for tests.
    A block inside another takes what it does not give from the enclosing one (a command's run
    inside a test's block keeps the test's sleep)."""
    outer = _background.get()
    if sleep is None and outer is not None:
        sleep = outer.sleep
    if max_total_seconds is None and outer is not None:
        max_total_seconds = outer.max_total_seconds
    if max_total_seconds is None:
        from django.conf import settings

        max_total_seconds = settings.KALEYRA_BACKGROUND_RETRY_MAX_SECONDS
    token = _background.set(BackgroundWork(max_total_seconds, sleep))
    try:
        yield
    finally:
        _background.reset(token)


def is_transient(error: KaleyraError) -> bool:
    if isinstance(error, KaleyraDeadlineExceeded):
        return False
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
        """Runs `attempt`; when it fails transiently and `operation` is safe to repeat, or when
        Kaleyra refused it with a 429, waits and runs it again."""
        if operation in NEVER_REPEATED:
            return attempt()
        background = _background.get()
        budget = background.max_total_seconds if background else self.policy.max_total_seconds
        sleep = background.sleep if background and background.sleep else self.sleep
        started = self.clock()
        rate_limited = 0  # 429s waited for so far

        def delay_before_retry(error: OutboundError, retries: int) -> float | None:
            nonlocal rate_limited
            if not isinstance(error, KaleyraError):
                return None
            if isinstance(error, KaleyraRateLimited):
                if background is None and rate_limited >= REQUEST_RATE_LIMIT_RETRIES:
                    return None
            elif operation not in SAFE_TO_REPEAT:
                return None
            budget_left = budget - (self.clock() - started)
            delay = self._delay_before_retry(error, retries, budget_left, background)
            if delay is not None and isinstance(error, KaleyraRateLimited):
                rate_limited += 1
            return delay

        return call_repeating(
            attempt,
            delay_before_retry=delay_before_retry,
            sleep=sleep,
            logger=logger,
            label="Kaleyra",
            operation=operation,
            max_retries=self.policy.max_retries,
        )

    def _delay_before_retry(
        self,
        error: KaleyraError,
        retries: int,
        budget_left: float,
        background: BackgroundWork | None,
    ) -> float | None:
        if not is_transient(error) or retries >= self.policy.max_retries or budget_left <= 0:
            return None
        if isinstance(error, KaleyraRateLimited):
            delay = error.retry_after
            if delay is None:
                # On a request path nobody should wait a minute: the caller answers 503 with
                # Retry-After. Background work waits as Kaleyra's own sample clients do.
                if background is None:
                    return None
                delay = DEFAULT_RATE_LIMIT_WAIT
            if delay > budget_left:
                return None  # a retry before the server's time would only be refused again
        else:
            delay = min(self.rand(0.0, self.policy.backoff_ceiling(retries)), budget_left)
        deadline_left = deadline.time_left()
        if deadline_left is not None and delay >= deadline_left:
            return None  # the retry could not even start before the request's deadline
        return delay
