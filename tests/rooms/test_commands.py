"""The support commands: cleanup_teleconsultations, delete_uploads, reconcile_rooms."""

from dataclasses import replace
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from rooms.domain import JobKind, RoomJob, Write
from rooms.services import room_swap, support
from rooms.services.run_lock import AlreadyRunning, RunLock
from rooms.storage import get_storage
from tests.rooms.conftest import NOW, doctor, jobs, links, patient, stored, visit_count

pytestmark = [pytest.mark.usefixtures("storage_backend"), pytest.mark.django_db]

AFTER_THE_VISITS = NOW + timedelta(days=3)  # every teleconsultation made at NOW has ended


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args) -> tuple[str, str, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), str(failure.value)


def room_of(teleconsultation_id: str) -> str | None:
    return stored(teleconsultation_id).kaleyra_room_id


def state_of(teleconsultation_id: str) -> str:
    return stored(teleconsultation_id).state


def pending_rooms_left() -> list[str]:
    return [job.key for job in jobs("room_deletion")]


@pytest.fixture
def visits(create, clock):
    """n complete teleconsultations, each with its Kaleyra room, starting two hours from NOW."""

    def make(n: int) -> list[str]:
        return [create([doctor(f"doctor-{i}"), patient(f"patient-{i}")]) for i in range(n)]

    return make


# --- cleanup_teleconsultations ---------------------------------------------------------------


def test_cleanup_trashes_ended_teleconsultations_and_deletes_their_rooms(
    visits, create, clock, simulator
):
    ended = visits(2)
    rooms = [room_of(teleconsultation_id) for teleconsultation_id in ended]
    clock.move_to(AFTER_THE_VISITS)
    upcoming = create([doctor(), patient()], start=AFTER_THE_VISITS + timedelta(hours=1))

    out, err = run("cleanup_teleconsultations", "--older-than-days", "1")

    assert [state_of(t) for t in ended] == ["TRASH", "TRASH"]
    assert not any(simulator.room_exists(room) for room in rooms)
    assert state_of(upcoming) == "PUBLIC" and simulator.room_exists(room_of(upcoming))
    assert f"{ended[0]}: moved to trash, Kaleyra room deleted" in out
    assert "Summary: 2 done, 0 partly done, 0 skipped, 0 failed" in out
    assert "progress: 2/2 (100%)" in err


def test_cleanup_in_small_batches_takes_each_visit_once_however_many_end_together(
    visits, create, clock
):
    # Batches go in (end, id) order: five visits ending at the same moment span three batches.
    together = visits(5)
    earlier = create([doctor("d9"), patient("p9")], start=NOW + timedelta(hours=1))
    clock.move_to(AFTER_THE_VISITS)
    out, _err = run("cleanup_teleconsultations", "--older-than-days", "1", "--batch-size", "2")
    assert "Summary: 6 done, 0 partly done, 0 skipped, 0 failed" in out
    assert {state_of(visit) for visit in [*together, earlier]} == {"TRASH"}
    assert out.count(": moved to trash") == 6


def test_cleanup_of_a_visit_without_a_room_says_it_had_none(create, clock, simulator):
    # It used to report "Kaleyra room deleted" for a room that never existed.
    waiting = create([doctor()], number=2)
    clock.move_to(AFTER_THE_VISITS)
    simulator.reset_call_log()
    out, _err = run("cleanup_teleconsultations", "--older-than-days", "1")
    assert f"Teleconsultation {waiting}: moved to trash, it had no Kaleyra room" in out
    assert "Kaleyra room deleted" not in out
    assert "Summary: 1 done, 0 partly done" in out
    assert state_of(waiting) == "TRASH" and simulator.call_count("delete_room") == 0


