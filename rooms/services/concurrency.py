"""Independent provider calls made at once, on `concurrent.futures` thread pools.

Each call runs in a copy of its caller's context, so the request id, the request's Kaleyra deadline,
the current trace span and the audit channel follow it onto the thread. The database connections
the pool's threads opened are closed when it shuts down: a thread's connection is its own, and would
otherwise stay open until the process exits. Calls that only wait on the network may instead run on
threads kept for the process's life (`each_on_kept_threads`), which no request pays to start, and
may be left to run there while the caller works (`start_on_kept_threads`).
"""

import contextvars
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError, Executor, Future, ThreadPoolExecutor, wait
from typing import Generic, ParamSpec, TypeVar

from django.db import connections

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


class Pool(ThreadPoolExecutor):
    """At most `size` calls at once, started in the order submitted. Leaving it waits for every
    call submitted; leaving on an exception first stops those not started yet."""

    def __init__(self, size: int, *, name: str):
        super().__init__(max_workers=size, thread_name_prefix=name)
        self._stopped = threading.Event()
        self._opened: set = set()  # the connections of the pool's threads

    def submit(self, call: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> "Future[R]":
        return super().submit(self._run, contextvars.copy_context(), call, args, kwargs)

    def _run(
        self, context: contextvars.Context, call: Callable[..., R], args: tuple, kwargs: dict
    ) -> R:
        if self._stopped.is_set():
            raise CancelledError  # never started
        try:
            return context.run(call, *args, **kwargs)
        finally:
            self._opened.update(connections.all(initialized_only=True))

    def stop(self) -> None:
        """The calls not started yet end with `CancelledError` instead of running (those running
        go on). Any thread may ask, e.g. on the provider's first failure."""
        self._stopped.set()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        if wait:
            # The threads have ended: nothing uses their connections any more, and Django lets
            # another thread close a connection only while it is shared.
            for connection in self._opened:
                connection.inc_thread_sharing()
                try:
                    connection.close()
                finally:
                    connection.dec_thread_sharing()

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:
            self.stop()
        self.shutdown()


class Inline(Executor):
    """Each call made on the caller's thread as it is submitted: a chunk of one, or work inside a
    transaction, whose rows the connections of other threads could not see."""

    def submit(self, call: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> "Future[R]":
        future: Future[R] = Future()
        try:
            future.set_result(call(*args, **kwargs))
        except BaseException as exc:  # handed to whoever waits on the future, as a pool does
            future.set_exception(exc)
        return future

    def stop(self) -> None:
        """Nothing waits: every call submitted has already run."""


def failure_of(call: Future) -> BaseException | None:
    """What a finished call raised (`CancelledError` for one never started); None if it returned."""
    try:
        return call.exception()
    except CancelledError as never_started:
        return never_started


def each(call: Callable[[T], R], items: Iterable[T], *, size: int, name: str) -> list[R]:
    """`call` on every item, `size` at a time, results in the items' order. The first error is
    raised once the calls already running have ended; those not started yet are dropped. One
    item, or a size of 1, runs on the caller's thread."""
    items = list(items)
    if len(items) <= 1 or size <= 1:
        return [call(item) for item in items]
    with Pool(min(size, len(items)), name=name) as pool:
        futures = [pool.submit(call, item) for item in items]
        return [future.result() for future in futures]


_kept: dict[tuple[int, int, str], ThreadPoolExecutor] = {}
_kept_guard = threading.Lock()


def _kept_pool(size: int, *, name: str) -> ThreadPoolExecutor:
    """The process's pool of `size` threads named `name`, made on first use (again in a forked
    child, which has none of its parent's threads). Threads start as calls need them, and stay."""
    key = (os.getpid(), size, name)
    with _kept_guard:
        pool = _kept.get(key)
        if pool is None:
            pool = _kept[key] = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)
    return pool


def each_on_kept_threads(
    call: Callable[[T], R], items: Iterable[T], *, size: int, name: str
) -> list[R]:
    """`each`, on threads kept for the process's life: no thread is started per request
    (starting 25 cost a 25-user POST ~20 ms). The bound is the process's: the requests a worker
    serves at once share the `size` threads. For calls that only wait on the network: a kept thread
    must not open a database connection, which would stay open with it. The first failure stops the
    calls not started yet; it is raised once those running have ended. One item, or a size of 1,
    runs on the caller's thread."""
    items = list(items)
    if len(items) <= 1 or size <= 1:
        return [call(item) for item in items]
    return start_on_kept_threads(call, items, size=size, name=name).results()


class InFlight(Generic[R]):
    """Calls started on kept threads (`start_on_kept_threads`); `results` waits for them."""

    def __init__(self, futures: list["Future[R]"], stopped: threading.Event) -> None:
        self._futures = futures
        self._stopped = stopped

    def results(self) -> list[R]:
        """Each call's result, in the items' order, once all have ended; the first failure is
        raised instead. An interrupted wait starts nothing more and lets the rest end."""
        try:
            wait(self._futures)
        except BaseException:
            self._stopped.set()
            wait(self._futures)
            raise
        failures = [failure_of(future) for future in self._futures]
        first = next(
            (f for f in failures if f is not None and not isinstance(f, CancelledError)), None
        )
        if first is not None:
            raise first
        return [future.result() for future in self._futures]


def start_on_kept_threads(
    call: Callable[[T], R], items: Iterable[T], *, size: int, name: str
) -> InFlight[R]:
    """`each_on_kept_threads` without the wait: every call starts on the kept threads, even a
    single one, and the caller goes on with its own work (a database write) while they wait on
    the network; `results()` then waits for them. The first failure stops the calls not started
    yet."""
    stopped = threading.Event()

    def run(context: contextvars.Context, item: T) -> R:
        if stopped.is_set():
            raise CancelledError  # never started
        try:
            return context.run(call, item)
        except BaseException:
            stopped.set()
            raise

    pool = _kept_pool(max(size, 1), name=name)
    return InFlight([pool.submit(run, contextvars.copy_context(), item) for item in items], stopped)
