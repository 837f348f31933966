"""The support commands with `--concurrency N`: items handled at once on worker threads give the
outcomes one at a time would, printed in the same order, and still stop, skip and resume alike.

The database is committed for real here (transaction=True): worker threads use connections of
their own, which could not see rows inside a test's transaction. The Django backend runs these in
the PostgreSQL leg: SQLite's in-memory test database locks whole tables against other
connections (a SQLite file, as in development, lets them take turns).
"""

import threading
import time
from datetime import timedelta

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.utils import OperationalError

from kaleyra.simulator.inprocess import InProcessSimulator
from rooms.services import support
from rooms.storage import get_storage
from tests.rooms.conftest import NOW, doctor, jobs, patient, stored
from tests.rooms.test_commands import run, run_failing

pytestmark = [
    pytest.mark.usefixtures("storage_backend", "shared_database"),
    pytest.mark.django_db(transaction=True),
]

AFTER_THE_VISITS = NOW + timedelta(days=3)
CLEANUP = ("cleanup_teleconsultations", "--older-than-days", "1")


@pytest.fixture
def shared_database(storage_backend):
    from django.db import connection

    if storage_backend == "django" and connection.vendor == "sqlite":
        pytest.skip("worker threads on the in-memory SQLite test database (PostgreSQL leg)")


@pytest.fixture
def ended(create, clock):
    """n teleconsultations with their rooms, all ended once the clock is past them."""

    def make(n: int) -> list[str]:
        made = [create([doctor(f"doctor-{i}"), patient(f"patient-{i}")]) for i in range(n)]
        clock.move_to(AFTER_THE_VISITS)
        return made

    return make


@pytest.fixture
def in_flight(monkeypatch):
    """Counts the Kaleyra room deletions running at once (each takes a little while): what
    --concurrency bounds, whether items are handled one by one or a chunk at a time."""
    real_delete = InProcessSimulator.delete_room
    lock = threading.Lock()
    counts = {"now": 0, "most": 0}

    def slow_delete(provider, room_id):
        with lock:
            counts["now"] += 1
            counts["most"] = max(counts["most"], counts["now"])
        time.sleep(0.05)
        try:
            return real_delete(provider, room_id)
        finally:
            with lock:
                counts["now"] -= 1

    monkeypatch.setattr(InProcessSimulator, "delete_room", slow_delete)
    return counts


def outcome_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("Teleconsultation ")]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_cleanup_gives_the_same_outcomes_in_the_same_order_at_any_concurrency(
    ended, simulator, in_flight, concurrency
):
    visits = ended(10)
    rooms = [stored(visit).kaleyra_room_id for visit in visits]

    out, err = run(*CLEANUP, "--concurrency", str(concurrency), "--batch-size", "3")

    assert outcome_lines(out) == [
        f"Teleconsultation {visit}: moved to trash, Kaleyra room deleted"
        for visit in sorted(visits)
    ]
    assert "Summary: 10 done, 0 partly done, 0 skipped, 0 failed" in out
    assert "progress: 10/10 (100%)" in err
    assert all(stored(visit).state == "TRASH" for visit in visits)
    assert not any(simulator.room_exists(room) for room in rooms)
    assert jobs("room_deletion") == [] and jobs("run_lock") == []
    assert in_flight["most"] == concurrency


def test_cleanup_at_concurrency_stops_starting_items_once_the_provider_fails(ended, simulator):
    visits = ended(12)
    simulator.reset_call_log()
    simulator.fail_next("delete_room", mode="500")

    out, _err, message = run_failing(*CLEANUP, "--concurrency", "2")

    assert "stopped: the video provider is failing" in out
    assert "running the command again is safe" in message
    # What had started finished; nothing started after the failure was recorded. Written a
    # chunk at a time, a visit may be in TRASH with its room's deletion never tried: recorded.
    trashed = [visit for visit in visits if stored(visit).state == "TRASH"]
    # The failing deletion need not be the first item's (the two workers race for the first
    # call): those recorded before it, then at most 2 x --concurrency in hand when it is.
    lines = outcome_lines(out)
    failed_at = next(i for i, line in enumerate(lines) if "could not be deleted now" in line)
    assert 1 <= len(trashed) <= failed_at + 2 * 2
    assert 1 <= simulator.call_count("delete_room") <= len(trashed)
    assert len(outcome_lines(out)) == len(trashed)
    rooms = {stored(visit).kaleyra_room_id for visit in trashed}
    pending = {job.key for job in jobs("room_deletion")}
    assert pending and pending <= rooms
    assert all(simulator.room_exists(room) == (room in pending) for room in rooms)

    out, _err = run(*CLEANUP, "--concurrency", "2")
    assert f"Summary: {12 - len(trashed)} done" in out
    assert all(stored(visit).state == "TRASH" for visit in visits)
    run("reconcile_rooms")
    assert not any(simulator.room_exists(room) for room in rooms)


