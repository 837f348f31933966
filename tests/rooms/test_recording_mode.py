"""Recording is opt-in: KALEYRA_RECORDING, or a visit's own `recording` in POST and PATCH (not in
Mia's contract; a Mia client that does not send it gets the setting). A room records as it was
made, so a visit whose mode changes gets a new room. Rooms are made through the real client,
against the simulator over HTTP, which keeps each room's `recording`."""

import pytest
from django.conf import settings

from rooms.storage import get_storage
from rooms.storage.mia_records import record_fields, teleconsultation_from_record
from tests.rooms.conftest import body, doctor, patient, stored

pytestmark = [pytest.mark.django_db]


def recording_of_room(simulator, teleconsultation_id: str) -> str:
    return simulator.get_room_record(stored(teleconsultation_id).kaleyra_room_id)["recording"]


def post(api, **extra):
    return api.post("/teleconsultation", body([doctor(), patient()], **extra), format="json")


def patch(api, teleconsultation_id: str, changes: dict):
    return api.patch(f"/teleconsultation/{teleconsultation_id}", changes, format="json")


def test_by_default_rooms_record_nothing(api, simulator_http):
    visit = post(api).json()["roomId"]
    assert recording_of_room(simulator_http, visit) == "none"
    assert stored(visit).recording is None  # the visit asked nothing: the setting decides


@pytest.mark.parametrize("mode", ["manual", "automatic"])
def test_the_setting_makes_every_room_record(api, simulator_http, settings, mode):
    settings.KALEYRA_RECORDING = mode
    visit = post(api).json()["roomId"]
    assert recording_of_room(simulator_http, visit) == mode


def test_a_visit_may_ask_for_recording_whatever_the_setting(api, simulator_http):
    visit = post(api, recording="automatic").json()["roomId"]
    assert recording_of_room(simulator_http, visit) == "automatic"
    assert stored(visit).recording == "automatic"


def test_a_visit_may_refuse_recording_when_the_setting_records(api, simulator_http, settings):
    settings.KALEYRA_RECORDING = "automatic"
    visit = post(api, recording="none").json()["roomId"]
    assert recording_of_room(simulator_http, visit) == "none"


@pytest.mark.parametrize("value", ["always", "", None, 1, "AUTOMATIC"])
def test_an_unknown_mode_is_a_400_naming_the_field_and_the_modes(api, value):
    response = post(api, recording=value)
    assert response.status_code == 400, response.json()
    details = response.json()["details"]
    assert list(details) == ["recording"]
    if value is not None:
        assert details["recording"] == ["Must be one of none, manual, automatic."]


def test_patching_the_mode_gives_the_visit_a_new_room_that_records(api, simulator_http):
    visit = post(api).json()["roomId"]
    old_room = stored(visit).kaleyra_room_id

    assert patch(api, visit, {"recording": "automatic"}).status_code == 204

    after = stored(visit)
    assert after.kaleyra_room_id != old_room and after.recording == "automatic"
    assert recording_of_room(simulator_http, visit) == "automatic"
    assert not simulator_http.room_exists(old_room)


def test_patching_the_mode_the_room_already_has_keeps_the_room(api, simulator_http, settings):
    settings.KALEYRA_RECORDING = "automatic"
    visit = post(api).json()["roomId"]
    room = stored(visit).kaleyra_room_id
    simulator_http.reset_call_log()

    assert patch(api, visit, {"recording": "automatic"}).status_code == 204

    assert stored(visit).kaleyra_room_id == room
    assert simulator_http.call_count() == 0


def test_the_mode_cannot_change_once_the_visit_is_locked(api, simulator_http, clock):
    visit = post(api).json()["roomId"]
    clock.move_to(stored(visit).start)

    response = patch(api, visit, {"recording": "automatic"})

    assert response.status_code == 409
    assert stored(visit).recording is None
    assert recording_of_room(simulator_http, visit) == "none"


def test_a_patch_without_the_field_keeps_the_visits_mode(api, simulator_http):
    visit = post(api, recording="manual").json()["roomId"]
    assert patch(api, visit, {"duration_in_seconds": 3600}).status_code == 204
    assert stored(visit).recording == "manual"
    assert recording_of_room(simulator_http, visit) == "manual"


@pytest.mark.parametrize("storage_backend", ["django", "crud"], indirect=True)
def test_the_mode_is_stored_in_either_backend_only_when_asked(
    api, simulator_http, storage_backend, request
):
    asked = post(api, recording="automatic").json()["roomId"]
    not_asked = post(api).json()["roomId"]

    assert get_storage().find(asked).recording == "automatic"
    assert get_storage().find(not_asked).recording is None
    if storage_backend == "crud":
        crud = request.getfixturevalue("crud_simulator")
        documents = settings.TELECONSULTATIONS_CRUD_NAME
        assert crud.document(documents, asked)["recording"] == "automatic"
        # A collection whose schema predates the field takes the visits that do not ask.
        assert "recording" not in crud.document(documents, not_asked)


def test_a_mia_record_without_the_field_follows_the_setting():
    record = {
        "_id": "0123456789abcdef01234567",
        "participantsNumber": 2,
        "startDate": "2026-12-01T10:00:00.000Z",
        "endDate": "2026-12-01T10:30:00.000Z",
    }
    visit = teleconsultation_from_record(record, {})
    assert visit.recording is None
    assert "recording" not in record_fields(visit)
