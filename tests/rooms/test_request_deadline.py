"""The request's deadline (KALEYRA_REQUEST_DEADLINE_SECONDS, common.http.deadline): every Kaleyra
call of a request shares it, so a slow Kaleyra answers 504 in time, and DELETE …/uploads answers
what it did by then instead of running until the worker is killed. Over HTTP, with the simulator's
faults; the outcomes, not the clock, say the deadline acted."""

import time

import pytest

from tests.rooms.conftest import START, body, doctor, patient, stored

pytestmark = [pytest.mark.django_db]

# Longer than the simulator fixture's read timeout (0.3 s) plus a retry, far shorter than default.
DEADLINE = 0.5


@pytest.fixture
def visit_with_uploads(api, simulator_http, settings):
    """A complete visit with four uploads in its room, made before the deadline is shortened."""
    response = api.post("/teleconsultation", body([doctor(), patient()]), format="json")
    room = stored(response.json()["roomId"]).kaleyra_room_id
    for _ in range(4):
        simulator_http.add_upload(room)
    settings.TELECONSULTATION_DELETE_UPLOADS = True
    settings.KALEYRA_REQUEST_DEADLINE_SECONDS = DEADLINE
    simulator_http.reset_call_log()
    return response.json()["roomId"]


def test_uploads_deletion_stops_at_the_deadline_and_a_second_call_finishes(
    api, simulator_http, visit_with_uploads, caplog
):
    room = stored(visit_with_uploads).kaleyra_room_id
    # Kaleyra hangs on every deletion (the four run in parallel) and on each retry, until the
    # deadline has passed.
    simulator_http.fail_next("delete_upload", mode="timeout", times=8)

    first = api.delete(f"/teleconsultation/{visit_with_uploads}/uploads")
    assert first.status_code == 200
    assert first.json() == {"total": 4, "deleted": 0}
    assert len(simulator_http.uploads(room)) == 4
    assert 4 <= simulator_http.call_count("delete_upload") <= 8  # no call after the deadline
    assert "Deleted 0 of 4 uploads" in caplog.text
    simulator_http.clear_faults()

    second = api.delete(f"/teleconsultation/{visit_with_uploads}/uploads")
    assert second.json() == {"total": 4, "deleted": 4}
    assert simulator_http.uploads(room) == []


def test_without_the_deadline_the_same_faults_cost_retries_not_the_answer(
    api, simulator_http, visit_with_uploads, settings
):
    settings.KALEYRA_REQUEST_DEADLINE_SECONDS = 30.0
    simulator_http.fail_next("delete_upload", mode="timeout", times=2)
    response = api.delete(f"/teleconsultation/{visit_with_uploads}/uploads")
    assert response.json() == {"total": 4, "deleted": 4}


def test_a_hanging_kaleyra_on_post_is_a_504_by_the_deadline_not_the_read_timeout(
    api, simulator_http, settings
):
    settings.KALEYRA_REQUEST_DEADLINE_SECONDS = DEADLINE
    settings.KALEYRA_READ_TIMEOUT = 10.0  # alone, the client would wait for the hung answer
    simulator_http.fail_next("create_room", mode="timeout", delay=3.0)
    started = time.monotonic()
    response = api.post(
        "/teleconsultation", body([doctor(), patient()], start=START), format="json"
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert response.json()["message"] == (
        "the video provider (Kaleyra) did not answer in time while trying to create room"
    )
    assert simulator_http.call_count("create_room") == 1  # a room is never asked for twice
    assert elapsed < 2.5  # generous: the hung answer would come after 3 s
