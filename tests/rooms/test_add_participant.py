"""POST /teleconsultation/{id}/participants/data: the last participant makes the room."""

import pytest

from tests.rooms.conftest import doctor, jobs, links, mapping, patient, stored

pytestmark = [
    pytest.mark.usefixtures("storage_backend"),
    pytest.mark.django_db,
]


def add(api, room_id, entry):
    return api.post(f"/teleconsultation/{room_id}/participants/data", entry, format="json")


def test_adding_the_last_participant_creates_the_room_with_everyone(api, create, simulator):
    room_id = create([doctor()], number=2)
    response = add(api, room_id, patient())
    assert response.status_code == 201
    assert response.content == b""
    visit = stored(room_id)
    room = simulator.get_room_record(visit.kaleyra_room_id)
    assert len(room["participants"]) == 2
    assert len(visit.participants) == 2 and all(links(visit))
    assert visit.room_claim is None
    assert jobs("room_intent") == []


def test_adding_a_participant_that_does_not_complete_makes_no_room(api, create, simulator):
    room_id = create([doctor()], number=3)
    assert add(api, room_id, patient()).status_code == 201
    assert simulator.call_count("create_room") == 0
    assert len(stored(room_id).participants) == 2


def test_an_unknown_teleconsultation_is_a_404(api):
    response = add(api, "0123456789abcdef01234567", patient())
    assert response.status_code == 404


def test_a_complete_teleconsultation_refuses_another_participant(api, create):
    room_id = create([doctor(), patient()])
    response = add(api, room_id, patient("late"))
    assert response.status_code == 409
    assert "already has all its 2 participants" in response.json()["message"]


def test_a_duplicate_participant_is_a_409(api, create):
    room_id = create([doctor()], number=3)
    response = add(api, room_id, doctor())
    assert response.status_code == 409
    assert "doctor-1 is already a participant" in response.json()["message"]


def test_completing_without_a_plus_user_is_refused_and_nothing_is_added(api, create, simulator):
    room_id = create([patient("a")], number=2)
    response = add(api, room_id, patient("b"))
    assert response.status_code == 400
    assert response.json()["error"] == (
        f"Failed POST /teleconsultation/{room_id}/participants/data: no plus user in room"
    )
    assert len(stored(room_id).participants) == 1
    assert mapping("b") is None
    assert simulator.call_count("create_room") == 0
    assert simulator.call_count("create_user") == 1  # for "a" only, when it was scheduled


def test_a_provider_failure_adds_nobody_so_the_request_can_be_repeated(api, create, simulator):
    room_id = create([doctor()], number=2)
    simulator.fail_next("create_room", mode="timeout")
    response = add(api, room_id, patient())
    assert response.status_code == 504
    visit = stored(room_id)
    assert len(visit.participants) == 1 and visit.room_claim is None
    assert add(api, room_id, patient()).status_code == 201
    assert simulator.room_exists(stored(room_id).kaleyra_room_id)


def test_invalid_entries_are_400s(api, create):
    room_id = create([doctor()], number=2)
    response = add(api, room_id, {"userExternalId": "p", "groups": "customer", "fullName": "P"})
    assert response.status_code == 400
    assert "groups" in response.json()["details"]
    assert add(api, room_id, {"groups": ["customer"], "fullName": "P"}).status_code == 400
