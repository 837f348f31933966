"""AUTH_SERVICE mode end to end: participants given by id, completed from the user directory."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from tests.rooms.conftest import START, doctor, iso, mapping, patient, stored, visit_count
from tests.rooms.test_directory_client import USERS_URL, auth0_user

pytestmark = [pytest.mark.django_db]

DOCTOR = auth0_user("auth0|doc", name="Dr. Ada Rossi", groups=("doctor",))
PATIENT = auth0_user("auth0|pat", name="Mario Bianchi", groups=("customer",))


@pytest.fixture
def directory(settings):
    settings.AUTH_SERVICE = "http://auth0-client"
    settings.DEFAULT_CLIENT_TYPE = "teleconsultation"
    settings.ADDITIONAL_HEADERS_TO_PROXY = ["cookie", "x-request-id"]
    with responses.RequestsMock() as mock:
        yield mock


def schedule(participants) -> dict:
    return {"participants": participants, "start_date": iso(START), "duration_in_seconds": 1800}


def post(api, participants, **headers):
    return api.as_user("scheduler", groups=("admin",), **headers).post(
        "/teleconsultation", schedule(participants), format="json"
    )


def add(api, room_id, entry):
    return api.post(f"/teleconsultation/{room_id}/participants/data", entry, format="json")


def looked_up(call) -> list[str]:
    query = parse_qs(urlsplit(call.request.url).query)
    return json.loads(query["_q"][0])["user_id"]["$in"]


def test_an_array_of_ids_schedules_a_visit_with_directory_names_and_roles(
    api, directory, simulator
):
    directory.get(USERS_URL, json=[DOCTOR, PATIENT])
    response = post(api, ["auth0|doc", "auth0|pat"])
    assert response.status_code == 201, response.json()
    visit = stored(response.json()["roomId"])
    assert visit.participants_number == 2
    people = {p.external_id: p for p in visit.participants}
    assert list(people) == ["auth0|doc", "auth0|pat"]
    assert people["auth0|doc"].full_name == "Dr. Ada Rossi"
    assert (people["auth0|doc"].role, people["auth0|pat"].role) == ("plus", "basic")
    assert people["auth0|pat"].groups == ("customer",)
    assert simulator.room_exists(visit.kaleyra_room_id)
    assert mapping("auth0|doc") and mapping("auth0|pat")
    assert mapping("scheduler") is None  # the caller scheduling is no participant


def test_many_participants_cost_one_directory_call(api, directory, simulator):
    ids = ["auth0|doc"] + [f"auth0|p{n}" for n in range(7)]
    directory.get(USERS_URL, json=[DOCTOR] + [auth0_user(i, groups=("customer",)) for i in ids[1:]])
    assert post(api, ids).status_code == 201
    assert len(directory.calls) == 1
    assert looked_up(directory.calls[0]) == ids


def test_the_lookup_carries_the_client_type_and_the_proxied_headers(api, directory, simulator):
    directory.get(USERS_URL, json=[DOCTOR, PATIENT])
    response = post(
        api,
        ["auth0|doc", "auth0|pat"],
        **{"client-type": "cms", "cookie": "sid=s3cr3t", "x-request-id": "req-42"},
    )
    assert response.status_code == 201
    sent = directory.calls[0].request.headers
    assert sent["client-type"] == "cms"
    assert sent["cookie"] == "sid=s3cr3t"
    assert sent["x-request-id"] == "req-42"
    assert "miauserid" not in sent


def test_the_lookup_carries_the_request_id_without_being_told_to(api, directory, settings):
    settings.ADDITIONAL_HEADERS_TO_PROXY = []
    directory.get(USERS_URL, json=[DOCTOR, PATIENT])
    response = post(api, ["auth0|doc", "auth0|pat"])
    assert response.status_code == 201
    assert directory.calls[0].request.headers["x-request-id"] == response["x-request-id"]


def test_without_a_client_type_the_default_one_is_sent(api, directory, simulator):
    directory.get(USERS_URL, json=[DOCTOR, PATIENT])
    assert post(api, ["auth0|doc", "auth0|pat"]).status_code == 201
    assert directory.calls[0].request.headers["client-type"] == "teleconsultation"


def test_the_object_form_without_groups_or_names_is_completed_from_the_directory(
    api, directory, simulator
):
    directory.get(USERS_URL, json=[DOCTOR])
    participants = {"number": 2, "data": [{"userExternalId": "auth0|doc", "language": "it"}]}
    response = post(api, participants)
    assert response.status_code == 201, response.json()
    visit = stored(response.json()["roomId"])
    (member,) = visit.participants
    assert (member.full_name, member.language, member.role) == ("Dr. Ada Rossi", "it", "plus")
    assert visit.kaleyra_room_id is None

    directory.get(USERS_URL, json=[PATIENT])
    assert add(api, visit.id, {"userExternalId": "auth0|pat"}).status_code == 201
    visit = stored(visit.id)
    assert visit.participant("auth0|pat").full_name == "Mario Bianchi"
    assert simulator.room_exists(visit.kaleyra_room_id)
    assert looked_up(directory.calls[1]) == ["auth0|pat"]


@pytest.mark.parametrize(
    "entry",
    [
        {"userExternalId": "auth0|pat", "groups": ["customer"]},
        {"userExternalId": "auth0|pat", "fullName": "Mario Bianchi"},
    ],
)
def test_groups_and_full_name_are_refused_in_the_body(api, directory, entry):
    response = post(api, {"number": 2, "data": [entry]})
    assert response.status_code == 400
    assert "user directory" in response.json()["message"]
    assert len(directory.calls) == 0


def test_adding_a_participant_with_groups_is_refused(api, directory, simulator):
    directory.get(USERS_URL, json=[DOCTOR])
    room_id = post(api, {"number": 2, "data": [{"userExternalId": "auth0|doc"}]}).json()["roomId"]
    response = add(api, room_id, {"userExternalId": "auth0|pat", "groups": ["customer"]})
    assert response.status_code == 400
    assert "groups" in response.json()["details"]


def test_a_user_unknown_to_the_directory_is_a_400_naming_them(api, directory, simulator):
    directory.get(USERS_URL, json=[DOCTOR])
    response = post(api, ["auth0|doc", "auth0|ghost"])
    assert response.status_code == 400
    body = response.json()
    assert "auth0|ghost" in body["message"]
    (path,) = body["details"]
    assert path.endswith("[1].userExternalId")
    assert visit_count() == 0
    assert simulator.call_count("create_user") == 0


def test_directory_groups_that_grant_no_role_are_a_400(api, directory, simulator):
    directory.get(USERS_URL, json=[DOCTOR, auth0_user("auth0|n", groups=("nurse",))])
    response = post(api, ["auth0|doc", "auth0|n"])
    assert response.status_code == 400
    assert "auth0|n" in response.json()["message"]


def test_an_unreachable_directory_is_a_503_and_nothing_is_stored(api, directory, simulator):
    directory.get(USERS_URL, status=503)
    response = post(api, ["auth0|doc", "auth0|pat"])
    assert response.status_code == 503
    assert "user directory" in response.json()["message"]
    assert visit_count() == 0
    assert simulator.call_count() == 0


def test_the_array_form_needs_auth_service(api, simulator):
    response = post(api, ["doctor-1", "patient-1"])
    assert response.status_code == 400
    assert "AUTH_SERVICE" in response.json()["message"]


def test_without_auth_service_the_body_form_does_not_call_any_directory(api, simulator):
    with responses.RequestsMock() as mock:
        response = post(api, {"number": 2, "data": [doctor(), patient()]})
        assert response.status_code == 201
        assert len(mock.calls) == 0


def test_a_patch_replaces_participants_by_id_with_one_directory_call(api, directory, simulator):
    directory.get(USERS_URL, json=[DOCTOR])
    room_id = post(api, {"number": 3, "data": [{"userExternalId": "auth0|doc"}]}).json()["roomId"]
    directory.get(USERS_URL, json=[DOCTOR, PATIENT])
    response = api.patch(
        f"/teleconsultation/{room_id}", {"participants": ["auth0|doc", "auth0|pat"]}, format="json"
    )
    assert response.status_code == 204
    assert len(directory.calls) == 2
    visit = stored(room_id)
    assert visit.participants_number == 2
    assert simulator.room_exists(visit.kaleyra_room_id)


@pytest.mark.parametrize(
    ("ids", "field", "text"),
    [
        (["auth0|doc"], "participants", "between 2 and 25"),
        (["auth0|doc", "auth0|pat", "auth0|doc"], "participants[2]", "more than once"),
    ],
)
def test_errors_in_an_array_of_ids_name_the_array_entry(api, directory, ids, field, text):
    response = post(api, ids)
    assert response.status_code == 400
    assert text in " ".join(response.json()["details"][field])
    assert len(directory.calls) == 0  # refused before asking the directory


def test_an_overlong_user_id_in_the_array_is_a_400(api, directory):
    response = post(api, ["auth0|doc", "x" * 256])
    assert response.status_code == 400
    assert "at most 255 characters" in response.json()["details"]["participants"][0]
