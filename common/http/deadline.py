"""One time limit per incoming request, shared by the outbound calls made while serving it.

`request_deadline(seconds)` opens it (a contextvar, so it follows the request's thread or task).
A client built with `honours_deadline` caps each attempt's timeouts to the time left and refuses
to call once it has passed; the retry loop never waits past it. Kaleyra's client honours it (the
middleware that opens one per incoming request is
`teleconsultation_project.middleware.RequestDeadlineMiddleware`).
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    ends_at: float
    clock: Callable[[], float]

    def time_left(self) -> float:
        return self.ends_at - self.clock()


_current: ContextVar[Deadline | None] = ContextVar("outbound_request_deadline", default=None)


@contextmanager
def request_deadline(
    seconds: float, *, clock: Callable[[], float] | None = None
) -> Iterator[Deadline]:
    """Calls inside the block must end within `seconds` from now (on `clock`, by default
    time.monotonic). An enclosing deadline that ends sooner still applies: a nested block can
    only shorten the time."""
    clock = clock or time.monotonic
    deadline = Deadline(clock() + seconds, clock)
    outer = _current.get()
    if outer is not None and outer.time_left() < deadline.time_left():
        deadline = outer
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def time_left() -> float | None:
    """Seconds left before the current deadline (zero or less once passed); None without one."""
    deadline = _current.get()
    return None if deadline is None else deadline.time_left()
