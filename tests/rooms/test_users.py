"""Kaleyra users made for a visit's people: all at once, each mapped, one room after them; a
failure among them fails the write as before; the request's deadline and id go with each call."""

import threading
from unittest import mock

import pytest
from prometheus_client import REGISTRY

from kaleyra.ids import kaleyra_user_id_for
from kaleyra.simulator import server as simulator_server
from kaleyra.types import Role
from tests.rooms.conftest import body, doctor, jobs, mapping, patient, stored, visit_count

pytestmark = [pytest.mark.django_db]


def test_users_made_in_parallel_stop_at_the_requests_deadline(api, simulator_http, settings):
    settings.KALEYRA_REQUEST_DEADLINE_SECONDS = 0.5
    settings.KALEYRA_READ_TIMEOUT = 0.2
    settings.KALEYRA_MAX_RETRIES = 5
    settings.KALEYRA_RETRY_MAX_SECONDS = 10.0
    simulator_http.fail_next("create_user", mode="timeout", times=20, delay=0.4)

    response = api.post("/teleconsultation", body([doctor(), patient()]), format="json")

    assert response.status_code == 504
    # Each of the two users' calls stops at the deadline (three attempts at most, the last one
    # cut short), not after all six the retry policy allows.
    assert simulator_http.call_count("create_user") <= 6


def new_people(count: int, prefix: str) -> list[dict]:
    return [doctor(f"{prefix}-doctor")] + [patient(f"{prefix}-p{i}") for i in range(count - 1)]


def room_members(simulator, room_id: str) -> list[str]:
    return [member["user_id"] for member in simulator.get_room_record(room_id)["participants"]]


def users_made_counted() -> float:
    labels = {"service": "kaleyra", "operation": "create_user", "outcome": "ok"}
    return REGISTRY.get_sample_value("outbound_requests_total", labels) or 0


def test_a_visit_of_25_new_people_maps_each_to_a_new_user_and_makes_one_room(api, simulator_http):
    people = new_people(25, "new")
    ids = [person["userExternalId"] for person in people]
    counted = users_made_counted()

    response = api.post("/teleconsultation", body(people), format="json")

    assert response.status_code == 201, response.content
    assert simulator_http.calls() == {"create_user": 25, "create_room": 1}
    assert users_made_counted() == counted + 25  # each call measured, on whichever thread
    users = simulator_http.users()
    assert [mapping(external_id).kaleyra_user_id for external_id in ids] == [
        kaleyra_user_id_for(external_id) for external_id in ids
    ]
    assert users[kaleyra_user_id_for("new-doctor")] == Role.PLUS
    assert {users[kaleyra_user_id_for(external_id)] for external_id in ids[1:]} == {Role.BASIC}
    [room] = simulator_http.rooms()
    assert stored(response.json()["roomId"]).kaleyra_room_id == room
    assert sorted(room_members(simulator_http, room)) == sorted(map(kaleyra_user_id_for, ids))


def test_one_user_kaleyra_fails_to_make_among_25_fails_the_post_and_makes_no_room(
    api, simulator_http, settings
):
    settings.KALEYRA_MAX_RETRIES = 0  # the one failed call is not repeated
    simulator_http.fail_next("create_user", mode="500")
    people = new_people(25, "new")

    response = api.post("/teleconsultation", body(people), format="json")

    assert response.status_code == 502
    assert response.json()["message"] == (
        "the video provider (Kaleyra) answered with an error (status 500) while trying to "
        "create user"
    )
    assert simulator_http.call_count("create_room") == 0
    assert simulator_http.rooms() == [] and visit_count() == 0
    assert jobs("room_intent") == []
    # The map is written only when every user was made; those made meanwhile stay on Kaleyra.
    assert [mapping(person["userExternalId"]) for person in people] == [None] * 25
    made_meanwhile = len(simulator_http.users())
    assert made_meanwhile < 25

    # Asked again, the visit is made: the users already on Kaleyra are found by their ids.
    simulator_http.reset_call_log()
    again = api.post("/teleconsultation", body(people), format="json")
    assert again.status_code == 201, again.content
    calls = {"create_user": 25, "get_user": made_meanwhile, "create_room": 1}
    assert simulator_http.calls() == {name: count for name, count in calls.items() if count}
    assert None not in [mapping(person["userExternalId"]) for person in people]


