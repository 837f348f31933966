"""Mia 1.8.0 custom user ids: ids sent by clients are mapped to identity provider ids through
CUSTOM_ID_USERS_API_ENDPOINT (field `customUserId.source` -> `customUserId.target`) before the
user directory is asked. The exact requests are asserted against a local fake (`responses`)."""

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured

from rooms.directory.client import CustomIdClient
from tests.rooms.conftest import START, iso, stored, visit_count
from tests.rooms.test_directory_client import USERS_URL, auth0_user

pytestmark = [pytest.mark.django_db]

CUSTOM_URL = "http://crud-service/users/"
ADA = {"_id": "64b0c0ffee0000000000000a", "email": "ada@example.org", "user_id": "auth0|doc"}
MARIO = {"_id": "64b0c0ffee0000000000000b", "email": "mario@example.org", "user_id": "auth0|pat"}
DIRECTORY = [
    auth0_user("auth0|doc", name="Dr. Ada Rossi", groups=("doctor",)),
    auth0_user("auth0|pat", name="Mario Bianchi", groups=("customer",)),
]


@pytest.fixture
def config(tmp_path, settings):
    """The service configuration of a Mia project using e-mails as custom user ids."""

    def use(custom_user_id=None):
        document = {
            "privileges": {"basic": {"groups": ["customer"]}, "plus": {"groups": ["doctor"]}}
        }
        if custom_user_id is not None:
            document["customUserId"] = custom_user_id
        path = tmp_path / "config.json"
        path.write_text(json.dumps(document))
        settings.TELECONSULTATION_SERVICE_CONFIG_PATH = str(path)

    use({"source": "email", "target": "user_id"})
    return use


@pytest.fixture
def fake(settings, config):
    settings.AUTH_SERVICE = "auth0-client"
    settings.DEFAULT_CLIENT_TYPE = "teleconsultation"
    settings.ADDITIONAL_HEADERS_TO_PROXY = []
    settings.CUSTOM_ID_USERS_API_ENDPOINT = CUSTOM_URL
    settings.CUSTOM_ID_USERS_QUERY_STYLE = "crud"
    with responses.RequestsMock() as mock:
        yield mock


def post(api, ids, **headers):
    body = {"participants": ids, "start_date": iso(START), "duration_in_seconds": 1800}
    return api.as_user("scheduler", ("admin",), **headers).post(
        "/teleconsultation", body, format="json"
    )


def crud_url(source, ids) -> str:
    query = {"_q": json.dumps({source: {"$in": ids}}, separators=(",", ":")), "_l": str(len(ids))}
    return f"{CUSTOM_URL}?{urlencode(query)}"


def directory_ids(call) -> list[str]:
    return json.loads(parse_qs(urlsplit(call.request.url).query)["_q"][0])["user_id"]["$in"]


def test_crud_style_maps_every_id_in_one_lookup_then_asks_the_directory(api, fake, simulator):
    fake.get(CUSTOM_URL, json=[ADA, MARIO])
    fake.get(USERS_URL, json=DIRECTORY)
    response = post(api, ["ada@example.org", "mario@example.org"], **{"x-request-id": "req-7"})
    assert response.status_code == 201, response.json()
    lookup, directory = fake.calls
    assert lookup.request.method == "GET"
    assert lookup.request.url == crud_url("email", ["ada@example.org", "mario@example.org"])
    assert lookup.request.headers["client-type"] == "teleconsultation"
    assert lookup.request.headers["x-request-id"] == "req-7"
    assert directory_ids(directory) == ["auth0|doc", "auth0|pat"]
    assert directory.request.headers["x-request-id"] == "req-7"
    people = {p.external_id: p for p in stored(response.json()["roomId"]).participants}
    assert set(people) == {"auth0|doc", "auth0|pat"}  # as the gateway will name them
    assert (people["auth0|doc"].role, people["auth0|pat"].full_name) == ("plus", "Mario Bianchi")


def test_the_participant_reaches_their_visit_under_the_identity_provider_id(api, fake, simulator):
    fake.get(CUSTOM_URL, json=[ADA, MARIO])
    fake.get(USERS_URL, json=DIRECTORY)
    room_id = post(api, ["ada@example.org", "mario@example.org"]).json()["roomId"]
    response = api.as_user("auth0|pat").get(f"/teleconsultation/{room_id}")
    assert response.status_code == 200
    assert response.json()["participantsBandyerCall"][1]["fullName"] == "Mario Bianchi"


def test_param_style_asks_once_per_id_with_the_source_as_parameter(api, fake, simulator, settings):
    settings.CUSTOM_ID_USERS_QUERY_STYLE = "param"
    fake.get(CUSTOM_URL, json=[ADA])
    fake.get(CUSTOM_URL, json=[MARIO])
    fake.get(USERS_URL, json=DIRECTORY)
    assert post(api, ["ada@example.org", "mario@example.org"]).status_code == 201
    first, second, directory = fake.calls
    assert first.request.url == f"{CUSTOM_URL}?email=ada%40example.org"
    assert second.request.url == f"{CUSTOM_URL}?email=mario%40example.org"
    assert directory_ids(directory) == ["auth0|doc", "auth0|pat"]


