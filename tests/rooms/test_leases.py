"""One room swap per visit at a time (the swap slot), and the leases that tell a dead worker's
room jobs from a live one's (rooms/services/room_swap.py)."""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from rooms.domain import JobKind, RoomJob
from rooms.services import room_swap
from rooms.storage import get_storage
from tests.rooms.conftest import NOW, doctor, iso, jobs, patient, stored
from tests.rooms.orphans import orphan_rooms

pytestmark = [pytest.mark.django_db]
on_both_backends = pytest.mark.usefixtures("storage_backend")


def replacing(other: str) -> dict:
    return {"participants": {"number": 2, "data": [doctor(), patient(other)]}}


def another_swap_holds_the_slot(visit: str) -> room_swap.SwapSlot:
    """A live worker's slot: taken now, so its lease runs for LEASE from now."""
    with room_swap.Heartbeat() as heartbeat:
        slot = room_swap.SwapSlot(visit, heartbeat=heartbeat)
        slot.take()
    return slot


@on_both_backends
def test_a_change_needing_a_new_room_while_another_swap_goes_on_is_a_409_without_calling_kaleyra(
    api, create, simulator, monkeypatch
):
    monkeypatch.setattr(room_swap, "SWAP_WAIT", timedelta(0))  # gives up at once
    visit = create([doctor(), patient()])
    room = stored(visit).kaleyra_room_id
    another_swap_holds_the_slot(visit)
    simulator.reset_call_log()

    response = api.patch(f"/teleconsultation/{visit}", replacing("patient-2"), format="json")

    assert response.status_code == 409
    assert response.json()["message"] == (
        "The teleconsultation was changed by another request meanwhile; try again"
    )
    assert simulator.call_count("create_room") == 0
    assert [member.external_id for member in stored(visit).participants] == [
        "doctor-1",
        "patient-1",
    ]
    assert stored(visit).kaleyra_room_id == room
    assert jobs("room_intent") == []
    assert [slot.key for slot in jobs("room_swap")] == [visit]  # still the other swap's


@on_both_backends
def test_a_change_that_keeps_the_room_needs_no_slot(api, create, simulator, monkeypatch):
    monkeypatch.setattr(room_swap, "SWAP_WAIT", timedelta(0))
    visit = create([doctor(), patient()])
    room = stored(visit).kaleyra_room_id
    another_swap_holds_the_slot(visit)
    start = stored(visit).start + timedelta(minutes=30)

    response = api.patch(
        f"/teleconsultation/{visit}",
        {"start_date": iso(start)},
        format="json",
    )

    assert response.status_code == 204
    assert stored(visit).start == start
    assert stored(visit).kaleyra_room_id == room  # same duration: the room is kept


@on_both_backends
def test_a_dead_workers_slot_is_taken_over_once_its_lease_has_run_out(
    api, create, simulator, clock, monkeypatch
):
    monkeypatch.setattr(room_swap, "SWAP_WAIT", timedelta(0))
    visit = create([doctor(), patient()])
    old_room = stored(visit).kaleyra_room_id
    another_swap_holds_the_slot(visit)  # and its worker dies: nobody renews it
    clock.shift(room_swap.LEASE + timedelta(seconds=1))

    response = api.patch(f"/teleconsultation/{visit}", replacing("patient-2"), format="json")

    assert response.status_code == 204
    assert stored(visit).kaleyra_room_id != old_room
    assert simulator.rooms() == [stored(visit).kaleyra_room_id]
    assert jobs("room_swap") == []  # taken over, then released
    assert orphan_rooms(simulator) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("storage_backend", ["crud"], indirect=True)
def test_a_slow_provider_call_keeps_its_slot_and_intent_alive(
    storage_backend, api, create, simulator, monkeypatch
):
    """The heartbeat renews the swap slot and the intent while Kaleyra takes its time (on the
    CRUD backend: the heartbeat's thread needs a database of its own otherwise)."""

    def beat_every_millisecond(stopped, seconds):
        time.sleep(0.001)  # a sleep, not a timed wait: that never ends under faketime
        return stopped.is_set()

    monkeypatch.setattr(room_swap, "pause", beat_every_millisecond)
    visit = create([doctor(), patient()])
    renewed: list[tuple[JobKind, bool]] = []
    both_renewed = threading.Event()
    storage_class = type(get_storage())
    renew = storage_class.renew_held_job

    def renew_and_tell(self, job):
        held = renew(self, job)
        renewed.append((job.kind, held))
        if {kind for kind, _ in renewed} >= {JobKind.ROOM_SWAP, JobKind.ROOM_INTENT}:
            both_renewed.set()
        return held

    monkeypatch.setattr(storage_class, "renew_held_job", renew_and_tell)
    make_room = room_swap._make_room

    def slow_make_room(wanted, *, tag):
        for _ in range(1000):  # Kaleyra answers once both are renewed (10 s at most)
            if both_renewed.is_set():
                return make_room(wanted, tag=tag)
            time.sleep(0.01)
        raise AssertionError(f"not renewed while Kaleyra was slow: {renewed}")

    monkeypatch.setattr(room_swap, "_make_room", slow_make_room)

    response = api.patch(f"/teleconsultation/{visit}", replacing("patient-2"), format="json")

    assert response.status_code == 204
    assert (JobKind.ROOM_SWAP, True) in renewed
    assert (JobKind.ROOM_INTENT, True) in renewed
    assert jobs("room_swap") == jobs("room_intent") == []


@on_both_backends
def test_reconcile_selects_a_held_intent_by_its_last_renewal_and_an_older_one_by_its_age(clock):
    """An intent written by a release before leases holds none: it keeps the 5 minutes' grace."""
    storage = get_storage()

    def intent(key: str, *, held: bool) -> RoomJob:
        job = RoomJob(kind=JobKind.ROOM_INTENT, key=key, payload={"run": key} if held else None)
        storage.record_jobs([job])
        return job

    clock.move_to(NOW - timedelta(minutes=10))
    intent("unleased-old", held=False)
    renewed_late = intent("held-renewed-late", held=True)
    clock.move_to(NOW - timedelta(minutes=2))
    intent("unleased-young", held=False)
    intent("held-dead", held=True)
    clock.move_to(NOW - timedelta(seconds=5))
    assert storage.renew_held_job(renewed_late)
    clock.move_to(NOW)
    now = timezone.now()

    selected = [
        job.key
        for batch in storage.job_batches(
            JobKind.ROOM_INTENT,
            created_before=now - timedelta(minutes=5),
            renewed_before=now - room_swap.LEASE,
        )
        for job in batch
    ]

    assert sorted(selected) == ["held-dead", "unleased-old"]
