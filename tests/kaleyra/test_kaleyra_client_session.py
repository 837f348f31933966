"""The client's HTTP session: a keep-alive pool sized for the worker's threads, no proxy scan of
the environment unless a proxy is configured, the request id passed on to Kaleyra, and each call
sent as it was built: no redirect followed, no cookie kept."""

import pytest
from responses import matchers

from common.request_ids import request_id_var
from kaleyra.client import kaleyra_session
from kaleyra.errors import KaleyraBadResponse
from kaleyra.provider import get_video_provider
from tests.kaleyra.support import API_KEY, BASE_URL, make_client

COMPANY_URL = f"{BASE_URL}/v2/company"


@pytest.fixture
def no_proxy_environment(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def pool_size_of(session, url=BASE_URL) -> int:
    return session.get_adapter(url)._pool_maxsize


def test_the_pool_holds_as_many_connections_as_configured(no_proxy_environment):
    session = kaleyra_session(api_key="k", pool_size=25, proxy_url="")
    assert pool_size_of(session) == 25
    assert pool_size_of(session, "http://127.0.0.1:8787") == 25


def test_the_client_from_settings_uses_the_pool_size_setting(settings, no_proxy_environment):
    settings.KALEYRA_BACKEND = "http"
    settings.BANDYER_BASE_URL = BASE_URL
    settings.BANDYER_API_SECRET_KEY = "ak"
    settings.KALEYRA_POOL_SIZE = 17
    assert pool_size_of(get_video_provider()._session) == 17


def test_by_default_one_requests_parallel_calls_all_find_a_kept_alive_connection(settings):
    assert settings.KALEYRA_POOL_SIZE >= settings.KALEYRA_PARALLEL_CALLS


def test_without_a_proxy_the_environment_is_not_consulted(no_proxy_environment):
    session = kaleyra_session(api_key="k", pool_size=10, proxy_url="")
    assert session.trust_env is False
    assert session.proxies == {}


def test_a_configured_proxy_is_used_for_every_call(no_proxy_environment):
    session = kaleyra_session(api_key="k", pool_size=10, proxy_url="http://proxy.internal:3128")
    assert session.proxies == {
        "https": "http://proxy.internal:3128",
        "http": "http://proxy.internal:3128",
    }
    assert session.trust_env is False


def test_an_https_proxy_in_the_environment_keeps_the_environment_on(
    no_proxy_environment, monkeypatch
):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    session = kaleyra_session(api_key="k", pool_size=10, proxy_url="")
    assert session.trust_env is True


def test_a_ca_bundle_from_the_environment_is_still_honoured(no_proxy_environment, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company-ca.pem")
    session = kaleyra_session(api_key="k", pool_size=10, proxy_url="")
    assert session.trust_env is False
    assert session.verify == "/etc/ssl/company-ca.pem"


def test_the_request_id_is_sent_to_kaleyra(wire_mock, client):
    wire_mock.get(
        COMPANY_URL,
        json={},
        match=[matchers.header_matcher({"X-Request-Id": "req-0b6f.1"})],
    )
    token = request_id_var.set("req-0b6f.1")
    try:
        client.get_company()
    finally:
        request_id_var.reset(token)
    assert wire_mock.calls[0].request.headers["X-Request-Id"] == "req-0b6f.1"


@pytest.mark.parametrize("request_id", [None, "", "bad id\n", "é" * 3, "x" * 129])
def test_no_request_id_header_without_a_usable_id(wire_mock, client, request_id):
    wire_mock.get(COMPANY_URL, json={})
    token = request_id_var.set(request_id)
    try:
        client.get_company()
    finally:
        request_id_var.reset(token)
    assert "X-Request-Id" not in wire_mock.calls[0].request.headers


# --- what a call carries, and what it does not ------------------------------------------------


def test_a_redirect_is_not_followed_so_the_api_key_goes_nowhere_else(wire_mock, client):
    wire_mock.get(COMPANY_URL, status=302, headers={"Location": "https://elsewhere.test/v2"})

    with pytest.raises(KaleyraBadResponse) as failure:
        client.get_company()

    assert failure.value.status == 302
    assert [call.request.url for call in wire_mock.calls] == [COMPANY_URL]


def test_cookies_kaleyra_sets_are_not_sent_back(wire_mock, client):
    wire_mock.get(COMPANY_URL, json={}, headers={"Set-Cookie": "AWSALB=sticky; Path=/"})
    wire_mock.get(COMPANY_URL, json={})

    client.get_company()
    client.get_company()

    assert [call.request.headers.get("Cookie") for call in wire_mock.calls] == [None, None]


def test_a_call_carries_the_api_key_and_json_headers(wire_mock, client):
    wire_mock.get(COMPANY_URL, json={})

    client.get_company()

    headers = wire_mock.calls[0].request.headers
    assert headers["apikey"] == API_KEY
    assert headers["Accept"] == "application/json"
    assert headers["Connection"] == "keep-alive"


@pytest.mark.parametrize(
    "environment, proxy_url, proxies",
    [
        ({}, "", {}),
        ({}, "http://proxy.internal:3128", {"https": "http://proxy.internal:3128"}),
        (
            {"HTTPS_PROXY": "http://env-proxy.internal:8080"},
            "",
            {"https": "http://env-proxy.internal:8080"},
        ),
    ],
    ids=["none", "configured", "from the environment"],
)
def test_the_proxy_in_force_goes_with_every_call(
    wire_mock, fake_time, no_proxy_environment, monkeypatch, environment, proxy_url, proxies
):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    client = make_client(fake_time, proxy_url=proxy_url)
    wire_mock.get(COMPANY_URL, json={})

    client.get_company()

    assert wire_mock.calls[0].request.req_kwargs["proxies"].get("https") == proxies.get("https")


def test_the_environment_ca_bundle_verifies_every_call(
    wire_mock, fake_time, no_proxy_environment, monkeypatch
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company-ca.pem")
    client = make_client(fake_time)
    wire_mock.get(COMPANY_URL, json={})

    client.get_company()

    assert wire_mock.calls[0].request.req_kwargs["verify"] == "/etc/ssl/company-ca.pem"
