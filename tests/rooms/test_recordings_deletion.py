"""A visit's recordings go with its uploads: `DELETE /teleconsultation/{id}/uploads` and
`delete_uploads` delete the recordings of the sessions Kaleyra announced and, while the room
records, of every session the room lists. The answer stays Mia's `{total, deleted}`, recordings
counted in; a session without a recording counts for nothing. Against the simulator over HTTP,
which holds calls and keeps their recordings."""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.rooms.conftest import body, doctor, patient, stored
from tests.rooms.recorded_calls import announce, hold_a_call, recording_exists

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _deletion_on(settings):
    settings.TELECONSULTATION_DELETE_UPLOADS = True


def new_visit(api, **extra) -> str:
    response = api.post("/teleconsultation", body([doctor(), patient()], **extra), format="json")
    assert response.status_code == 201, response.json()
    return response.json()["roomId"]


def delete_uploads(api, visit: str):
    return api.delete(f"/teleconsultation/{visit}/uploads")


def test_an_announced_recording_is_deleted_with_the_uploads_and_counted(api, simulator_http):
    visit = new_visit(api, recording="automatic")
    session = hold_a_call(simulator_http, visit)
    announce(visit, session)
    simulator_http.add_upload(stored(visit).kaleyra_room_id)

    response = delete_uploads(api, visit)

    assert response.status_code == 200
    assert response.json() == {"total": 2, "deleted": 2}
    assert not recording_exists(simulator_http, session)
    assert simulator_http.uploads() == []


def test_a_recording_kaleyra_did_not_announce_is_found_through_the_rooms_sessions(
    api, simulator_http, settings
):
    settings.KALEYRA_RECORDING = "automatic"
    visit = new_visit(api)
    sessions = [hold_a_call(simulator_http, visit) for _ in range(2)]

    assert delete_uploads(api, visit).json() == {"total": 2, "deleted": 2}
    assert not any(recording_exists(simulator_http, session) for session in sessions)


def test_a_visit_that_never_recorded_asks_kaleyra_nothing_about_sessions(api, simulator_http):
    visit = new_visit(api)
    hold_a_call(simulator_http, visit)
    simulator_http.add_upload(stored(visit).kaleyra_room_id)

    assert delete_uploads(api, visit).json() == {"total": 1, "deleted": 1}  # as Mia answers
    assert simulator_http.call_count("iter_room_sessions") == 0
    assert simulator_http.call_count("delete_recording") == 0


def test_a_session_without_a_recording_counts_for_nothing(api, simulator_http):
    visit = new_visit(api, recording="manual")  # nobody pressed "record"
    hold_a_call(simulator_http, visit)

    assert delete_uploads(api, visit).json() == {"total": 0, "deleted": 0}
    assert simulator_http.call_count("delete_recording") == 1


def test_a_recording_that_cannot_be_deleted_now_is_counted_and_the_next_call_deletes_it(
    api, simulator_http
):
    visit = new_visit(api, recording="automatic")
    session = hold_a_call(simulator_http, visit)
    simulator_http.fail_next("delete_recording", mode="500", times=10)

    assert delete_uploads(api, visit).json() == {"total": 1, "deleted": 0}
    assert recording_exists(simulator_http, session)
    simulator_http.clear_faults()

    assert delete_uploads(api, visit).json() == {"total": 1, "deleted": 1}
    assert not recording_exists(simulator_http, session)


def test_a_recording_of_the_visits_earlier_room_goes_too(api, simulator_http):
    visit = new_visit(api, recording="automatic")
    session = hold_a_call(simulator_http, visit)
    announce(visit, session)
    # Support gives the visit a new room after the call: the recording stays the old room's.
    assert (
        api.patch(f"/teleconsultation/{visit}", {"recording": "none"}, format="json").status_code
        == 204
    )

    assert delete_uploads(api, visit).json() == {"total": 1, "deleted": 1}
    assert not recording_exists(simulator_http, session)


def test_delete_uploads_deletes_the_recordings_and_says_how_many(api, simulator_http, settings):
    settings.TELECONSULTATION_DELETE_UPLOADS = False  # the command is support's: --force
    visit = new_visit(api, recording="automatic")
    session = hold_a_call(simulator_http, visit)
    simulator_http.add_upload(stored(visit).kaleyra_room_id)
    out = StringIO()

    call_command("delete_uploads", "--room", visit, "--force", stdout=out)

    assert "2 of 2 uploads deleted (recordings among them: 1 of 1)" in out.getvalue()
    assert not recording_exists(simulator_http, session)