def test_cleanup_is_not_misled_by_an_older_pending_deletion_of_the_same_visit(
    visits, clock, api, simulator
):
    # A PATCH replaced the room while Kaleyra failed: the old room is pending deletion. Moving the
    # visit to the trash deletes its current room fine, and says so (it used to report a provider
    # failure and stop, because the visit had *a* pending deletion).
    (visit,) = visits(1)
    old_room = room_of(visit)
    simulator.fail_next("delete_room", mode="500")
    changed = {"participants": {"number": 2, "data": [doctor("doctor-0"), patient("other")]}}
    assert api.patch(f"/teleconsultation/{visit}", changed, format="json").status_code == 204
    current_room = room_of(visit)
    assert pending_rooms_left() == [old_room] and current_room != old_room
    clock.move_to(AFTER_THE_VISITS)

    out, _err = run("cleanup_teleconsultations", "--older-than-days", "1")

    assert f"Teleconsultation {visit}: moved to trash, Kaleyra room deleted" in out
    assert "Summary: 1 done, 0 partly done, 0 skipped, 0 failed" in out
    assert "stopped" not in out
    assert state_of(visit) == "TRASH" and not simulator.room_exists(current_room)
    assert pending_rooms_left() == [old_room]  # still reconcile's to delete


def test_cleanup_takes_an_iso_cut_off_with_its_offset(visits, clock):
    (ended,) = visits(1)
    clock.move_to(AFTER_THE_VISITS)
    run("cleanup_teleconsultations", "--ended-before", "2026-12-01T11:00:00+01:00")
    assert state_of(ended) == "PUBLIC"  # ended at 10:30Z, after 10:00Z
    run("cleanup_teleconsultations", "--ended-before", "2026-12-01T12:00:00+01:00")
    assert state_of(ended) == "TRASH"


def test_cleanup_refuses_a_cut_off_without_offset(db):
    _out, _err, message = run_failing(
        "cleanup_teleconsultations", "--ended-before", "2026-12-01T11:00:00"
    )
    assert "has no offset" in message


def test_cleanup_refuses_a_cut_off_in_the_future(visits):
    (upcoming,) = visits(1)
    _out, _err, message = run_failing(
        "cleanup_teleconsultations", "--ended-before", "2027-01-01T00:00:00Z"
    )
    assert "is in the future" in message
    assert state_of(upcoming) == "PUBLIC"


def test_cleanup_needs_to_be_told_what_to_clean(db):
    _out, _err, message = run_failing("cleanup_teleconsultations")
    assert "--older-than-days" in message


def test_cleanup_dry_run_says_what_it_would_do_and_changes_nothing(visits, clock, simulator):
    ended = visits(2)
    clock.move_to(AFTER_THE_VISITS)
    simulator.reset_call_log()
    out, _err = run("cleanup_teleconsultations", "--older-than-days", "1", "--dry-run")
    assert f"would move {ended[0]} to trash and delete its room" in out
    assert "Dry run, nothing changed: 2 would be done" in out
    assert [state_of(t) for t in ended] == ["PUBLIC", "PUBLIC"]
    assert simulator.call_count() == 0


def test_cleanup_walks_every_row_in_small_batches(visits, clock):
    ended = visits(5)
    clock.move_to(AFTER_THE_VISITS)
    out, err = run("cleanup_teleconsultations", "--older-than-days", "1", "--batch-size", "2")
    assert all(state_of(t) == "TRASH" for t in ended)
    assert "Summary: 5 done" in out
    assert "progress: 5/5 (100%)" in err


def test_cleanup_stops_when_the_provider_fails_and_a_rerun_finishes(visits, clock, simulator):
    ended = visits(3)
    clock.move_to(AFTER_THE_VISITS)
    simulator.fail_next("delete_room", mode="500")

    # One at a time: at --concurrency N the items in hand finish (test_commands_concurrency.py).
    out, _err, message = run_failing(
        "cleanup_teleconsultations", "--older-than-days", "1", "--concurrency", "1"
    )

    assert "could not be deleted now; reconcile_rooms will delete it" in out
    assert "stopped: the video provider is failing" in out
    assert "running the command again is safe" in message
    assert sorted(state_of(t) for t in ended) == ["PUBLIC", "PUBLIC", "TRASH"]
    (first,) = [t for t in ended if state_of(t) == "TRASH"]
    first_room = room_of(first)
    assert pending_rooms_left() == [first_room]

    out, _err = run("cleanup_teleconsultations", "--older-than-days", "1")
    assert "Summary: 2 done" in out
    assert all(state_of(t) == "TRASH" for t in ended)
    run("reconcile_rooms")
    assert not simulator.room_exists(first_room)
    assert pending_rooms_left() == []


