"""PATCH /teleconsultation/{id}: what changes, when the room is replaced, and when it is locked."""

from datetime import timedelta

import pytest

from tests.rooms.conftest import (
    NOW,
    START,
    doctor,
    iso,
    jobs,
    links,
    mapping,
    patient,
    person,
    stored,
)

pytestmark = [
    pytest.mark.usefixtures("storage_backend"),
    pytest.mark.django_db,
]


def patch(api, room_id, payload):
    return api.patch(f"/teleconsultation/{room_id}", payload, format="json")


def participants(*people, number=None):
    return {"number": number or len(people), "data": list(people)}


def test_a_new_start_alone_keeps_the_duration_and_does_not_touch_kaleyra(api, create, simulator):
    room_id = create([doctor(), patient()], duration=1800)
    before = stored(room_id)
    simulator.reset_call_log()
    new_start = START + timedelta(days=1)
    assert patch(api, room_id, {"start_date": iso(new_start)}).status_code == 204
    after = stored(room_id)
    assert (after.start, after.end) == (new_start, new_start + timedelta(minutes=30))
    assert after.kaleyra_room_id == before.kaleyra_room_id
    assert simulator.call_count() == 0


def test_a_new_duration_replaces_the_room_when_duration_is_limited(
    api, create, simulator, settings
):
    settings.UNLIMITED_TELECONSULTATION = False
    room_id = create([doctor(), patient()], duration=1800)
    old_room = stored(room_id).kaleyra_room_id
    assert patch(api, room_id, {"duration_in_seconds": 3600}).status_code == 204
    new_room = stored(room_id).kaleyra_room_id
    assert new_room != old_room
    assert simulator.get_room_record(new_room)["duration"] == 3600
    assert not simulator.room_exists(old_room)


def test_new_participants_get_a_new_room_and_the_old_one_is_deleted(api, create, simulator):
    room_id = create([doctor(), patient()])
    before = stored(room_id)
    old_room, old_links = before.kaleyra_room_id, set(links(before))
    response = patch(api, room_id, {"participants": participants(doctor(), patient("patient-2"))})
    assert response.status_code == 204
    after = stored(room_id)
    assert [member.external_id for member in after.participants] == ["doctor-1", "patient-2"]
    assert after.kaleyra_room_id != old_room and simulator.room_exists(after.kaleyra_room_id)
    assert not simulator.room_exists(old_room)
    new_links = set(links(after))
    assert all(new_links) and not new_links & old_links
    assert jobs("room_intent") == [] and jobs("room_deletion") == []


def test_a_change_that_does_not_alter_the_room_keeps_it_and_the_links(api, create, simulator):
    room_id = create([doctor(), patient()])
    before_links = links(stored(room_id))
    simulator.reset_call_log()
    renamed = patient(full_name="Mario Bianchi", language="it")
    assert patch(api, room_id, {"participants": participants(doctor(), renamed)}).status_code == 204
    after = stored(room_id)
    assert simulator.call_count() == 0
    assert links(after) == before_links
    assert after.participant("patient-1").full_name == "Mario Bianchi"


def test_completing_through_patch_creates_the_room(api, create, simulator):
    room_id = create([doctor()], number=2)
    assert (
        patch(api, room_id, {"participants": participants(doctor(), patient())}).status_code == 204
    )
    assert simulator.room_exists(stored(room_id).kaleyra_room_id)


def test_raising_the_number_makes_it_incomplete_and_deletes_the_room(api, create, simulator):
    room_id = create([doctor(), patient()])
    old_room = stored(room_id).kaleyra_room_id
    payload = {"participants": participants(doctor(), patient(), number=3)}
    assert patch(api, room_id, payload).status_code == 204
    after = stored(room_id)
    assert after.kaleyra_room_id is None
    assert not simulator.room_exists(old_room)
    assert set(links(after)) == {""}


def test_no_plus_participant_is_refused_with_the_contract_text(api, create):
    room_id = create([doctor(), patient()])
    response = patch(api, room_id, {"participants": participants(patient("a"), patient("b"))})
    assert response.status_code == 400
    assert response.json()["error"] == "Failed PATCH /teleconsultation: no plus user in room"
    assert mapping("a") is None and mapping("b") is None
    assert stored(room_id).participant("a") is None


def test_a_locked_teleconsultation_refuses_changes_with_409_saying_since_when(
    api, create, settings, clock
):
    settings.IMMUTABLE_PERIOD_MS = 60 * 60 * 1000
    room_id = create([doctor(), patient()], start=NOW + timedelta(minutes=90))
    clock.move_to(NOW + timedelta(minutes=31))
    response = patch(api, room_id, {"duration_in_seconds": 900})
    assert response.status_code == 409
    assert "since 2026-12-01T08:30:00.000Z" in response.json()["message"]


def test_an_incomplete_teleconsultation_is_never_locked(api, create, clock):
    room_id = create([doctor()], number=2, start=NOW + timedelta(minutes=10))
    clock.move_to(NOW + timedelta(minutes=20))
    assert patch(api, room_id, {"duration_in_seconds": 3600}).status_code == 204


@pytest.mark.parametrize("room_id", ["0123456789abcdef01234567", "not-an-id"])
def test_an_unknown_teleconsultation_is_a_404(api, room_id):
    response = patch(api, room_id, {"duration_in_seconds": 900})
    assert response.status_code == 404
    assert response.json()["error"] == f"Room with id {room_id} not found on CRUD"


def test_a_deleted_teleconsultation_is_a_404(api, create):
    room_id = create([doctor(), patient()])
    api.delete(f"/teleconsultation/{room_id}")
    assert patch(api, room_id, {"duration_in_seconds": 900}).status_code == 404


def test_a_provider_failure_leaves_the_record_unchanged(api, create, simulator):
    room_id = create([doctor(), patient()])
    before = stored(room_id)
    simulator.fail_next("create_room", mode="500")
    response = patch(api, room_id, {"participants": participants(doctor(), patient("p2"))})
    assert response.status_code == 502
    after = stored(room_id)
    assert after.kaleyra_room_id == before.kaleyra_room_id
    assert [member.external_id for member in after.participants] == ["doctor-1", "patient-1"]


def test_an_old_room_that_cannot_be_deleted_is_kept_for_reconcile(api, create, simulator):
    room_id = create([doctor(), patient()])
    old_room = stored(room_id).kaleyra_room_id
    simulator.fail_next("delete_room", mode="drop", times=10)
    response = patch(api, room_id, {"participants": participants(doctor(), patient("p2"))})
    assert response.status_code == 204
    (pending,) = jobs("room_deletion")
    assert (pending.key, pending.teleconsultation_id) == (old_room, room_id)
    assert pending.attempts == 1


def test_end_date_and_duration_together_are_a_400(api, create):
    room_id = create([doctor(), patient()])
    payload = {"end_date": iso(START + timedelta(hours=1)), "duration_in_seconds": 900}
    assert patch(api, room_id, payload).status_code == 400


def test_a_participant_with_an_unknown_group_is_named(api, create):
    room_id = create([doctor(), patient()])
    payload = {"participants": participants(doctor(), person("x", groups=("guest",)))}
    response = patch(api, room_id, payload)
    assert response.status_code == 400
    assert "user x" in response.json()["message"]