def test_without_custom_user_id_in_the_config_mias_default_id_fields_apply(
    api, fake, simulator, config
):
    config(None)  # source `_id`, target `authUserId`
    fake.get(
        CUSTOM_URL,
        json=[
            {"_id": ADA["_id"], "authUserId": "auth0|doc"},
            {"_id": MARIO["_id"], "authUserId": "auth0|pat"},
        ],
    )
    fake.get(USERS_URL, json=DIRECTORY)
    assert post(api, [ADA["_id"], MARIO["_id"]]).status_code == 201
    assert fake.calls[0].request.url == crud_url("_id", [ADA["_id"], MARIO["_id"]])


def test_an_id_the_endpoint_does_not_know_is_a_400_naming_it_before_the_directory(
    api, fake, simulator
):
    fake.get(CUSTOM_URL, json=[ADA, {"email": "someone@else.org", "user_id": "auth0|x"}])
    response = post(api, ["ada@example.org", "ghost@example.org"])
    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith("Invalid request: participants[1].userExternalId: ")
    assert "ghost@example.org" in body["message"]
    assert list(body["details"]) == ["participants[1].userExternalId"]
    assert len(fake.calls) == 1  # the directory was not asked
    assert simulator.call_count() == 0


def test_two_ids_of_the_same_person_are_a_400(api, fake, simulator):
    fake.get(CUSTOM_URL, json=[ADA, {**MARIO, "user_id": "auth0|doc"}])
    response = post(api, ["ada@example.org", "mario@example.org"])
    assert response.status_code == 400
    assert response.json()["details"] == {
        "participants[1].userExternalId": ["user mario@example.org is user ada@example.org"]
    }


def test_a_participant_added_by_custom_id_is_mapped_too(api, fake, simulator):
    fake.get(CUSTOM_URL, json=[ADA])
    fake.get(USERS_URL, json=DIRECTORY[:1])
    entries = {"number": 2, "data": [{"userExternalId": "ada@example.org"}]}
    room_id = post(api, entries).json()["roomId"]
    fake.get(CUSTOM_URL, json=[MARIO])
    fake.get(USERS_URL, json=DIRECTORY[1:])
    response = api.post(
        f"/teleconsultation/{room_id}/participants/data",
        {"userExternalId": "mario@example.org"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert fake.calls[2].request.url == crud_url("email", ["mario@example.org"])
    assert sorted(p.external_id for p in stored(room_id).participants) == [
        "auth0|doc",
        "auth0|pat",
    ]


@pytest.mark.parametrize(
    ("failure", "status", "fragment"),
    [
        ({"body": requests.ConnectionError("refused")}, 503, "is unreachable"),
        ({"body": requests.ReadTimeout("slow")}, 503, "did not answer in time"),
        ({"status": 500, "body": "internal-secret"}, 503, "status 500"),
        ({"status": 401, "json": {"error": "internal-secret"}}, 502, "status 401"),
        ({"json": {"users": []}}, 502, "JSON array"),
        ({"json": [{"email": "ada@example.org"}]}, 502, "no string `user_id`"),
        ({"json": [ADA, {**ADA, "user_id": "auth0|other"}]}, 502, "two users have email"),
    ],
)
def test_endpoint_failures_are_503_or_502_naming_it_and_never_echoing_it(
    api, fake, simulator, failure, status, fragment
):
    fake.get(CUSTOM_URL, **failure)
    response = post(api, ["ada@example.org", "mario@example.org"])
    assert response.status_code == status
    message = response.json()["message"]
    assert "CUSTOM_ID_USERS_API_ENDPOINT" in message and fragment in message
    assert "internal-secret" not in message
    assert visit_count() == 0


def test_without_auth_service_the_endpoint_is_not_used(api, settings, simulator):
    settings.CUSTOM_ID_USERS_API_ENDPOINT = CUSTOM_URL
    with responses.RequestsMock() as mock:
        entries = [
            {"userExternalId": "d", "groups": ["doctor"], "fullName": "D"},
            {"userExternalId": "p", "groups": ["customer"], "fullName": "P"},
        ]
        body = {"number": 2, "data": entries}
        assert post(api, body).status_code == 201
        assert len(mock.calls) == 0


def test_without_the_endpoint_ids_go_to_the_directory_as_sent(api, fake, settings, simulator):
    settings.CUSTOM_ID_USERS_API_ENDPOINT = ""
    fake.get(USERS_URL, json=DIRECTORY)
    assert post(api, ["auth0|doc", "auth0|pat"]).status_code == 201
    assert [call.request.url.split("?")[0] for call in fake.calls] == [USERS_URL]


def test_an_unknown_query_style_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="CUSTOM_ID_USERS_QUERY_STYLE"):
        CustomIdClient(url=CUSTOM_URL, style="graphql", connect_timeout=1, read_timeout=1)
