"""The service configuration file: Mia's defaults, and a clear stop for each kind of mistake."""

import json
import logging
from pathlib import Path

import pytest

from kaleyra.types import Role
from teleconsultation_project.service_config import (
    CustomUserId,
    ServiceConfigError,
    load_service_config,
)
from tests.foundation.test_startup import manage

# A configuration copied unchanged from a Mia-Platform project (issue #9).
MIA_CONFIG = Path(__file__).parent / "data" / "mia-config.json"

TOOLS = {
    "chat": True,
    "screen_sharing": True,
    "file_upload": False,
    "whiteboard": True,
    "snapshot": False,
    "live_edit": True,
    "live_pointer": True,
    "present_to_everyone": False,
}


def write(tmp_path, document) -> str:
    path = tmp_path / "config.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def valid_document(**overrides):
    document = {
        "environment": "production",
        "privileges": {
            "basic": {"groups": ["customer", "patient"], "tools": TOOLS},
            "plus": {"groups": ["doctor"], "tools": {"chat": True}},
        },
        "groupsWithBackgroundList": ["doctor"],
        "userIdPathInRequest": [
            {"from": "object", "extract": "headers"},
            {"from": "object", "extract": "miauserid"},
        ],
    }
    document.update(overrides)
    return document


def test_without_a_file_mia_defaults_apply_customer_basic_doctor_plus_every_tool_on():
    config = load_service_config(None)
    assert config.privileges.role_for(["customer"]) is Role.BASIC
    assert config.privileges.role_for(["doctor"]) is Role.PLUS
    assert all(config.privileges.tools_for(Role.BASIC).values())
    assert config.environment == "sandbox"


def test_a_valid_file_is_read_into_a_typed_object(tmp_path):
    config = load_service_config(write(tmp_path, valid_document()))
    assert config.privileges.basic.groups == {"customer", "patient"}
    assert config.privileges.tools_for(Role.BASIC)["file_upload"] is False
    # A tool not listed is off, as Kaleyra treats it.
    assert config.privileges.tools_for(Role.PLUS) == {key: key == "chat" for key in TOOLS}
    assert config.wants_background(["doctor"]) and not config.wants_background(["customer"])
    assert [step.extract for step in config.user_id_path] == ["headers", "miauserid"]


def test_plus_wins_when_groups_match_both_privileges(tmp_path):
    config = load_service_config(write(tmp_path, valid_document()))
    assert config.privileges.role_for(["patient", "doctor"]) is Role.PLUS
    assert config.privileges.role_for(["nurse"]) is None


@pytest.mark.parametrize(
    ("document", "key_path", "problem"),
    [
        ("{not json", "(file)", "is not valid JSON"),
        ([1, 2], "(root)", "must be a JSON object"),
        (valid_document(privileges=None), "privileges", "is required"),
        ({"privileges": {"plus": {"groups": ["doctor"]}}}, "privileges.basic", "is required"),
        (
            valid_document(privileges={"basic": {"groups": "customer"}, "plus": {"groups": ["d"]}}),
            "privileges.basic.groups",
            "must be a list",
        ),
        (
            valid_document(privileges={"basic": {"groups": []}, "plus": {"groups": ["d"]}}),
            "privileges.basic.groups",
            "at least one group",
        ),
        (
            valid_document(
                privileges={
                    "basic": {"groups": ["c"], "tools": {"teleport": True}},
                    "plus": {"groups": ["d"]},
                }
            ),
            "privileges.basic.tools.teleport",
            "unknown tool",
        ),
        (
            valid_document(
                privileges={
                    "basic": {"groups": ["c"], "tools": {"chat": "yes"}},
                    "plus": {"groups": ["d"]},
                }
            ),
            "privileges.basic.tools.chat",
            "must be true or false",
        ),
        (
            valid_document(privileges={"basic": {"groups": ["c", "d"]}, "plus": {"groups": ["d"]}}),
            "privileges",
            "d are in both basic and plus",
        ),
        (valid_document(environment="staging"), "environment", "sandbox"),
        (
            valid_document(userIdPathInRequest=[{"from": "json", "extract": "x"}]),
            "userIdPathInRequest[0].from",
            "first step must be 'object'",
        ),
        (
            valid_document(userIdPathInRequest=[{"from": "object", "extract": ""}]),
            "userIdPathInRequest[0].extract",
            "non-empty",
        ),
        (valid_document(groupsWithBackgroundList="doctor"), "groupsWithBackgroundList", "list"),
        (valid_document(mode=3), "mode", "must be a string"),
        (valid_document(companyLogo=["x"]), "companyLogo", "an object {url}"),
        (valid_document(companyLogo={}), "companyLogo.url", "is required"),
        (valid_document(companyLogo={"url": 7}), "companyLogo.url", "non-empty string"),
        (valid_document(theme="dark"), "theme", "an object"),
        (valid_document(theme={"dark": "#000"}), "theme.dark", "an object of colours"),
        (
            valid_document(theme={"light": {"primaryColor": 255}}),
            "theme.light.primaryColor",
            "non-empty string",
        ),
        (valid_document(customUserId="email"), "customUserId", "{source, target}"),
        (valid_document(customUserId={"source": ""}), "customUserId.source", "non-empty"),
        (valid_document(customUserId={"target": None}), "customUserId.target", "non-empty"),
    ],
)
def test_each_kind_of_mistake_names_file_key_path_and_problem(
    tmp_path, document, key_path, problem
):
    path = write(tmp_path, document)
    with pytest.raises(ServiceConfigError) as error:
        load_service_config(path)
    assert error.value.key_path == key_path
    assert problem in error.value.problem
    assert path in str(error.value) and key_path in str(error.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ServiceConfigError, match="cannot be read"):
        load_service_config(str(tmp_path / "absent.json"))


