"""Races: a room swap that loses to another write, many writers on one visit, two reconcile runs.

Whatever the interleaving, no room is orphaned, no intent is left, and no item of a support run
is handled twice.
"""

import re
from dataclasses import replace
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from kaleyra.provider import get_video_provider
from kaleyra.types import ParticipantSpec, Role
from rooms.domain import JobKind, RoomJob, Write
from rooms.services import room_swap
from rooms.storage import get_storage
from rooms.storage.django import DjangoStorage
from tests.conftest import GatewayClient
from tests.rooms.conftest import (
    START,
    body,
    doctor,
    iso,
    jobs,
    patient,
    run_in_parallel,
    stored,
)
from tests.rooms.orphans import orphan_rooms


def people(visit: str) -> list[str]:
    return [member.external_id for member in stored(visit).participants]


def replacing(*others: str) -> dict:
    return {"participants": {"number": 2, "data": [doctor(), *(patient(o) for o in others)]}}


# --- (a) the room swap's stale path ------------------------------------------------------------


@pytest.fixture
def patch_lands_mid_swap(monkeypatch, clock):
    """Makes another PATCH land between a swap's read and its write, on the first `times` swaps
    (it replaces the participants: patient-3, then patient-4, ...); the rooms each swap made. The
    swap stalls past its slot's lease first, so the other PATCH may take the slot over."""

    def arrange(visit: str, *, times: int) -> list[str]:
        create_room = room_swap.create_room
        made, interfering = [], []

        def create_room_then_lose_the_race(wanted, **kwargs):
            room, intent = create_room(wanted, **kwargs)
            if interfering:
                return room, intent  # the interfering PATCH's own room
            made.append(room.id)
            if len(made) <= times:
                interfering.append(True)
                clock.shift(room_swap.LEASE + timedelta(seconds=1))
                other = GatewayClient().patch(
                    f"/teleconsultation/{visit}",
                    replacing(f"patient-{len(made) + 2}"),
                    format="json",
                )
                interfering.clear()
                assert other.status_code == 204
            return room, intent

        monkeypatch.setattr(room_swap, "create_room", create_room_then_lose_the_race)
        return made

    return arrange


@pytest.mark.django_db
@pytest.mark.usefixtures("storage_backend")
def test_a_swap_that_loses_the_race_discards_its_room_and_tries_again(
    api, create, simulator, patch_lands_mid_swap
):
    visit = create([doctor(), patient()])
    made = patch_lands_mid_swap(visit, times=1)

    response = api.patch(f"/teleconsultation/{visit}", replacing("patient-2"), format="json")

    assert response.status_code == 204
    assert people(visit) == ["doctor-1", "patient-2"]  # the retry wrote on what the other wrote
    lost, written = made
    assert not simulator.room_exists(lost)  # discarded: made for a visit that had changed
    assert stored(visit).kaleyra_room_id == written
    assert simulator.rooms() == [written]  # the first room and the other PATCH's are deleted too
    assert jobs("room_intent") == jobs("room_deletion") == []


@pytest.mark.django_db
@pytest.mark.usefixtures("storage_backend")
def test_a_swap_that_loses_three_races_is_a_409_and_leaves_no_room_behind(
    api, create, simulator, patch_lands_mid_swap
):
    visit = create([doctor(), patient()])
    made = patch_lands_mid_swap(visit, times=3)

    response = api.patch(f"/teleconsultation/{visit}", replacing("patient-2"), format="json")

    assert response.status_code == 409
    assert response.json()["message"] == (
        "The teleconsultation was changed by another request meanwhile; try again"
    )
    assert len(made) == 3
    assert people(visit) == ["doctor-1", "patient-5"]  # the last other PATCH's
    assert not any(simulator.room_exists(room) for room in made)
    assert simulator.rooms() == [stored(visit).kaleyra_room_id]
    assert orphan_rooms(simulator) == []
    assert jobs("room_intent") == jobs("room_deletion") == []


# --- (b) many date-only PATCHes on PostgreSQL --------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_date_only_patches_all_succeed_and_the_last_writer_wins(
    simulator, monkeypatch
):
    created = Client().post(
        "/teleconsultation",
        body([doctor(), patient()]),
        content_type="application/json",
        HTTP_ISBACKOFFICE="true",
    )
    visit = created.json()["roomId"]
    room = stored(visit).kaleyra_room_id
    written = []  # the starts in the order the writes happened (each under the row lock)
    save = DjangoStorage._save

    def save_in_order(self, before, after, *, actor):
        written.append(after.start)
        return save(self, before, after, actor=actor)

    monkeypatch.setattr(DjangoStorage, "_save", save_in_order)
    simulator.reset_call_log()
    starts = [START + timedelta(minutes=minute) for minute in range(1, 51)]

    def patching(start):
        return lambda: (
            Client()
            .patch(
                f"/teleconsultation/{visit}",
                {"start_date": iso(start)},
                content_type="application/json",
                HTTP_ISBACKOFFICE="true",
            )
            .status_code
        )

    statuses = run_in_parallel([patching(start) for start in starts])

    assert statuses == [204] * 50
    assert sorted(written) == starts
    assert stored(visit).start == written[-1]
    assert stored(visit).kaleyra_room_id == room  # same duration: the room is kept
    assert simulator.call_count() == 0


