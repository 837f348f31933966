"""The system check names each setting that stops the provider from working."""

import pytest

from kaleyra.checks import check_kaleyra_settings


def ids(settings):
    return [message.id for message in check_kaleyra_settings()]


@pytest.fixture
def http(settings):
    settings.KALEYRA_BACKEND = "http"
    settings.BANDYER_API_SECRET_KEY = "ak_live_x"
    settings.BANDYER_BASE_URL = "https://api.eu.bandyer.com"
    settings.DEBUG = False
    return settings


def test_a_complete_https_configuration_passes(http):
    assert ids(http) == []


def test_a_missing_api_key_is_an_error_naming_it(http):
    http.BANDYER_API_SECRET_KEY = ""
    (message,) = check_kaleyra_settings()
    assert message.id == "kaleyra.E001"
    assert "BANDYER_API_SECRET_KEY" in message.msg
    assert message.is_serious()


def test_a_missing_base_url_is_an_error_naming_it(http):
    http.BANDYER_BASE_URL = ""
    (message,) = check_kaleyra_settings()
    assert message.id == "kaleyra.E002"
    assert "BANDYER_BASE_URL" in message.msg


@pytest.mark.parametrize(
    "url",
    [
        "http://api.eu.bandyer.com",
        "http://127.0.0.1.nip.io:8787",
        "http://10.0.0.1:8787",
        "ftp://127.0.0.1",
        "api.eu.bandyer.com",
    ],
)
def test_a_non_https_base_url_is_an_error_in_production(http, url):
    http.BANDYER_BASE_URL = url
    assert ids(http) == ["kaleyra.E003"]


LOOPBACK_URLS = [
    "http://127.0.0.1:8787",
    "http://127.3.2.1:8787",
    "http://localhost:8787/",
    "http://LocalHost:8787",
    "http://[::1]:8787",
]


@pytest.mark.parametrize("url", LOOPBACK_URLS)
def test_a_loopback_http_base_url_is_only_a_warning_without_debug(http, url):
    # So management commands can run against a local simulator with DJANGO_DEBUG=false.
    http.BANDYER_BASE_URL = url
    (message,) = check_kaleyra_settings()
    assert message.id == "kaleyra.W002"
    assert not message.is_serious()


@pytest.mark.parametrize("url", LOOPBACK_URLS)
def test_a_loopback_http_base_url_is_silent_with_debug(http, url):
    http.DEBUG = True
    http.BANDYER_BASE_URL = url
    assert ids(http) == []


def test_a_loopback_simulator_webhook_url_passes(http):
    http.KALEYRA_SIMULATOR_WEBHOOK_URL = "http://127.0.0.1:8000/webhooks/kaleyra"
    assert ids(http) == []


def test_a_remote_simulator_webhook_url_is_an_error(http):
    http.KALEYRA_SIMULATOR_WEBHOOK_URL = "https://example.org/webhooks/kaleyra"
    (message,) = check_kaleyra_settings()
    assert message.id == "kaleyra.E005"
    assert "KALEYRA_SIMULATOR_WEBHOOK_URL" in message.msg


@pytest.mark.parametrize(
    "url",
    [
        "https://api.eu.bandyer.com/",
        "https://api.in.bandyer.com",
        "https://api.us.bandyer.com",
        "https://API.ME.bandyer.com",
        "https://api.sandbox.eu.bandyer.com",
        "https://api.sandbox.in.bandyer.com",
        "https://api.sandbox.us.bandyer.com",
        "https://api.sandbox.me.bandyer.com",
        "https://127.0.0.1:8787",  # a local simulator behind TLS
    ],
)
def test_a_v2_host_passes(http, url):
    http.BANDYER_BASE_URL = url
    assert ids(http) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://sandbox.bandyer.com/rest",  # Mia 1.x's value: v1
        "https://sandbox.bandyer.com",
        "https://api.sandbox.eu.bandyer.com/rest",  # v1 paths on a v2 host
        "https://cs.eu.bandyer.com",  # the SDKs' host, not the REST API
        "https://api.sandbox.eu.bandyer.com.example.org",
        "https://api.xx.bandyer.com",
        "https://kaleyra.example",
    ],
)
def test_a_base_url_that_is_not_a_v2_host_is_a_warning_naming_the_v1_case(http, url):
    http.BANDYER_BASE_URL = url
    (message,) = check_kaleyra_settings()
    assert message.id == "kaleyra.W003"
    assert not message.is_serious()
    assert url in message.msg
    assert "https://sandbox.bandyer.com/rest is v1" in message.hint


def test_a_remote_http_base_url_is_an_error_even_with_debug(http):
    http.DEBUG = True
    http.BANDYER_BASE_URL = "http://api.eu.bandyer.com"
    assert ids(http) == ["kaleyra.E003"]


def test_the_simulator_in_production_is_a_warning(settings):
    settings.KALEYRA_BACKEND = "simulator"
    settings.DEBUG = False
    (message,) = check_kaleyra_settings()
    assert message.id == "kaleyra.W001"
    assert not message.is_serious()
    assert "simulator" in message.msg


def test_the_simulator_in_development_is_silent(settings):
    settings.KALEYRA_BACKEND = "simulator"
    settings.DEBUG = True
    assert ids(settings) == []


def test_an_unknown_backend_is_an_error(settings):
    settings.KALEYRA_BACKEND = "fake"
    assert ids(settings) == ["kaleyra.E004"]


def test_the_check_is_registered_with_django(http):
    from django.core import checks

    http.BANDYER_API_SECRET_KEY = ""
    assert "kaleyra.E001" in [message.id for message in checks.run_checks()]


@pytest.mark.parametrize("mode", ["none", "manual", "automatic"])
def test_each_recording_mode_passes(http, mode):
    http.KALEYRA_RECORDING = mode
    assert ids(http) == []


def test_an_unknown_recording_mode_is_an_error_naming_the_setting_and_the_modes(http):
    http.KALEYRA_RECORDING = "always"
    (message,) = check_kaleyra_settings()
    assert message.id == "kaleyra.E006"
    assert "KALEYRA_RECORDING must be one of none, manual, automatic, got 'always'" in message.msg