def test_cleanup_interrupted_reports_what_it_did_and_a_rerun_finishes(visits, clock, monkeypatch):
    ended = visits(3)
    clock.move_to(AFTER_THE_VISITS)
    calls = []
    real = support.move_to_trash

    def interrupted_on_the_second(chunk, **options):
        calls.append(chunk)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(chunk, **options)

    # A chunk of one at a time at --concurrency 1.
    monkeypatch.setattr(support, "move_to_trash", interrupted_on_the_second)
    out, _err, message = run_failing(
        "cleanup_teleconsultations", "--older-than-days", "1", "--concurrency", "1"
    )
    assert "Summary: 1 done" in out and "interrupted: run it again to carry on" in out
    assert "(interrupted)" in message
    assert jobs("run_lock") == []  # released even so

    monkeypatch.setattr(support, "move_to_trash", real)
    out, _err = run("cleanup_teleconsultations", "--older-than-days", "1")
    assert "Summary: 2 done" in out
    assert all(state_of(t) == "TRASH" for t in ended)


def test_purge_erases_long_trashed_records_and_keeps_recent_ones(visits, clock, api):
    old, recent = visits(2)
    api.delete(f"/teleconsultation/{old}")
    clock.move_to(NOW + timedelta(days=40))
    api.delete(f"/teleconsultation/{recent}")

    out, _err = run(
        "cleanup_teleconsultations", "--purge-trash-older-than-days", "30", "--batch-size", "1"
    )

    assert f"Teleconsultation {old}: erased" in out
    assert stored(old) is None
    assert visit_count() == 1
    assert state_of(recent) == "TRASH"


def test_purge_dry_run_erases_nothing(visits, clock, api):
    (old,) = visits(1)
    api.delete(f"/teleconsultation/{old}")
    clock.move_to(NOW + timedelta(days=40))
    out, _err = run("cleanup_teleconsultations", "--purge-trash-older-than-days", "30", "--dry-run")
    assert f"would erase {old} for good" in out
    assert state_of(old) == "TRASH"


# --- delete_uploads --------------------------------------------------------------------------


def test_delete_uploads_refuses_when_disabled_without_force(visits, clock, simulator):
    (ended,) = visits(1)
    simulator.add_upload(room_of(ended))
    clock.move_to(AFTER_THE_VISITS)
    _out, _err, message = run_failing("delete_uploads", "--room", ended)
    assert "TELECONSULTATION_DELETE_UPLOADS is false" in message
    assert "--force" in message
    assert len(simulator.uploads()) == 1


def test_delete_uploads_deletes_those_of_visits_ended_in_the_window_trash_included(
    visits, create, clock, simulator, settings, api
):
    settings.TELECONSULTATION_DELETE_UPLOADS = True
    first, trashed = visits(2)
    for teleconsultation_id in (first, trashed):
        simulator.add_upload(room_of(teleconsultation_id))
        simulator.add_upload(room_of(teleconsultation_id), upload_type="snapshot")
    api.delete(f"/teleconsultation/{trashed}")
    later = create([doctor(), patient()], start=NOW + timedelta(days=1))
    simulator.add_upload(room_of(later))
    clock.move_to(AFTER_THE_VISITS)

    out, _err = run(
        "delete_uploads",
        "--ended-after",
        "2026-12-01T00:00:00Z",
        "--ended-before",
        "2026-12-02T00:00:00Z",
    )

    assert f"Teleconsultation {first}: 2 of 2 uploads deleted" in out
    assert f"Teleconsultation {trashed}: 2 of 2 uploads deleted" in out
    assert [upload.room_id for upload in simulator.uploads()] == [room_of(later)]


def test_delete_uploads_of_one_room_with_force(visits, clock, simulator):
    (ended,) = visits(1)
    simulator.add_upload(room_of(ended))
    out, _err = run("delete_uploads", "--room", ended, "--force")
    assert f"Teleconsultation {ended}: 1 of 1 uploads deleted" in out
    assert simulator.uploads() == []


def test_delete_uploads_of_an_unknown_room_fails(db, settings):
    settings.TELECONSULTATION_DELETE_UPLOADS = True
    out, _err, _message = run_failing("delete_uploads", "--room", "0123456789abcdef01234567")
    assert "not found" in out
    assert "Summary: 0 done, 0 partly done, 0 skipped, 1 failed" in out


