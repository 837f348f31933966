"""Prometheus metrics of every outbound call: one count per attempt by service, operation and
outcome, and the time each attempt took. Recorded where the network is called (`OutboundClient`,
and the in-process Kaleyra simulator's stand-in for it), so retries count as the calls they are.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import Counter, Histogram

from common.http.errors import OutboundError, outcome_of_status

OUTBOUND_REQUESTS = Counter(
    "outbound_requests",
    "Outbound HTTP calls (each retry counts), by service, operation and outcome.",
    ["service", "operation", "outcome"],
)
OUTBOUND_REQUEST_SECONDS = Histogram(
    "outbound_request_duration_seconds",
    "Time from sending an outbound call to its answer or failure, by service and operation.",
    ["service", "operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
)


@dataclass
class Attempt:
    """What `measured` learns while the attempt runs: the status of an answer, or the outcome
    of a failure with no answer (set by the code that saw it)."""

    status: int | None = None
    outcome: str | None = None


def outcome_of(error: BaseException, attempt: Attempt) -> str:
    if attempt.outcome is not None:
        return attempt.outcome
    if isinstance(error, OutboundError):
        return error.outcome
    if attempt.status is not None:
        return outcome_of_status(attempt.status)  # a client's own error about an answer
    return "error"


def count_unsent(service: str, operation: str) -> None:
    """A call not sent at all (the deadline had passed): counted, with no duration."""
    OUTBOUND_REQUESTS.labels(
        service=service, operation=operation, outcome="deadline_exceeded"
    ).inc()


@contextmanager
def measured(service: str, operation: str) -> Iterator[Attempt]:
    """Counts one attempt of `operation` and times it; the outcome is "ok", or read from the
    failure (`outcome_of`)."""
    started = time.perf_counter()
    attempt = Attempt()
    outcome = "error"
    try:
        yield attempt
        outcome = "ok"
    except BaseException as error:
        outcome = outcome_of(error, attempt)
        raise
    finally:
        OUTBOUND_REQUESTS.labels(service=service, operation=operation, outcome=outcome).inc()
        OUTBOUND_REQUEST_SECONDS.labels(service=service, operation=operation).observe(
            time.perf_counter() - started
        )
