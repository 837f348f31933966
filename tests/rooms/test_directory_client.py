"""The user directory client (AUTH_SERVICE): the exact lookup it sends and how it reads failures."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from rooms.directory.client import get_directory_client
from teleconsultation_project.errors import ApiError
from teleconsultation_project.logs import request_id_var

USERS_URL = "http://auth0-client/users"


def auth0_user(user_id, name="Dr. Ada Rossi", groups=("doctor",)) -> dict:
    return {
        "user_id": user_id,
        "email": f"{user_id}@example.org",
        "name": name,
        "app_metadata": {"groups": list(groups)},
        "user_metadata": {},
    }


@pytest.fixture(autouse=True)
def directory(settings):
    settings.AUTH_SERVICE = "auth0-client"
    settings.DEFAULT_CLIENT_TYPE = "teleconsultation"
    settings.ADDITIONAL_HEADERS_TO_PROXY = []


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


def lookup(ids, headers=None):
    return get_directory_client().find_users(ids, request_headers=headers or {})


def sent_query(call) -> dict:
    return parse_qs(urlsplit(call.request.url).query)


def test_every_user_is_looked_up_in_one_call_with_an_in_filter(mocked):
    mocked.get(USERS_URL, json=[auth0_user("auth0|a"), auth0_user("auth0|b", groups=())])
    users = lookup(["auth0|a", "auth0|b", "auth0|a"])
    assert len(mocked.calls) == 1
    call = mocked.calls[0]
    assert call.request.method == "GET"
    assert call.request.url.split("?")[0] == USERS_URL
    query = sent_query(call)
    assert json.loads(query["_q"][0]) == {"user_id": {"$in": ["auth0|a", "auth0|b"]}}
    assert query["_l"] == ["2"]
    assert set(query) == {"_q", "_l"}
    assert call.request.headers["Accept"] == "application/json"
    assert users["auth0|a"].groups == ("doctor",)
    assert users["auth0|a"].full_name == "Dr. Ada Rossi"
    assert users["auth0|b"].groups == ()


def test_no_ids_means_no_call(mocked):
    assert lookup([]) == {}
    assert len(mocked.calls) == 0


def test_ids_the_directory_does_not_return_are_left_out_and_extra_users_ignored(mocked):
    mocked.get(USERS_URL, json=[auth0_user("auth0|a"), auth0_user("auth0|stranger")])
    assert set(lookup(["auth0|a", "auth0|missing"])) == {"auth0|a"}


@pytest.mark.parametrize(
    ("auth_service", "url"),
    [
        ("auth0-client", "http://auth0-client/users"),
        ("http://auth0-client", "http://auth0-client/users"),
        (
            "https://directory.example.org:8443/auth/",
            "https://directory.example.org:8443/auth/users",
        ),
    ],
)
def test_auth_service_may_be_a_host_or_a_base_url(mocked, settings, auth_service, url):
    settings.AUTH_SERVICE = auth_service
    mocked.get(url, json=[])
    lookup(["auth0|a"])
    assert mocked.calls[0].request.url.split("?")[0] == url


def test_route_and_field_paths_come_from_settings(mocked, settings):
    settings.AUTH_SERVICE_USER_ROUTE = "/directory/people/"
    settings.AUTH_SERVICE_ID_PATH = "sub"
    settings.AUTH_SERVICE_NAME_PATH = "profile.displayName"
    settings.AUTH_SERVICE_GROUPS_PATH = "groups"
    mocked.get(
        "http://auth0-client/directory/people/",
        json=[{"sub": "u1", "profile": {"displayName": "Ada"}, "groups": ["doctor"]}],
    )
    users = lookup(["u1"])
    assert json.loads(sent_query(mocked.calls[0])["_q"][0]) == {"sub": {"$in": ["u1"]}}
    assert users["u1"].full_name == "Ada" and users["u1"].groups == ("doctor",)


def test_every_call_has_explicit_connect_and_read_timeouts(mocked, settings):
    settings.AUTH_SERVICE_CONNECT_TIMEOUT = 1.5
    settings.AUTH_SERVICE_READ_TIMEOUT = 4.0
    mocked.get(USERS_URL, json=[])
    lookup(["auth0|a"])
    assert mocked.calls[0].request.req_kwargs["timeout"] == (1.5, 4.0)


def test_default_timeouts_are_bounded(mocked):
    mocked.get(USERS_URL, json=[])
    lookup(["auth0|a"])
    connect, read = mocked.calls[0].request.req_kwargs["timeout"]
    assert 0 < connect <= 5 and 0 < read <= 10


def test_the_default_client_type_is_sent_when_the_request_has_none(mocked):
    mocked.get(USERS_URL, json=[])
    lookup(["auth0|a"], {"Miauserid": "doctor-1"})
    assert mocked.calls[0].request.headers["client-type"] == "teleconsultation"


def test_the_incoming_client_type_wins_over_the_default(mocked):
    mocked.get(USERS_URL, json=[])
    lookup(["auth0|a"], {"Client-Type": "cms"})
    assert mocked.calls[0].request.headers["client-type"] == "cms"


def test_the_client_type_header_name_follows_clienttype_header_key(mocked, settings):
    settings.CLIENTTYPE_HEADER_KEY = "miaclienttype"
    mocked.get(USERS_URL, json=[])
    lookup(["auth0|a"], {"Miaclienttype": "backoffice"})
    headers = mocked.calls[0].request.headers
    assert headers["miaclienttype"] == "backoffice"
    assert "client-type" not in headers


def test_no_client_type_header_without_an_incoming_one_or_a_default(mocked, settings):
    settings.DEFAULT_CLIENT_TYPE = ""
    mocked.get(USERS_URL, json=[])
    lookup(["auth0|a"])
    assert "client-type" not in mocked.calls[0].request.headers


def test_only_the_headers_named_in_additional_headers_to_proxy_are_forwarded(mocked, settings):
    settings.ADDITIONAL_HEADERS_TO_PROXY = ["cookie", "X-Request-Id", "x-forwarded-host"]
    mocked.get(USERS_URL, json=[])
    lookup(
        ["auth0|a"],
        {
            "Cookie": "sid=abc",
            "X-Request-Id": "req-1",
            "Authorization": "Bearer secret-token",
            "Miauserid": "doctor-1",
        },
    )
    headers = mocked.calls[0].request.headers
    assert headers["cookie"] == "sid=abc"
    assert headers["x-request-id"] == "req-1"
    assert "x-forwarded-host" not in headers
    assert "authorization" not in headers
    assert "miauserid" not in headers


def test_the_id_of_the_request_being_served_is_sent_as_x_request_id(mocked):
    mocked.get(USERS_URL, json=[])
    token = request_id_var.set("req-abc")
    try:
        lookup(["auth0|a"], {"X-Request-Id": "spoofed"})
    finally:
        request_id_var.reset(token)
    assert mocked.calls[0].request.headers["x-request-id"] == "req-abc"


def test_outside_a_request_no_request_id_is_sent(mocked):
    mocked.get(USERS_URL, json=[])
    lookup(["auth0|a"])
    assert "x-request-id" not in mocked.calls[0].request.headers


def test_body_headers_are_never_forwarded_even_when_listed(mocked, settings):
    settings.ADDITIONAL_HEADERS_TO_PROXY = ["content-length", "content-type", "cookie"]
    mocked.get(USERS_URL, json=[])
    lookup(
        ["auth0|a"],
        {"Content-Length": "999", "Content-Type": "application/json", "Cookie": "sid=1"},
    )
    headers = mocked.calls[0].request.headers
    assert headers.get("content-length") in (None, "0")
    assert "content-type" not in headers
    assert headers["cookie"] == "sid=1"


def assert_api_error(status, fragment):
    with pytest.raises(ApiError) as raised:
        lookup(["auth0|a"])
    assert raised.value.status_code == status
    message = str(raised.value.detail)
    assert "user directory" in message
    assert fragment in message
    return message


def test_an_unreachable_directory_is_a_503(mocked):
    mocked.get(USERS_URL, body=requests.ConnectionError("refused"))
    assert_api_error(503, "unreachable")


def test_a_directory_timeout_is_a_503_saying_so(mocked):
    mocked.get(USERS_URL, body=requests.ReadTimeout("slow"))
    assert_api_error(503, "did not answer in time")


def test_a_connect_timeout_is_a_503_saying_so(mocked):
    mocked.get(USERS_URL, body=requests.ConnectTimeout("slow"))
    assert_api_error(503, "did not answer in time")


def test_a_directory_server_error_is_a_503_that_does_not_echo_its_body(mocked):
    mocked.get(USERS_URL, status=500, body="stack trace with internal-secret")
    message = assert_api_error(503, "status 500")
    assert "internal-secret" not in message


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_directory_refusal_is_a_502(mocked, status):
    mocked.get(USERS_URL, status=status, json={"error": "client type unknown"})
    message = assert_api_error(502, f"status {status}")
    assert "client type unknown" not in message


def test_a_directory_redirect_is_a_502_and_is_not_followed(mocked):
    """The lookup carries the gateway's forwarded headers: they never go to another host."""
    mocked.get(USERS_URL, status=302, headers={"Location": "https://elsewhere.example/users"})
    assert_api_error(502, "status 302")
    assert [call.request.url.split("?")[0] for call in mocked.calls] == [USERS_URL.split("?")[0]]


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ("<html>not json</html>", "not JSON"),
        (json.dumps({"users": []}), "JSON array"),
        (json.dumps([{"name": "no id"}]), "user_id"),
        (json.dumps([{"user_id": "auth0|a", "app_metadata": {"groups": 5}}]), "groups"),
    ],
)
def test_an_unreadable_answer_is_a_502(mocked, answer, fragment):
    mocked.get(USERS_URL, body=answer, content_type="application/json")
    assert_api_error(502, fragment)


def test_a_user_without_name_or_groups_reads_as_none_and_no_groups(mocked):
    mocked.get(USERS_URL, json=[{"user_id": "auth0|a", "name": "  "}])
    user = lookup(["auth0|a"])["auth0|a"]
    assert user.full_name is None
    assert user.groups == ()


def test_comma_separated_groups_are_split(mocked):
    mocked.get(
        USERS_URL, json=[{"user_id": "auth0|a", "app_metadata": {"groups": "doctor, admin"}}]
    )
    assert lookup(["auth0|a"])["auth0|a"].groups == ("doctor", "admin")
