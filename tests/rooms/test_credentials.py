"""POST /credentials: SDK credentials for the calling user, whose Kaleyra user is made once."""

from datetime import UTC, datetime

import pytest
import responses
import time_machine

from kaleyra.ids import kaleyra_user_id_for
from kaleyra.types import Role
from tests.rooms.conftest import mapping
from tests.rooms.test_directory_client import USERS_URL, auth0_user

pytestmark = pytest.mark.django_db

URL = "/credentials"
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def credentials(client, body=None):
    return client.post(URL, body if body is not None else {}, format="json")


def test_a_doctor_gets_a_token_for_a_new_plus_user_valid_one_hour(api, simulator, clock):
    response = credentials(api.as_user("doctor-1", groups=("doctor",)))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"accessToken", "expiresAt", "bandyerUserId"}
    assert body["expiresAt"] == "2026-03-01T10:30:00.000Z"
    assert body["bandyerUserId"] == kaleyra_user_id_for("doctor-1")
    assert body["accessToken"]
    assert simulator.user_role(body["bandyerUserId"]) == Role.PLUS
    mapped = mapping("doctor-1")
    assert (mapped.kaleyra_user_id, mapped.role) == (body["bandyerUserId"], "plus")


def test_the_token_lifetime_follows_expires_in(api, simulator, clock):
    response = credentials(api.as_user("patient-1", groups=("customer",)), {"expiresIn": 86400})
    assert response.status_code == 201
    assert response.json()["expiresAt"] == "2026-03-02T09:30:00.000Z"
    assert simulator.user_role(response.json()["bandyerUserId"]) == Role.BASIC


@pytest.mark.parametrize("expires_in", [360, 86400])
def test_the_bounds_of_expires_in_are_accepted(api, simulator, expires_in):
    response = credentials(api.as_user("doctor-1", groups=("doctor",)), {"expiresIn": expires_in})
    assert response.status_code == 201


def test_a_known_user_is_reused_without_a_new_kaleyra_user(api, simulator):
    caller = api.as_user("doctor-1", groups=("doctor",))
    first = credentials(caller).json()
    users_after_first = simulator.call_count("create_user")
    second = credentials(caller).json()
    assert second["bandyerUserId"] == first["bandyerUserId"]
    assert simulator.call_count("create_user") == users_after_first
    assert mapping("doctor-1").kaleyra_user_id == first["bandyerUserId"]


def test_a_user_whose_groups_changed_gets_the_new_role(api, simulator):
    credentials(api.as_user("user-9", groups=("customer",)))
    response = credentials(api.as_user("user-9", groups=("doctor",)))
    assert response.status_code == 201
    assert simulator.user_role(response.json()["bandyerUserId"]) == Role.PLUS
    assert mapping("user-9").role == "plus"


def test_without_identity_it_is_a_401_unauthorized_user(api, simulator):
    response = credentials(api)
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized user"
    assert simulator.call_count() == 0


def test_groups_that_grant_no_role_are_a_400_saying_so(api, simulator):
    response = credentials(api.as_user("nurse-1", groups=("nurse",)))
    assert response.status_code == 400
    message = response.json()["message"]
    assert "nurse-1" in message and "grant no role" in message and "doctor" in message
    assert mapping("nurse-1") is None
    assert simulator.call_count() == 0


def test_a_new_caller_without_groups_is_a_400(api, simulator):
    response = credentials(api.as_user("someone"))
    assert response.status_code == 400
    assert "grant no role" in response.json()["message"]
    assert mapping("someone") is None
    assert simulator.call_count() == 0


def test_a_caller_with_a_kaleyra_user_needs_no_groups_the_map_gives_the_role(api, simulator):
    first = credentials(api.as_user("doctor-1", groups=("doctor",))).json()
    simulator.reset_call_log()
    response = credentials(api.as_user("doctor-1"))
    assert response.status_code == 201, response.json()
    assert response.json()["bandyerUserId"] == first["bandyerUserId"]
    assert simulator.user_role(first["bandyerUserId"]) == Role.PLUS
    assert simulator.call_count() == simulator.call_count("create_sdk_credentials") == 1
    assert mapping("doctor-1").role == "plus"


