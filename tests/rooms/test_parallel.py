"""Independent provider calls made at once (rooms/services/concurrency.py): bounded, in order, in
the caller's context, and leaving no database connection open behind them; on threads kept for the
process, the same, with no thread started per call, and left running while the caller works."""

import threading
import time
from concurrent.futures import CancelledError

import pytest
from django.db import connections

from common.http import deadline
from rooms.services import concurrency
from teleconsultation_project.logs import request_id_var


def test_results_come_back_in_the_items_order_at_most_size_at_once():
    lock = threading.Lock()
    counts = {"now": 0, "most": 0}

    def square(number):
        with lock:
            counts["now"] += 1
            counts["most"] = max(counts["most"], counts["now"])
        time.sleep(0.02 * (number % 3))  # finishing out of order
        with lock:
            counts["now"] -= 1
        return number * number

    assert concurrency.each(square, range(10), size=3, name="test") == [n * n for n in range(10)]
    assert counts["most"] == 3


def test_every_call_runs_in_the_callers_context():
    token = request_id_var.set("req-42")
    try:
        with deadline.request_deadline(5):
            seen = concurrency.each(
                lambda _: (request_id_var.get(), deadline.time_left() is not None),
                range(4),
                size=4,
                name="test",
            )
    finally:
        request_id_var.reset(token)
    assert seen == [("req-42", True)] * 4


def test_the_first_error_is_raised_and_calls_not_started_are_dropped():
    started = []

    def fail_first(number):
        started.append(number)
        if number == 0:
            raise ValueError("refused")
        time.sleep(0.05)
        return number

    with pytest.raises(ValueError, match="refused"):
        concurrency.each(fail_first, range(20), size=2, name="test")
    assert len(started) < 20


@pytest.mark.django_db(transaction=True)
def test_a_worker_closes_the_database_connection_it_opened():
    database = connections["default"]
    if database.vendor == "sqlite" and database.is_in_memory_db():
        pytest.skip("Django never closes an in-memory SQLite database (PostgreSQL leg)")

    def open_connection(_):
        connection = connections["default"]
        connection.ensure_connection()
        return connection

    opened = concurrency.each(open_connection, range(2), size=2, name="test")
    assert len({id(connection) for connection in opened}) == 2  # one per thread
    assert all(connection.connection is None for connection in opened)


def test_a_stopped_pool_runs_none_of_the_calls_waiting_and_finishes_those_running():
    ran, release = [], threading.Event()

    def slow(number):
        ran.append(number)
        release.wait(5)
        return number

    with concurrency.Pool(1, name="test") as pool:
        running = pool.submit(slow, 0)
        waiting = [pool.submit(slow, number) for number in (1, 2)]
        pool.stop()
        release.set()
    assert running.result() == 0
    for future in waiting:
        with pytest.raises(CancelledError):
            future.result()
    assert ran == [0]


def test_inline_runs_each_call_at_once_on_the_callers_thread():
    here = threading.get_ident()
    first = concurrency.Inline().submit(lambda: threading.get_ident())
    failed = concurrency.Inline().submit(lambda: 1 / 0)
    assert first.result() == here
    assert isinstance(failed.exception(), ZeroDivisionError)


def test_kept_threads_run_the_calls_in_order_at_most_size_at_once_and_stay():
    lock = threading.Lock()
    counts = {"now": 0, "most": 0}
    threads = set()

    def square(number):
        with lock:
            counts["now"] += 1
            counts["most"] = max(counts["most"], counts["now"])
            threads.add(threading.current_thread())
        time.sleep(0.02 * (number % 3))  # finishing out of order
        with lock:
            counts["now"] -= 1
        return number * number

    each = concurrency.each_on_kept_threads
    assert each(square, range(10), size=3, name="test-kept") == [n * n for n in range(10)]
    assert counts["most"] == 3
    first = set(threads)
    assert each(square, range(6), size=3, name="test-kept") == [n * n for n in range(6)]
    assert threads == first  # the same three threads, none started for the second call
    assert len(first) == 3 and threading.current_thread() not in first


def test_kept_threads_run_each_call_in_the_callers_context():
    token = request_id_var.set("req-43")
    try:
        with deadline.request_deadline(5):
            seen = concurrency.each_on_kept_threads(
                lambda _: (request_id_var.get(), deadline.time_left() is not None),
                range(4),
                size=4,
                name="test-kept",
            )
    finally:
        request_id_var.reset(token)
    assert seen == [("req-43", True)] * 4
    # Nothing the calls saw stays on the threads for the next caller.
    assert (
        concurrency.each_on_kept_threads(
            lambda _: (request_id_var.get(), deadline.time_left()),
            range(4),
            size=4,
            name="test-kept",
        )
        == [(None, None)] * 4
    )


def test_on_kept_threads_the_first_failure_is_raised_once_the_calls_running_have_ended():
    started, ended, release = [], [], threading.Event()

    def fail_third(number):
        started.append(number)
        if number == 2:
            release.set()
            raise ValueError("refused")
        if number < 2:
            release.wait(5)  # still running when the third fails
        ended.append(number)
        return number

    with pytest.raises(ValueError, match="refused"):
        concurrency.each_on_kept_threads(fail_third, range(20), size=3, name="test-kept-fail")
    assert {0, 1} <= set(ended)  # those running were waited for
    assert len(started) < 20  # those not started yet were dropped


def test_started_on_kept_threads_the_calls_run_while_the_caller_goes_on():
    caller_went_on = threading.Event()

    def after_the_caller(number):
        assert caller_went_on.wait(5), "the call waited for nothing: the caller was blocked"
        return number * 10

    flight = concurrency.start_on_kept_threads(
        after_the_caller, range(3), size=3, name="test-kept-start"
    )
    caller_went_on.set()  # reached while the three calls are still waiting for it
    assert flight.results() == [0, 10, 20]


def test_a_single_call_started_on_kept_threads_runs_there_and_its_failure_is_raised_by_results():
    here = threading.current_thread()

    def fail_elsewhere(_):
        assert threading.current_thread() is not here
        raise ValueError("refused")

    flight = concurrency.start_on_kept_threads(
        fail_elsewhere, [1], size=1, name="test-kept-start-one"
    )
    with pytest.raises(ValueError, match="refused"):
        flight.results()