def test_delete_uploads_needs_a_room_or_a_window(db):
    _out, _err, message = run_failing("delete_uploads", "--force")
    assert "--room ID" in message


def test_delete_uploads_dry_run_deletes_nothing(visits, clock, simulator):
    (ended,) = visits(1)
    simulator.add_upload(room_of(ended))
    clock.move_to(AFTER_THE_VISITS)
    out, _err = run("delete_uploads", "--ended-before", "2026-12-02T00:00Z", "--force", "--dry-run")
    assert f"would delete the uploads of {ended}" in out
    assert len(simulator.uploads()) == 1


def test_delete_uploads_walks_every_row_in_small_batches(visits, clock, simulator):
    ended = visits(5)
    for teleconsultation_id in ended:
        simulator.add_upload(room_of(teleconsultation_id))
    clock.move_to(AFTER_THE_VISITS)
    out, err = run(
        "delete_uploads", "--ended-before", "2026-12-02T00:00Z", "--force", "--batch-size", "2"
    )
    assert simulator.uploads() == []
    assert "Summary: 5 done" in out
    assert "progress: 5/5 (100%)" in err


def test_delete_uploads_stops_when_the_provider_fails_and_a_rerun_finishes(
    visits, clock, simulator
):
    ended = visits(3)
    for teleconsultation_id in ended:
        simulator.add_upload(room_of(teleconsultation_id))
    clock.move_to(AFTER_THE_VISITS)
    simulator.fail_next("iter_room_uploads", mode="500")
    window = ("delete_uploads", "--ended-before", "2026-12-02T00:00Z", "--force")

    out, _err, _message = run_failing(*window)

    assert (
        "uploads not deleted: the video provider (Kaleyra) answered with an error (status 500)"
        in out
    )
    assert "Summary: 0 done, 0 partly done, 0 skipped, 1 failed" in out
    assert len(simulator.uploads()) == 3

    out, _err = run(*window)
    assert "Summary: 3 done" in out
    assert simulator.uploads() == []


# --- reconcile_rooms -------------------------------------------------------------------------


@pytest.fixture
def pending_rooms(visits, api, simulator):
    """n teleconsultations deleted while Kaleyra failed: their rooms are pending deletion."""

    def make(n: int) -> list[str]:
        rooms = []
        for teleconsultation_id in visits(n):
            rooms.append(room_of(teleconsultation_id))
            simulator.fail_next("delete_room", mode="500")
            assert api.delete(f"/teleconsultation/{teleconsultation_id}").status_code == 204
        assert sorted(pending_rooms_left()) == sorted(rooms)
        return rooms

    return make


@pytest.fixture
def lose_room(clock):
    """What a crash between creating and storing a room leaves: complete, without a room (and
    with a room claim written `claimed_minutes_ago`, when given). Written through storage with
    the clock set back, so every backend stamps the claim as that old."""

    def lose(teleconsultation_id: str, *, claimed_minutes_ago: int | None = None) -> None:
        claim = "c" * 32 if claimed_minutes_ago is not None else None
        now = timezone.now()
        clock.move_to(now - timedelta(minutes=claimed_minutes_ago or 0))
        get_storage().update(
            teleconsultation_id,
            lambda fresh: Write(replace(fresh, kaleyra_room_id=None, room_claim=claim)),
            actor="test",
        )
        clock.move_to(now)
        assert stored(teleconsultation_id).room_claim == claim

    return lose


def test_reconcile_deletes_the_rooms_left_pending(pending_rooms, simulator):
    rooms = pending_rooms(2)
    out, _err = run("reconcile_rooms")
    assert not any(simulator.room_exists(room) for room in rooms)
    assert pending_rooms_left() == []
    assert f"room {rooms[0]}" in out and "Summary: 2 done" in out


def test_reconcile_gives_a_room_to_complete_teleconsultations_without_one(
    visits, lose_room, simulator
):
    stranded, stale_claim = visits(2)
    lose_room(stranded)
    lose_room(stale_claim, claimed_minutes_ago=10)
    out, _err = run("reconcile_rooms")
    assert simulator.room_exists(room_of(stranded))
    assert simulator.room_exists(room_of(stale_claim))
    assert all(links(stored(stranded)))
    assert f"Teleconsultation {stranded}: new Kaleyra room" in out


