"""Kaleyra's 429: Kaleyra did nothing, so any call may be repeated. A request waits once, when
Kaleyra's Retry-After fits its budget, else answers 503 with Retry-After at once (Kaleyra's wait,
or 60 seconds when it named none) instead of holding the caller; a support command, which nobody
waits on, waits it out and retries (kaleyra.retry.background_work)."""

import time
from dataclasses import replace
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from kaleyra.provider import get_video_provider
from kaleyra.retry import background_work
from rooms.domain import Write
from rooms.storage import get_storage
from tests.rooms.conftest import NOW, body, doctor, jobs, patient, stored, visit_count

pytestmark = [pytest.mark.django_db]


@pytest.fixture(params=["simulator", "simulator_http"])
def kaleyra(request):
    """The simulator in-process and over HTTP (where Retry-After is a real header)."""
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize(("retry_after", "header"), [(7, "7"), (None, "60"), (1.5, "2")])
def test_a_429_on_room_creation_beyond_the_budget_is_a_503_with_retry_after_at_once(
    api, kaleyra, retry_after, header
):
    # The simulator fixtures give a request 0.2 s (in-process) or 1 s (HTTP) for retries.
    kaleyra.fail_next("create_room", mode="429", retry_after=retry_after)
    response = api.post("/teleconsultation", body([doctor(), patient()]), format="json")
    assert response.status_code == 503
    assert response["Retry-After"] == header
    assert response.json()["message"] == (
        "the video provider (Kaleyra) is rate limiting requests while trying to create room; "
        f"retry in {header} seconds"
    )
    assert kaleyra.call_count("create_room") == 1
    assert visit_count() == 0 and kaleyra.rooms() == []
    assert jobs("room_intent") == []  # a 429 made nothing: no orphan for reconcile to look for


def test_a_429_on_room_creation_within_the_budget_is_waited_once_and_makes_one_room(api, kaleyra):
    kaleyra.fail_next("create_room", mode="429", retry_after=0.05)
    response = api.post("/teleconsultation", body([doctor(), patient()]), format="json")
    assert response.status_code == 201
    assert kaleyra.call_count("create_room") == 2
    assert kaleyra.rooms() == [stored(response.json()["roomId"]).kaleyra_room_id]
    assert visit_count() == 1 and jobs("room_intent") == []


def test_a_second_429_on_room_creation_is_a_503(api, kaleyra):
    kaleyra.fail_next("create_room", mode="429", times=2, retry_after=0.05)
    response = api.post("/teleconsultation", body([doctor(), patient()]), format="json")
    assert (response.status_code, response["Retry-After"]) == (503, "1")
    assert kaleyra.call_count("create_room") == 2
    assert visit_count() == 0 and kaleyra.rooms() == []


def test_a_429_on_credentials_within_the_budget_is_waited_once(api, kaleyra):
    kaleyra.fail_next("create_sdk_credentials", mode="429", retry_after=0.05)
    response = api.as_user("doctor-1", groups=("doctor",)).post("/credentials")
    assert response.status_code == 201
    assert kaleyra.call_count("create_sdk_credentials") == 2


def test_a_call_safe_to_repeat_is_not_waited_on_a_request_path_either(api, kaleyra, settings):
    settings.TELECONSULTATION_DELETE_UPLOADS = True
    visit = api.post("/teleconsultation", body([doctor(), patient()]), format="json")
    visit = visit.json()["roomId"]
    kaleyra.fail_next("iter_room_uploads", mode="429", retry_after=None)
    response = api.delete(f"/teleconsultation/{visit}/uploads")
    assert (response.status_code, response["Retry-After"]) == (503, "60")
    assert kaleyra.call_count("iter_room_uploads") == 1


# --- support commands wait ---------------------------------------------------------------------