# --- (b2) many participant-changing PATCHes on PostgreSQL -----------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_participant_changes_create_at_most_one_room_more_than_succeed(
    simulator, capsys
):
    created = Client().post(
        "/teleconsultation",
        body([doctor(), patient()]),
        content_type="application/json",
        HTTP_ISBACKOFFICE="true",
    )
    visit = created.json()["roomId"]
    simulator.reset_call_log()

    def patching(other):
        return lambda: (
            Client()
            .patch(
                f"/teleconsultation/{visit}",
                replacing(other),
                content_type="application/json",
                HTTP_ISBACKOFFICE="true",
            )
            .status_code
        )

    statuses = run_in_parallel([patching(f"patient-{n}") for n in range(2, 52)])

    successes = statuses.count(204)
    made = simulator.call_count("create_room")
    with capsys.disabled():
        print(f"\n50 participant-changing PATCHes: {successes} succeeded, {made} rooms created")
    assert set(statuses) <= {204, 409}
    assert successes >= 1
    assert made <= successes + 1
    assert simulator.rooms() == [stored(visit).kaleyra_room_id]
    assert orphan_rooms(simulator) == []
    assert jobs("room_intent") == jobs("room_deletion") == jobs("room_swap") == []


# --- (c) many completing additions in CRUD mode --------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("storage_backend", ["crud"], indirect=True)
def test_fifty_concurrent_completing_additions_make_exactly_one_room(storage_backend, simulator):
    created = Client().post(
        "/teleconsultation",
        body([doctor()], number=2),
        content_type="application/json",
        HTTP_ISBACKOFFICE="true",
    )
    visit = created.json()["roomId"]

    def adding(user_id):
        return lambda: (
            Client()
            .post(
                f"/teleconsultation/{visit}/participants/data",
                patient(user_id),
                content_type="application/json",
                HTTP_ISBACKOFFICE="true",
            )
            .status_code
        )

    statuses = run_in_parallel([adding(f"patient-{n}") for n in range(50)])

    assert sorted(statuses) == [201] + [409] * 49
    (winner,) = [f"patient-{n}" for n, status in enumerate(statuses) if status == 201]
    assert people(visit) == ["doctor-1", winner]
    assert simulator.call_count("create_room") == 1
    assert simulator.rooms() == [stored(visit).kaleyra_room_id]
    assert jobs("room_intent") == []


# --- (d) two reconcile runs at once on PostgreSQL ------------------------------------------------


def rooms_to_delete(count: int) -> list[str]:
    """Rooms left for reconcile to delete, as a failed deletion leaves them."""
    provider = get_video_provider()
    users = [provider.create_user(user_id=f"user-{n}", role=Role.PLUS).id for n in range(2)]
    specs = [ParticipantSpec(user_id=user, is_admin=True, tools={}) for user in users]
    rooms = [
        provider.create_room(participants=specs, duration=None, live=True).id for _ in range(count)
    ]
    get_storage().record_jobs(
        [RoomJob(kind=JobKind.ROOM_DELETION, key=room, reason="deleted") for room in rooms]
    )
    return rooms


def visits_without_a_room(count: int) -> list[str]:
    """Complete visits whose room was lost (a crash between the room and the write)."""
    visits = []
    for n in range(count):
        created = Client().post(
            "/teleconsultation",
            body([doctor(f"doctor-{n}"), patient(f"patient-{n}")]),
            content_type="application/json",
            HTTP_ISBACKOFFICE="true",
        )
        visit = created.json()["roomId"]
        get_storage().update(
            visit,
            lambda fresh: Write(replace(fresh, kaleyra_room_id=None, room_claim=None)),
            actor="test",
        )
        visits.append(visit)
    return visits


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_reconcile_runs_at_once_never_handle_an_item_twice(simulator):
    doomed = rooms_to_delete(30)
    roomless = visits_without_a_room(10)
    simulator.reset_call_log()

    def reconcile():
        out = StringIO()
        call_command("reconcile_rooms", stdout=out, stderr=StringIO())
        return out.getvalue()

    outputs = run_in_parallel([reconcile, reconcile])

    # One run holds the lock and does everything; the other is refused (or, had it started only
    # once the first was over, finds nothing left).
    refused = [out for out in outputs if isinstance(out, CommandError)]
    assert all("Another run of reconcile_rooms is under way" in str(out) for out in refused)
    done = sorted(
        int(re.search(r"Summary: (\d+) done", out).group(1))
        for out in outputs
        if out not in refused
    )
    assert done in ([len(doomed) + len(roomless)], [0, len(doomed) + len(roomless)]), outputs
    assert simulator.call_count("delete_room") == len(doomed)
    assert simulator.call_count("create_room") == len(roomless)
    assert not any(simulator.room_exists(room) for room in doomed)
    assert all(simulator.room_exists(stored(visit).kaleyra_room_id) for visit in roomless)
    assert jobs("room_deletion") == jobs("run_lock") == []