def test_a_configuration_copied_from_a_mia_project_is_read_whole():
    config = load_service_config(MIA_CONFIG)
    assert config.privileges.role_for(["patient"]) is Role.BASIC
    assert config.privileges.role_for(["customer"]) is Role.BASIC
    assert config.privileges.role_for(["doctor"]) is Role.PLUS
    assert config.privileges.tools_for(Role.BASIC)["screen_sharing"] is False
    assert config.privileges.tools_for(Role.BASIC)["live_pointer"] is True
    assert all(config.privileges.tools_for(Role.PLUS).values())
    assert (config.environment, config.mode) == ("sandbox", "window")
    assert config.theme == {
        "light": {"primaryColor": "#fff", "accentColor": "#480ca8"},
        "dark": {"primaryColor": "#003049", "accentColor": "#d62828"},
    }
    assert config.company_logo_url == "https://example.org/logo.png"
    assert config.wants_background(["doctor"])
    assert config.custom_user_id == CustomUserId(source="email", target="user_id")


def test_a_configuration_copied_from_a_mia_project_starts_the_service():
    result = manage("check", TELECONSULTATION_SERVICE_CONFIG_PATH=str(MIA_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_known_key_with_a_wrong_type_stops_start_up_naming_the_key_path(tmp_path):
    document = json.loads(MIA_CONFIG.read_text())
    document["companyLogo"] = {"url": 42}
    result = manage("check", TELECONSULTATION_SERVICE_CONFIG_PATH=write(tmp_path, document))
    assert result.returncode != 0
    assert "companyLogo.url: must be a non-empty string" in result.stderr


def test_without_custom_user_id_mias_default_source_and_target_apply(tmp_path):
    config = load_service_config(write(tmp_path, valid_document()))
    assert config.custom_user_id == CustomUserId(source="_id", target="authUserId")


def test_a_bare_logo_url_string_still_reads(tmp_path):
    config = load_service_config(write(tmp_path, valid_document(companyLogo="https://x.org/l.png")))
    assert config.company_logo_url == "https://x.org/l.png"


def test_unknown_keys_are_a_logged_warning_not_a_stop(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="teleconsultation.config")
    document = valid_document(
        newMiaFeature={"on": True},
        theme={"light": {"primaryColor": "#fff", "fontFamily": "Inter"}},
    )
    path = write(tmp_path, document)
    config = load_service_config(path)
    assert config.theme == {"light": {"primaryColor": "#fff"}}
    warnings = " ".join(record.getMessage() for record in caplog.records)
    assert "newMiaFeature" in warnings and "theme.light.fontFamily" in warnings
    assert path in warnings


def test_an_unknown_key_does_not_stop_start_up(tmp_path):
    document = json.loads(MIA_CONFIG.read_text())
    document["videoQuality"] = "hd"
    result = manage("check", TELECONSULTATION_SERVICE_CONFIG_PATH=write(tmp_path, document))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "videoQuality" in result.stderr