@pytest.fixture
def ended_visit(api, simulator, clock):
    visit = api.post("/teleconsultation", body([doctor(), patient()]), format="json")
    clock.move_to(NOW + timedelta(days=3))
    return visit.json()["roomId"]


def cleanup() -> str:
    out = StringIO()
    call_command("cleanup_teleconsultations", "--older-than-days", "1", stdout=out)
    return out.getvalue()


def test_a_command_waits_out_a_429_without_retry_after_and_retries(simulator, ended_visit):
    room = stored(ended_visit).kaleyra_room_id
    simulator.fail_next("delete_room", mode="429", retry_after=None)
    waits = []
    with background_work(sleep=waits.append):
        out = cleanup()
    assert waits == [60]
    assert f"Teleconsultation {ended_visit}: moved to trash, Kaleyra room deleted" in out
    assert not simulator.room_exists(room)
    assert simulator.call_count("delete_room") == 2


def test_a_command_run_is_background_work_of_its_own(simulator, ended_visit, settings):
    # A wait longer than a request's retry budget: only background work spends it.
    settings.KALEYRA_RETRY_MAX_SECONDS = 0.01
    simulator.fail_next("delete_room", mode="429", retry_after=0.05)
    out = cleanup()
    assert "Kaleyra room deleted" in out
    assert jobs("room_deletion") == []


def test_the_same_429_on_a_request_is_not_waited_for(api, simulator, ended_visit, settings):
    settings.KALEYRA_RETRY_MAX_SECONDS = 0.01
    room = stored(ended_visit).kaleyra_room_id
    simulator.fail_next("delete_room", mode="429", retry_after=0.05)
    assert api.delete(f"/teleconsultation/{ended_visit}").status_code == 204
    assert simulator.call_count("delete_room") == 1
    assert [job.key for job in jobs("room_deletion")] == [room]  # reconcile_rooms finishes it


def test_reconcile_waits_out_a_429_on_room_creation_and_makes_one_room(create, simulator):
    visit = create([doctor(), patient()])
    lost = stored(visit).kaleyra_room_id
    get_storage().update(
        visit, lambda fresh: Write(replace(fresh, kaleyra_room_id=None)), actor="a crash"
    )
    simulator.delete_room_on_kaleyra_side(lost)
    simulator.reset_call_log()
    simulator.fail_next("create_room", mode="429", retry_after=None)
    waits = []
    with background_work(sleep=waits.append):
        out = StringIO()
        call_command("reconcile_rooms", stdout=out, stderr=StringIO())
    room = stored(visit).kaleyra_room_id
    assert waits == [60]
    assert simulator.call_count("create_room") == 2
    assert simulator.rooms() == [room]
    assert f"Teleconsultation {visit}: new Kaleyra room {room}" in out.getvalue()


def test_the_simulators_rate_limit_on_room_creation_is_waited_out_and_makes_one_room(
    api, simulator, settings
):
    """Kaleyra's own limit, not an injected fault: with the participants' Kaleyra users known
    (a first visit made them), the call before the POST uses the window up, so room creation is
    refused with Retry-After (1 s), waited once, and made once."""
    first = api.post("/teleconsultation", body([doctor(), patient()]), format="json")
    assert first.status_code == 201
    settings.KALEYRA_RETRY_MAX_SECONDS = 1.5  # the wait must fit the request's budget
    # The tests' clock is stopped; the limit's window runs on real time (the wait is real).
    provider = get_video_provider()
    provider.engine.clock = time.monotonic
    simulator.set_rate_limit(1, per_seconds=1.0)
    provider.get_company()
    response = api.post("/teleconsultation", body([doctor(), patient()]), format="json")
    assert response.status_code == 201, response.json()
    assert simulator.call_count("create_room") == 3  # the first visit's, the refused, the made
    made = stored(response.json()["roomId"]).kaleyra_room_id
    assert made in simulator.rooms() and len(simulator.rooms()) == 2
    assert visit_count() == 2 and jobs("room_intent") == []