def test_a_known_caller_whose_groups_now_grant_no_role_is_still_a_400(api, simulator):
    credentials(api.as_user("doctor-1", groups=("doctor",)))
    response = credentials(api.as_user("doctor-1", groups=("nurse",)))
    assert response.status_code == 400
    assert "grant no role" in response.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"expiresIn": 359},
        {"expiresIn": 86401},
        {"expiresIn": 0},
        {"expiresIn": -3600},
        {"expiresIn": "3600"},
        {"expiresIn": 3600.5},
        {"expiresIn": True},
        {"expiresIn": None},
    ],
)
def test_an_expires_in_outside_360_to_86400_or_not_an_integer_is_a_400(api, simulator, body):
    response = credentials(api.as_user("doctor-1", groups=("doctor",)), body)
    assert response.status_code == 400
    assert "expiresIn" in response.json()["details"]
    assert simulator.call_count("create_sdk_credentials") == 0


def test_an_unknown_field_is_a_400(api):
    response = credentials(api.as_user("doctor-1", groups=("doctor",)), {"expires_in": 3600})
    assert response.status_code == 400
    assert "expires_in" in response.json()["details"]


def test_a_body_that_is_not_a_json_object_is_a_400(api):
    caller = api.as_user("doctor-1", groups=("doctor",))
    assert credentials(caller, [3600]).status_code == 400
    assert caller.post(URL, "{oops", content_type="application/json").status_code == 400


def test_an_empty_body_uses_the_default_lifetime(api, simulator, clock):
    response = api.as_user("doctor-1", groups=("doctor",)).post(URL)
    assert response.status_code == 201
    assert response.json()["expiresAt"] == "2026-03-01T10:30:00.000Z"


@pytest.mark.parametrize(
    ("mode", "status"), [("500", 502), ("drop", 503), ("429", 503), ("timeout", 504)]
)
def test_provider_failures_are_502_503_504(api, simulator, mode, status):
    simulator.fail_next("create_sdk_credentials", mode=mode, times=5, retry_after=0)
    response = credentials(api.as_user("doctor-1", groups=("doctor",)))
    assert response.status_code == status
    assert "Kaleyra" in response.json()["message"]


class TestWithTheUserDirectory:
    @pytest.fixture(autouse=True)
    def directory(self, settings):
        settings.AUTH_SERVICE = "auth0-client"
        settings.DEFAULT_CLIENT_TYPE = "teleconsultation"
        with responses.RequestsMock() as mock:
            yield mock

    def test_the_role_comes_from_the_directory_not_the_header(self, api, simulator, directory):
        directory.get(USERS_URL, json=[auth0_user("auth0|doc", groups=("doctor",))])
        response = credentials(api.as_user("auth0|doc", groups=("customer",)))
        assert response.status_code == 201
        assert simulator.user_role(response.json()["bandyerUserId"]) == Role.PLUS
        assert len(directory.calls) == 1
        assert directory.calls[0].request.headers["client-type"] == "teleconsultation"

    def test_a_caller_unknown_to_the_directory_is_a_400(self, api, simulator, directory):
        directory.get(USERS_URL, json=[])
        response = credentials(api.as_user("auth0|ghost", groups=("doctor",)))
        assert response.status_code == 400
        assert "auth0|ghost" in response.json()["message"]
        assert simulator.call_count() == 0

    def test_directory_groups_that_grant_no_role_are_a_400(self, api, simulator, directory):
        directory.get(USERS_URL, json=[auth0_user("auth0|n", groups=("nurse",))])
        response = credentials(api.as_user("auth0|n", groups=("doctor",)))
        assert response.status_code == 400
        assert "grant no role" in response.json()["message"]

    def test_a_known_caller_without_groups_still_gets_the_directory_role(
        self, api, simulator, directory
    ):
        directory.get(USERS_URL, json=[auth0_user("auth0|doc", groups=("doctor",))])
        credentials(api.as_user("auth0|doc"))
        directory.get(USERS_URL, json=[auth0_user("auth0|doc", groups=("customer",))])
        response = credentials(api.as_user("auth0|doc"))
        assert response.status_code == 201
        assert simulator.user_role(response.json()["bandyerUserId"]) == Role.BASIC
        assert len(directory.calls) == 2

    def test_an_unreachable_directory_is_a_503(self, api, simulator, directory):
        directory.get(USERS_URL, status=502)
        response = credentials(api.as_user("auth0|doc"))
        assert response.status_code == 503
        assert "user directory" in response.json()["message"]
