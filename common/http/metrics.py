"""Prometheus metrics of Kaleyra calls: one count per attempt by operation and outcome, and the
time each attempt took. Recorded where the network is called (the client's `_request`, and the
in-process simulator's stand-in for it), so retries count as the calls they are."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Histogram

from kaleyra.errors import (
    KaleyraAuthError,
    KaleyraBadRequest,
    KaleyraBadResponse,
    KaleyraDeadlineExceeded,
    KaleyraError,
    KaleyraNotFound,
    KaleyraRateLimited,
    KaleyraServerError,
    KaleyraTimeout,
    KaleyraUnavailable,
)

PROVIDER_CALLS = Counter(
    "kaleyra_provider_calls",
    "Kaleyra calls (each retry counts), by provider operation and outcome.",
    ["operation", "outcome"],
)
PROVIDER_CALL_SECONDS = Histogram(
    "kaleyra_provider_call_duration_seconds",
    "Time from sending a Kaleyra call to its answer or failure, by provider operation.",
    ["operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
)

# Most specific first: KaleyraDeadlineExceeded is a KaleyraTimeout.
OUTCOMES = (
    (KaleyraDeadlineExceeded, "deadline_exceeded"),
    (KaleyraTimeout, "timeout"),
    (KaleyraUnavailable, "unavailable"),
    (KaleyraAuthError, "auth_error"),
    (KaleyraNotFound, "not_found"),
    (KaleyraRateLimited, "rate_limited"),
    (KaleyraBadRequest, "bad_request"),
    (KaleyraServerError, "server_error"),
    (KaleyraBadResponse, "bad_response"),
)


def outcome_of(error: KaleyraError) -> str:
    for cls, outcome in OUTCOMES:
        if isinstance(error, cls):
            return outcome
    return "error"


def count_unsent(operation: str, error: KaleyraError) -> None:
    """A call not sent at all (the deadline had passed): counted, with no duration."""
    PROVIDER_CALLS.labels(operation=operation, outcome=outcome_of(error)).inc()


@contextmanager
def measured(operation: str) -> Iterator[None]:
    """Counts one attempt of `operation` and times it; the outcome is read from the exception
    (a KaleyraError subclass; anything else is "error") or is "ok"."""
    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    except KaleyraError as error:
        outcome = outcome_of(error)
        raise
    finally:
        PROVIDER_CALLS.labels(operation=operation, outcome=outcome).inc()
        PROVIDER_CALL_SECONDS.labels(operation=operation).observe(time.perf_counter() - started)