def test_cleanup_at_concurrency_interrupted_records_what_ran_and_a_rerun_finishes(
    ended, monkeypatch
):
    visits = ended(12)
    real_delete = InProcessSimulator.delete_room
    seen = []

    def interrupted_on_the_second(provider, room_id):
        seen.append(room_id)
        if len(seen) == 2:
            raise KeyboardInterrupt
        return real_delete(provider, room_id)

    monkeypatch.setattr(InProcessSimulator, "delete_room", interrupted_on_the_second)
    out, _err, message = run_failing(*CLEANUP, "--concurrency", "3")
    assert "interrupted: run it again to carry on" in out and "(interrupted)" in message
    trashed = [visit for visit in visits if stored(visit).state == "TRASH"]
    # The visit whose room deletion was interrupted is in TRASH, its room's deletion recorded.
    (cut_short,) = [job.key for job in jobs("room_deletion")]
    assert cut_short == seen[1]
    assert f"Summary: {len(trashed) - 1} done" in out
    assert len(trashed) < 12
    assert jobs("run_lock") == []

    monkeypatch.setattr(InProcessSimulator, "delete_room", real_delete)
    out, _err = run(*CLEANUP, "--concurrency", "3")
    assert f"Summary: {12 - len(trashed)} done" in out
    assert all(stored(visit).state == "TRASH" for visit in visits)
    run("reconcile_rooms")
    assert jobs("room_deletion") == []


def test_an_interruption_that_leaves_the_connection_unusable_still_ends_in_order(
    ended, storage_backend, monkeypatch
):
    """Ctrl-C in the middle of a query can leave psycopg's connection refusing the next one
    ("another command is already in progress", seen in make bench): the chunk in hand is still
    recorded, its lock released and the run summed up, through a new connection."""
    if storage_backend != "django":
        pytest.skip("about this service's own database connection")
    visits = ended(12)
    real_move = support.move_to_trash
    broken = []

    def interrupted_on_the_second_chunk(chunk, **options):
        if not getattr(interrupted_on_the_second_chunk, "first_done", False):
            interrupted_on_the_second_chunk.first_done = True
            return real_move(chunk, **options)
        broken.append(connection.connection)  # the raw connection the query was broken off on
        raise KeyboardInterrupt

    def refused_on_the_broken_connection(execute, sql, params, many, context):
        if broken and connection.connection is broken[0]:
            raise OperationalError("sending query failed: another command is already in progress")
        return execute(sql, params, many, context)

    monkeypatch.setattr(support, "move_to_trash", interrupted_on_the_second_chunk)
    with connection.execute_wrapper(refused_on_the_broken_connection):
        out, _err, message = run_failing(*CLEANUP, "--concurrency", "3")

    assert "(interrupted)" in message
    assert "Summary: 3 done, 0 partly done, 0 skipped, 0 failed; interrupted" in out
    assert sum(stored(visit).state == "TRASH" for visit in visits) == 3
    assert jobs("run_lock") == [] and jobs("room_deletion") == []
    (summary,) = [
        entry
        for batch in get_storage().audit_entries(since=NOW)
        for entry in batch
        if entry.action == "command.cleanup_teleconsultations"
    ]
    assert summary.outcome == "interrupted"


