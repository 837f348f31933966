"""The storage's chunk methods, on both backends: what a support command writes a chunk of items
with (`update_many`, `rooms_in_use`, `record_audits`), the run lock's `forget_stale_job`, and
the Django backend's promise that a chunk costs the same few statements whatever its size."""

from dataclasses import replace
from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rooms.domain import AuditEntry, JobKind, RoomJob, State, Write
from rooms.errors import TeleconsultationNotFound
from rooms.rules.permissions import Forbidden
from rooms.selectors import room_details
from rooms.services import support
from rooms.services.concurrency import Pool
from rooms.storage import get_storage
from tests.rooms.conftest import NOW, doctor, jobs, patient, stored

pytestmark = [pytest.mark.usefixtures("storage_backend"), pytest.mark.django_db]


@pytest.fixture
def visits(create):
    def make(n: int) -> list[str]:
        return [create([doctor(f"doctor-{i}"), patient(f"patient-{i}")]) for i in range(n)]

    return make


def to_trash(fresh):
    if fresh is None:
        raise TeleconsultationNotFound("gone")
    return Write(replace(fresh, state=State.TRASH), record=(deletion(fresh.kaleyra_room_id),))


def deletion(room_id: str) -> RoomJob:
    return RoomJob(kind=JobKind.ROOM_DELETION, key=room_id, reason="test")


def test_update_many_writes_each_change_with_its_jobs(visits):
    first, second = visits(2)
    rooms = [stored(first).kaleyra_room_id, stored(second).kaleyra_room_id]

    results = get_storage().update_many({first: to_trash, second: to_trash}, actor="tester")

    for visit in (first, second):
        before, after = results[visit]
        assert before.state == State.PUBLIC and after.state == State.TRASH
        assert after.updated_by == "tester"
        assert stored(visit).state == State.TRASH and stored(visit).updated_by == "tester"
    assert sorted(job.key for job in jobs("room_deletion")) == sorted(rooms)


def test_update_many_gives_back_a_refusal_and_writes_the_others(visits):
    kept, trashed = visits(2)
    as_it_was = stored(kept)

    def refuse(fresh):
        raise Forbidden("not yours")

    results = get_storage().update_many({kept: refuse, trashed: to_trash}, actor="tester")

    assert isinstance(results[kept], Forbidden)
    assert stored(kept) == as_it_was
    assert stored(trashed).state == State.TRASH


def test_update_many_sees_none_for_a_visit_gone_or_trashed(visits):
    (visit,) = visits(1)
    get_storage().update_many({visit: to_trash}, actor="tester")

    results = get_storage().update_many(
        {visit: to_trash, "f" * 24: to_trash, "not-an-id": to_trash}, actor="tester"
    )

    assert all(isinstance(result, TeleconsultationNotFound) for result in results.values())
    assert len(jobs("room_deletion")) == 1


def test_update_many_writes_changed_participants(visits):
    (visit,) = visits(1)

    def rename(fresh):
        first, *others = fresh.participants
        renamed = replace(first, full_name="Dr. Grace", access_link="")
        return Write(replace(fresh, participants=(renamed, *others)))

    get_storage().update_many({visit: rename}, actor="tester")

    assert [member.full_name for member in stored(visit).participants] == [
        "Dr. Grace",
        "patient-0",
    ]


def test_forget_stale_job_forgets_a_lock_only_while_it_is_stale(clock):
    storage = get_storage()
    lock = RoomJob(kind=JobKind.RUN_LOCK, key="cleanup_teleconsultations")
    storage.record_job_once(lock)
    clock.move_to(NOW + timedelta(minutes=5))
    storage.set_job_payload(lock, {"run": "alive"})  # renewed
    clock.move_to(NOW + timedelta(minutes=11))
    stale_before = timezone.now() - timedelta(minutes=10)

    assert storage.forget_stale_job(lock, stale_before=stale_before) is False
    assert [job.payload for job in jobs("run_lock")] == [{"run": "alive"}]

    clock.move_to(NOW + timedelta(minutes=16))
    stale_before = timezone.now() - timedelta(minutes=10)
    assert storage.forget_stale_job(lock, stale_before=stale_before) is True
    assert storage.forget_stale_job(lock, stale_before=stale_before) is False  # gone already
    assert jobs("run_lock") == []


def test_rooms_in_use(visits):
    storage = get_storage()
    live, trashed = visits(2)
    live_room, trashed_room = stored(live).kaleyra_room_id, stored(trashed).kaleyra_room_id
    storage.update_many({trashed: to_trash}, actor="tester")

    assert storage.rooms_in_use([live_room, trashed_room, "room_x"]) == {live_room}
    assert storage.rooms_in_use([]) == set()


def test_record_audits_stores_every_entry():
    entries = [
        AuditEntry(
            action="teleconsultation.delete",
            actor="cleanup",
            outcome="done",
            teleconsultation_id=f"{i:024x}",
            request_id="run-1",
            client_type="command",
            detail={"message": f"item {i}"},
            at=NOW,
        )
        for i in range(3)
    ]
    get_storage().record_audits(entries)

    (page,) = get_storage().audit_entries(since=NOW - timedelta(seconds=1))
    assert sorted(entry.teleconsultation_id for entry in page) == [f"{i:024x}" for i in range(3)]
    assert {(entry.request_id, entry.client_type, entry.detail["message"]) for entry in page} == {
        ("run-1", "command", f"item {i}") for i in range(3)
    }


@pytest.mark.usefixtures("django_storage_only")
def test_a_cleanup_chunk_costs_the_same_statements_whatever_its_size(visits):
    """Per-item SQL was the CPU a cleanup spent (issue #12): a chunk is a fixed set of statements
    (one locked read, one UPDATE, the jobs, one forget, the audit)."""
    made = visits(8)

    def statements(chunk: list[str]) -> int:
        with CaptureQueriesContext(connection) as queries, Pool(2, name="test") as pool:
            underway = support.move_to_trash(chunk, actor="tester", pool=pool)
            outcomes = underway.outcomes()
        assert [outcome.result.value for outcome in outcomes] == ["done"] * len(chunk)
        return len(queries)

    assert statements(made[:2]) == statements(made[2:8]) <= 8


class Crash(BaseException):
    """The process dying right after a write (no handler runs)."""


class DyingPool:
    def submit(self, call, *args):
        raise Crash


def test_a_crash_after_a_chunk_is_trashed_leaves_its_room_deletions_recorded(visits, simulator):
    made = visits(3)
    rooms = sorted(stored(visit).kaleyra_room_id for visit in made)

    with pytest.raises(Crash):
        support.move_to_trash(made, actor="tester", pool=DyingPool())

    assert all(stored(visit).state == State.TRASH for visit in made)
    assert sorted(job.key for job in jobs("room_deletion")) == rooms
    call_command("reconcile_rooms", stdout=StringIO(), stderr=StringIO())
    assert jobs("room_deletion") == []
    assert not any(simulator.room_exists(room) for room in rooms)


def test_a_cleanup_chunk_drops_the_cached_details_of_the_rooms_it_deletes(visits):
    made = visits(2)
    rooms = [stored(visit).kaleyra_room_id for visit in made]
    for room in rooms:
        cache.set(room_details.cache_key(room), {"status": "cached"})

    with Pool(2, name="test") as pool:
        support.move_to_trash(made, actor="tester", pool=pool).outcomes()

    assert all(cache.get(room_details.cache_key(room)) is None for room in rooms)
