"""Identity from the gateway headers: Mia defaults, renamed headers, userIdPathInRequest."""

import json

import pytest
from django.test import RequestFactory

from teleconsultation_project.identity import GatewayHeaderAuthentication, caller_from_headers
from teleconsultation_project.service_config import get_service_config


@pytest.fixture
def config_file(tmp_path, settings):
    def use(document):
        path = tmp_path / "config.json"
        path.write_text(json.dumps(document))
        settings.TELECONSULTATION_SERVICE_CONFIG_PATH = str(path)
        get_service_config.cache_clear()

    yield use
    get_service_config.cache_clear()


def test_the_default_headers_describe_the_caller():
    caller = caller_from_headers(
        {
            "miauserid": "auth0|42",
            "miausergroups": "doctor, admin,,",
            "miauserproperties": '{"email": "ada@example.org"}',
            "client-type": "cms",
            "isbackoffice": "1",
        }
    )
    assert caller.id == "auth0|42"
    assert caller.groups == ("doctor", "admin")
    assert caller.properties == {"email": "ada@example.org"}
    assert caller.client_type == "cms"
    assert caller.is_backoffice is True


@pytest.mark.parametrize("user_id", [None, "", "   "])
def test_a_blank_or_missing_user_id_means_no_identity(user_id):
    headers = {"miausergroups": "doctor"}
    if user_id is not None:
        headers["miauserid"] = user_id
    assert caller_from_headers(headers) is None


def test_broken_properties_json_reads_as_no_properties_and_zero_is_not_backoffice():
    caller = caller_from_headers(
        {"miauserid": "u1", "miauserproperties": "{oops", "isbackoffice": "0"}
    )
    assert caller.properties is None
    assert caller.is_backoffice is False


def test_header_names_are_renamed_by_the_mia_variables(settings):
    settings.USERID_HEADER_KEY = "x-user"
    settings.GROUPS_HEADER_KEY = "x-groups"
    caller = caller_from_headers({"X-User": "u7", "X-Groups": "customer", "miauserid": "other"})
    assert caller.id == "u7"
    assert caller.groups == ("customer",)


def test_user_id_path_can_read_the_id_from_the_properties_json(config_file):
    config_file(
        {
            "privileges": {"basic": {"groups": ["customer"]}, "plus": {"groups": ["doctor"]}},
            "userIdPathInRequest": [
                {"from": "object", "extract": "headers"},
                {"from": "object", "extract": "miauserproperties"},
                {"from": "json", "extract": "emails"},
                {"from": "array", "extract": 0},
            ],
        }
    )
    headers = {"miauserid": "ignored", "miauserproperties": '{"emails": ["ada@example.org"]}'}
    assert caller_from_headers(headers).id == "ada@example.org"
    assert caller_from_headers({"miauserproperties": '{"emails": []}'}) is None


def test_the_drf_authentication_gives_views_a_caller_or_none():
    factory = RequestFactory()
    authentication = GatewayHeaderAuthentication()
    from rest_framework.request import Request

    with_id = Request(factory.get("/", HTTP_MIAUSERID="u1", HTTP_MIAUSERGROUPS="doctor"))
    caller, _ = authentication.authenticate(with_id)
    assert (caller.id, caller.groups) == ("u1", ("doctor",))
    assert authentication.authenticate(Request(factory.get("/"))) is None


def test_a_user_id_longer_than_what_is_stored_is_no_identity():
    assert caller_from_headers({"miauserid": "u" * 255}).id == "u" * 255
    assert caller_from_headers({"miauserid": "u" * 256}) is None


def test_a_user_id_with_control_characters_is_no_identity():
    assert caller_from_headers({"miauserid": "u\x00v"}) is None
    assert caller_from_headers({"miauserid": "auth0|5e81 x"}).id == "auth0|5e81 x"