def test_reconcile_leaves_a_fresh_room_claim_to_the_request_holding_it(visits, lose_room):
    (claimed,) = visits(1)
    lose_room(claimed, claimed_minutes_ago=0)
    out, _err = run("reconcile_rooms")
    assert room_of(claimed) is None
    assert "0 complete teleconsultation(s) without a room" in out


def test_reconcile_leaves_an_older_claim_to_a_live_request_holding_the_swap_slot(
    visits, lose_room, clock, simulator
):
    (claimed,) = visits(1)
    lose_room(claimed, claimed_minutes_ago=2)
    with room_swap.Heartbeat() as heartbeat:
        room_swap.SwapSlot(claimed, heartbeat=heartbeat).take()  # renewed: its worker is alive
    simulator.reset_call_log()
    out, _err = run("reconcile_rooms")
    assert room_of(claimed) is None
    assert f"Teleconsultation {claimed}: a request is giving it a room, left to it" in out
    assert simulator.call_count("create_room") == 0

    clock.shift(room_swap.LEASE + timedelta(seconds=1))  # its worker died: the lease runs out
    out, _err = run("reconcile_rooms")
    assert simulator.room_exists(room_of(claimed))
    assert jobs("room_swap") == []


def test_reconcile_skips_teleconsultations_that_are_over(visits, lose_room, clock):
    (over,) = visits(1)
    lose_room(over)
    clock.move_to(AFTER_THE_VISITS)
    run("reconcile_rooms")
    assert room_of(over) is None


def test_reconcile_dry_run_changes_nothing(pending_rooms, visits, lose_room, simulator):
    (room,) = pending_rooms(1)
    (stranded,) = visits(1)
    lose_room(stranded)
    out, _err = run("reconcile_rooms", "--dry-run")
    assert f"would delete room {room} (reason: deleted)" in out
    assert f"would create a Kaleyra room for {stranded}" in out
    assert simulator.room_exists(room) and room_of(stranded) is None


def test_reconcile_stops_at_the_first_provider_failure_and_a_rerun_finishes(
    pending_rooms, simulator
):
    rooms = pending_rooms(3)
    simulator.reset_call_log()
    simulator.fail_next("delete_room", mode="500")

    out, _err, message = run_failing("reconcile_rooms", "--concurrency", "1")

    assert simulator.call_count("delete_room") == 1  # not hammered: the others were not tried
    assert "failed again; still pending" in out
    assert "stopped: the video provider is failing" in out
    assert "running the command again is safe" in message
    # Equal attempts leave the order to the job ids (random): whichever was tried counts two
    # (the API's and this one), the others were not tried.
    assert sorted(job.attempts for job in jobs("room_deletion")) == [1, 1, 2]

    out, _err = run("reconcile_rooms")
    assert "Summary: 3 done" in out
    assert pending_rooms_left() == []
    assert not any(simulator.room_exists(room) for room in rooms)


def test_reconcile_tries_the_room_that_keeps_failing_last(pending_rooms):
    rooms = pending_rooms(2)
    (failing,) = [job for job in jobs("room_deletion") if job.key == rooms[0]]
    for _ in range(4):
        get_storage().job_failed(failing, "KaleyraServerError: status 500")
    assert {job.key: job.attempts for job in jobs("room_deletion")}[rooms[0]] == 5
    out, _err = run("reconcile_rooms")
    assert out.index(f"room {rooms[1]}") < out.index(f"room {rooms[0]}")


def test_reconcile_walks_every_row_in_small_batches(pending_rooms):
    pending_rooms(5)
    out, err = run("reconcile_rooms", "--batch-size", "2")
    assert "Summary: 5 done" in out
    assert "progress: 5/5 (100%)" in err
    assert pending_rooms_left() == []


def test_reconcile_with_nothing_to_do_succeeds(db):
    out, _err = run("reconcile_rooms")
    assert (
        "0 room(s) to delete, 0 unfinished room intent(s), 0 complete teleconsultation(s) "
        "without a room, 0 live room(s) to check"
    ) in out
    assert "Summary: 0 done" in out