def test_an_interruption_outside_the_chunks_also_ends_in_order_on_a_new_connection(
    ended, storage_backend, monkeypatch
):
    """The same broken-off connection where the run as a whole catches Ctrl-C (here a dry run
    reading its second page of ids): the summary and the run's audit entry still get written."""
    if storage_backend != "django":
        pytest.skip("about this service's own database connection")
    ended(3)
    storage = get_storage()
    real_batches = type(storage).teleconsultation_id_batches
    broken = []

    def one_page_then_interrupted(self, **selection):
        for page in real_batches(self, **{**selection, "batch_size": 1}):
            if page and len(broken) == 0 and getattr(one_page_then_interrupted, "seen", 0):
                broken.append(connection.connection)
                raise KeyboardInterrupt
            one_page_then_interrupted.seen = 1
            yield page

    def refused_on_the_broken_connection(execute, sql, params, many, context):
        if broken and connection.connection is broken[0]:
            raise OperationalError("sending query failed: another command is already in progress")
        return execute(sql, params, many, context)

    monkeypatch.setattr(type(storage), "teleconsultation_id_batches", one_page_then_interrupted)
    with connection.execute_wrapper(refused_on_the_broken_connection):
        out, _err, message = run_failing(*CLEANUP, "--dry-run")

    assert broken, "the run was not interrupted where the test meant"
    assert "(interrupted)" in message
    assert "would move" in out and "interrupted" in out.splitlines()[-1]
    (summary,) = [
        entry
        for batch in get_storage().audit_entries(since=NOW)
        for entry in batch
        if entry.action == "command.cleanup_teleconsultations"
    ]
    assert summary.outcome == "dry run"  # what the run was; it changed nothing


def test_a_second_run_while_the_first_holds_the_lock_is_refused(ended, monkeypatch):
    visits = ended(6)
    real_delete = InProcessSimulator.delete_room
    first_busy, second_done = threading.Event(), threading.Event()

    def held_up_until_the_second_run_is_refused(provider, room_id):
        first_busy.set()
        second_done.wait(10)
        return real_delete(provider, room_id)

    monkeypatch.setattr(InProcessSimulator, "delete_room", held_up_until_the_second_run_is_refused)
    first = {}

    def first_run():
        try:
            first["out"] = run(*CLEANUP, "--concurrency", "2")[0]
        finally:
            connection.close()  # this thread's own

    running = threading.Thread(target=first_run)
    running.start()
    try:
        assert first_busy.wait(10)
        out, _err, message = run_failing(*CLEANUP, "--concurrency", "2")
    finally:
        second_done.set()
        running.join(30)

    assert "Another run of cleanup_teleconsultations is under way" in message and out == ""
    assert "Summary: 6 done, 0 partly done, 0 skipped, 0 failed" in first["out"]
    assert all(stored(visit).state == "TRASH" for visit in visits)
    assert jobs("run_lock") == []
    summaries = [
        entry
        for batch in get_storage().audit_entries(since=NOW)
        for entry in batch
        if entry.action == "command.cleanup_teleconsultations"
    ]
    assert [summary.outcome for summary in summaries] == ["done"]  # the refused run did nothing


def test_reconcile_at_concurrency_deletes_every_pending_room_in_order(
    create, simulator, api, clock
):
    visits = [create([doctor(f"doctor-{i}"), patient(f"patient-{i}")]) for i in range(6)]
    rooms = [stored(visit).kaleyra_room_id for visit in visits]
    simulator.fail_next("delete_room", mode="500", times=6)
    for visit in visits:
        assert api.delete(f"/teleconsultation/{visit}").status_code == 204
    pending = [job.key for job in jobs("room_deletion")]
    assert sorted(pending) == sorted(rooms)

    out, _err = run("reconcile_rooms", "--concurrency", "4")

    lines = [line for line in out.splitlines() if line.startswith("room ")]
    assert [line.split()[1] for line in lines] == pending  # the queue's order
    assert "Summary: 6 done" in out
    assert jobs("room_deletion") == [] and jobs("run_lock") == []
    assert not any(simulator.room_exists(room) for room in rooms)


def test_delete_uploads_at_concurrency_deletes_every_upload(ended, simulator):
    visits = ended(5)
    for visit in visits:
        for _ in range(3):
            simulator.add_upload(stored(visit).kaleyra_room_id)

    out, _err = run(
        "delete_uploads", "--ended-before", "2026-12-02T00:00Z", "--force", "--concurrency", "3"
    )

    assert outcome_lines(out) == [
        f"Teleconsultation {visit}: 3 of 3 uploads deleted" for visit in sorted(visits)
    ]
    assert simulator.uploads() == []


def test_concurrency_is_bounded():
    with pytest.raises(CommandError, match="more than 64 items at once"):
        run(*CLEANUP, "--concurrency", "65")
