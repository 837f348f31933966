"""Independent provider calls made at once, on a bounded set of worker threads.

Each call runs in a copy of its caller's context, so the request id, the request's Kaleyra deadline
and the audit channel follow it onto the thread. A worker closes the database connections it
opened when it ends: a thread's connection is its own, and would otherwise stay open until the
process exits.
"""

import contextvars
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import TypeVar

from django.db import connections

T = TypeVar("T")
R = TypeVar("R")


class Workers:
    """`size` threads taking calls in the order they are submitted; a context manager that waits
    for every submitted call on exit (and drops the ones not started yet when leaving on an
    exception)."""

    def __init__(self, size: int, *, name: str):
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._serve, name=f"{name}-{number}") for number in range(size)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, call: Callable[..., R], *args) -> "Future[R]":
        future: Future[R] = Future()
        self._calls.put((future, contextvars.copy_context(), call, args))
        return future

    def _serve(self) -> None:
        try:
            while (task := self._calls.get()) is not None:
                future, context, call, args = task
                if not future.set_running_or_notify_cancel():
                    continue  # cancelled before it started
                try:
                    result = context.run(call, *args)
                except BaseException as exc:  # handed to whoever waits on the future
                    future.set_exception(exc)
                else:
                    future.set_result(result)
        finally:
            connections.close_all()

    def cancel_waiting(self) -> None:
        """Drops the calls submitted but not started yet (their futures are cancelled); those
        running go on. Any thread may ask, e.g. on the provider's first failure."""
        stops = 0
        while True:
            try:
                task = self._calls.get_nowait()
            except queue.Empty:
                break
            if task is None:
                stops += 1  # close() is under way: its stop signals stay
            else:
                task[0].cancel()
        for _ in range(stops):
            self._calls.put(None)

    def close(self, *, cancel_waiting: bool = False) -> None:
        """Lets the calls already submitted finish (or, with `cancel_waiting`, only those already
        running), then stops the threads."""
        if cancel_waiting:
            self.cancel_waiting()
        for _ in self._threads:
            self._calls.put(None)
        for thread in self._threads:
            thread.join()

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        self.close(cancel_waiting=exc_type is not None)


def each(call: Callable[[T], R], items: Iterable[T], *, size: int, name: str) -> list[R]:
    """`call` on every item, `size` at a time, results in the items' order. The first error is
    raised once the calls already running have ended; those not started yet are dropped. One
    item, or a size of 1, runs on the caller's thread."""
    items = list(items)
    if len(items) <= 1 or size <= 1:
        return [call(item) for item in items]
    with Workers(min(size, len(items)), name=name) as workers:
        futures = [workers.submit(call, item) for item in items]
        return [future.result() for future in futures]