def test_cleanup_prints_its_cut_off_to_the_second(db, clock):
    clock.move_to(NOW + timedelta(microseconds=123456))
    out, _err = run("cleanup_teleconsultations", "--older-than-days", "30")
    cut_off = (NOW - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    assert f"0 teleconsultation(s) ended before {cut_off}.000Z\n" in out


def test_reconcile_failing_on_its_last_item_does_not_say_it_stopped_early(pending_rooms, simulator):
    pending_rooms(1)
    simulator.fail_next("delete_room", mode="500")
    out, _err, message = run_failing("reconcile_rooms")
    assert "failed again; still pending" in out
    assert "stopped" not in out and "stopped early" not in message
    assert "1 item(s) not done" in message


def test_the_backlog_and_reconcile_outcomes_reach_the_metrics(pending_rooms, client):
    from prometheus_client import REGISTRY

    def done_count() -> float:
        labels = {"outcome": "done"}
        return REGISTRY.get_sample_value("teleconsultation_reconcile_outcomes_total", labels) or 0

    pending_rooms(2)
    scrape = client.get("/-/metrics").content.decode()
    assert "teleconsultation_pending_room_deletions 2.0" in scrape
    before = done_count()
    run("reconcile_rooms")
    assert done_count() == before + 2
    assert (
        "teleconsultation_pending_room_deletions 0.0" in client.get("/-/metrics").content.decode()
    )


@pytest.mark.parametrize("concurrency", ["1", "4"])
def test_reconcile_never_deletes_a_room_a_live_visit_holds(
    pending_rooms, visits, simulator, concurrency
):
    (gone,) = pending_rooms(1)
    (live,) = visits(1)
    held = room_of(live)
    # A deletion recorded by a write whose compare-and-set then lost: the visit kept the room.
    get_storage().record_jobs(
        [RoomJob(kind=JobKind.ROOM_DELETION, key=held, teleconsultation_id=live, reason="lost")]
    )

    out, _err = run("reconcile_rooms", "--concurrency", concurrency)

    assert f"room {held} (teleconsultation {live}): in use by a live teleconsultation, kept" in out
    assert f"room {gone}" in out and "deleted" in out
    assert simulator.room_exists(held) and not simulator.room_exists(gone)
    assert pending_rooms_left() == []


# --- one run at a time -----------------------------------------------------------------------


def another_runs(name: str) -> RoomJob:
    """The lock another host's run of `name` holds while it works."""
    lock = RoomJob(
        kind=JobKind.RUN_LOCK,
        key=name,
        payload={"run": f"{name}-elsewhere", "host": "cron-7f9c", "pid": 41},
    )
    assert get_storage().record_job_once(lock) is None
    return lock


@pytest.mark.parametrize(
    "command",
    [
        ("cleanup_teleconsultations", "--older-than-days", "1"),
        ("delete_uploads", "--ended-before", "2026-12-02T00:00Z", "--force"),
        ("reconcile_rooms",),
    ],
)
def test_a_run_while_another_holds_the_commands_lock_is_refused_and_does_nothing(
    visits, clock, simulator, command
):
    ended = visits(2)
    for teleconsultation_id in ended:
        simulator.add_upload(room_of(teleconsultation_id))
    clock.move_to(AFTER_THE_VISITS)
    another_runs(command[0])

    out, _err, message = run_failing(*command)

    assert f"Another run of {command[0]} is under way" in message
    assert f"run {command[0]}-elsewhere, host cron-7f9c, pid 41" in message
    assert "nothing was done" in message and out == ""
    assert all(state_of(t) == "PUBLIC" for t in ended)
    assert len(simulator.uploads()) == 2
    assert [job.key for job in jobs("run_lock")] == [command[0]]  # still the other run's
    assert not [
        entry
        for batch in get_storage().audit_entries(since=NOW - timedelta(days=1))
        for entry in batch
        if entry.action.startswith("command.")
    ]


def test_the_lock_of_another_command_or_a_dry_run_is_no_obstacle(visits, clock):
    (ended,) = visits(1)
    clock.move_to(AFTER_THE_VISITS)
    another_runs("cleanup_teleconsultations")
    out, _err = run("cleanup_teleconsultations", "--older-than-days", "1", "--dry-run")
    assert f"would move {ended} to trash" in out  # a dry run changes nothing: no lock
    another_runs("reconcile_rooms")
    get_storage().forget_jobs([RoomJob(kind=JobKind.RUN_LOCK, key="cleanup_teleconsultations")])

    out, _err = run("cleanup_teleconsultations", "--older-than-days", "1")

    assert "Summary: 1 done" in out
    assert [job.key for job in jobs("run_lock")] == ["reconcile_rooms"]


def test_the_lock_of_a_run_that_died_is_taken_over_once_stale(visits, clock):
    (ended,) = visits(1)
    clock.move_to(AFTER_THE_VISITS)
    another_runs("cleanup_teleconsultations")
    clock.move_to(AFTER_THE_VISITS + timedelta(minutes=9))
    run_failing("cleanup_teleconsultations", "--older-than-days", "1")  # alive, for all we know

    clock.move_to(AFTER_THE_VISITS + timedelta(minutes=10, seconds=1))
    out, _err = run("cleanup_teleconsultations", "--older-than-days", "1")

    assert "Summary: 1 done" in out and state_of(ended) == "TRASH"
    assert jobs("run_lock") == []


def test_a_run_renews_its_lock_so_a_long_run_is_never_taken_for_dead(db, clock):
    mine = RunLock("reconcile_rooms", run_id="reconcile_rooms-mine")
    mine.take()
    clock.move_to(NOW + timedelta(minutes=8))
    mine.renew()
    clock.move_to(NOW + timedelta(minutes=16))  # 16 minutes old, renewed 8 minutes ago

    with pytest.raises(AlreadyRunning, match="run reconcile_rooms-mine"):
        RunLock("reconcile_rooms", run_id="reconcile_rooms-other").take()

    clock.move_to(NOW + timedelta(minutes=18, seconds=1))
    RunLock("reconcile_rooms", run_id="reconcile_rooms-other").take()
    (lock,) = jobs("run_lock")
    assert lock.payload["run"] == "reconcile_rooms-other"


def test_a_stalled_run_whose_lock_was_taken_over_never_touches_the_new_runs_lock(
    storage_backend, clock, caplog
):
    stalled = RunLock("reconcile_rooms", run_id="reconcile_rooms-stalled")
    stalled.take()
    clock.move_to(NOW + timedelta(minutes=10, seconds=1))  # not renewed: taken for dead
    RunLock("reconcile_rooms", run_id="reconcile_rooms-new").take()
    clock.move_to(NOW + timedelta(minutes=12))

    stalled.renew()
    stalled.release()

    (lock,) = jobs("run_lock")
    assert lock.payload["run"] == "reconcile_rooms-new"
    assert "taken over by another run" in caplog.text
    # The stalled run's renewal at 12 minutes did not count for the new run's lock: 10 minutes
    # after the new run took it (and never renewed it), it is stale.
    clock.move_to(NOW + timedelta(minutes=20, seconds=2))
    RunLock("reconcile_rooms", run_id="reconcile_rooms-third").take()
    (lock,) = jobs("run_lock")
    assert lock.payload["run"] == "reconcile_rooms-third"


def test_a_run_releases_its_own_lock_on_either_backend(storage_backend):
    mine = RunLock("cleanup_teleconsultations", run_id="cleanup_teleconsultations-mine")
    mine.take()
    mine.release()
    assert jobs("run_lock") == []


def test_a_lease_left_by_a_run_of_the_previous_release_is_ignored(
    pending_rooms, storage_backend, settings
):
    """Runs of the previous release took a `lease` job per item; one that died left its lease.
    Mia's collection keeps it (the Django backend's migration 0006 erases them); no query of
    this release reads it."""
    (room,) = pending_rooms(1)
    storage = get_storage()
    if storage_backend == "crud":
        leftover = {"kind": "lease", "key": f"reconcile:{room}", "__STATE__": "PUBLIC"}
        storage.client.create(settings.ROOM_JOBS_CRUD_NAME, leftover)
    else:
        from rooms import models

        models.RoomJob.objects.create(kind="lease", key=f"reconcile:{room}")

    out, _err = run("reconcile_rooms")
    assert "Summary: 1 done" in out and pending_rooms_left() == []
    out, _err = run("cleanup_teleconsultations", "--older-than-days", "1")
    assert "Summary: 0 done" in out