@pytest.fixture
def users_made_at_once():
    """POST /v2/users on the HTTP simulator answers only once `PARTIES` of them are in flight
    together (a barrier, given up after 5 s: the calls fail then, rather than hang); the
    X-Request-Id each carried is kept."""
    barrier = threading.Barrier(PARTIES, timeout=5)
    request_ids: list[str | None] = []
    original = simulator_server._Handler.get_environ

    def waiting(handler):
        environ = original(handler)
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/v2/users":
            request_ids.append(environ.get("HTTP_X_REQUEST_ID"))
            barrier.wait()
        return environ

    with mock.patch.object(simulator_server._Handler, "get_environ", waiting):
        yield request_ids


PARTIES = 25


def test_the_25_users_of_a_visit_are_asked_of_kaleyra_all_at_once(
    api, simulator_http, settings, users_made_at_once
):
    settings.KALEYRA_PARALLEL_CALLS = PARTIES
    settings.KALEYRA_READ_TIMEOUT = 10.0  # longer than the barrier waits
    settings.KALEYRA_REQUEST_DEADLINE_SECONDS = 20.0
    api.credentials(HTTP_ISBACKOFFICE="true", HTTP_X_REQUEST_ID="post-25-at-once")

    response = api.post("/teleconsultation", body(new_people(PARTIES, "at-once")), format="json")

    assert response.status_code == 201, response.content
    assert simulator_http.calls() == {"create_user": PARTIES, "create_room": 1}
    # Each call made on the kept threads carried the request's id.
    assert users_made_at_once == ["post-25-at-once"] * PARTIES


@pytest.fixture
def room_asked():
    """Set once the HTTP simulator has received a POST /v2/rooms."""
    asked = threading.Event()
    original = simulator_server._Handler.get_environ

    def noting(handler):
        environ = original(handler)
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/v2/rooms":
            asked.set()
        return environ

    with mock.patch.object(simulator_server._Handler, "get_environ", noting):
        yield asked


def test_the_user_map_is_written_while_the_room_is_being_made(
    api, simulator_http, room_asked, monkeypatch
):
    from rooms.storage import get_storage

    storage = type(get_storage())
    save_mappings = storage.save_mappings
    seen = []

    def save_once_the_room_is_asked(self, **kwargs):
        seen.append(room_asked.wait(timeout=5))
        save_mappings(self, **kwargs)

    monkeypatch.setattr(storage, "save_mappings", save_once_the_room_is_asked)
    people = new_people(3, "meanwhile")

    response = api.post("/teleconsultation", body(people), format="json")

    assert response.status_code == 201, response.content
    assert seen == [True]  # the room's call was out before the map was written
    assert None not in [mapping(person["userExternalId"]) for person in people]
    assert simulator_http.calls() == {"create_user": 3, "create_room": 1}


def test_a_user_map_that_cannot_be_written_leaves_no_room_and_no_visit(
    api, simulator_http, room_asked, monkeypatch
):
    from rooms.storage import get_storage
    from rooms.storage.base import StorageUnavailable

    storage = type(get_storage())

    def unwritable(self, **kwargs):
        room_asked.wait(timeout=5)  # the room is being made meanwhile
        raise StorageUnavailable("timeout")

    monkeypatch.setattr(storage, "save_mappings", unwritable)

    response = api.post("/teleconsultation", body(new_people(3, "unmapped")), format="json")

    assert response.status_code == 503, response.content
    # The room made while the map failed is deleted at once, its intent forgotten.
    assert simulator_http.call_count("create_room") == 1
    assert simulator_http.rooms() == []
    assert jobs("room_intent") == [] and jobs("room_deletion") == []
    assert visit_count() == 0


def test_the_room_intent_is_recorded_while_the_users_are_being_made(
    api, simulator_http, monkeypatch
):
    from rooms.domain import JobKind
    from rooms.storage import get_storage

    storage = type(get_storage())
    record_jobs = storage.record_jobs
    intent_recorded = threading.Event()

    def recording(self, recorded):
        record_jobs(self, recorded)
        if any(job.kind == JobKind.ROOM_INTENT for job in recorded):
            intent_recorded.set()

    monkeypatch.setattr(storage, "record_jobs", recording)
    answered_after_the_intent = []
    original = simulator_server._Handler.get_environ

    def holding_the_users(handler):
        environ = original(handler)
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/v2/users":
            # Each user's answer waits for the intent: it comes while the calls are out.
            answered_after_the_intent.append(intent_recorded.wait(timeout=5))
        return environ

    monkeypatch.setattr(simulator_server._Handler, "get_environ", holding_the_users)

    response = api.post("/teleconsultation", body(new_people(3, "intent")), format="json")

    assert response.status_code == 201, response.content
    assert answered_after_the_intent == [True] * 3
    assert jobs("room_intent") == []  # forgotten by the visit's write
