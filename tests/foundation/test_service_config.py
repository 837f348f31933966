"""The service configuration file: Mia's defaults, and a clear stop for each kind of mistake."""

import json

import pytest

from kaleyra.types import Role
from teleconsultation_project.service_config import ServiceConfigError, load_service_config

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
    assert config.role_for(["customer"]) is Role.BASIC
    assert config.role_for(["doctor"]) is Role.PLUS
    assert all(config.tools_for(Role.BASIC).values())
    assert config.environment == "sandbox"


def test_a_valid_file_is_read_into_a_typed_object(tmp_path):
    config = load_service_config(write(tmp_path, valid_document()))
    assert config.basic.groups == {"customer", "patient"}
    assert config.tools_for(Role.BASIC)["file_upload"] is False
    # A tool not listed is off, as Kaleyra treats it.
    assert config.tools_for(Role.PLUS) == {key: key == "chat" for key in TOOLS}
    assert config.wants_background(["doctor"]) and not config.wants_background(["customer"])
    assert [step.extract for step in config.user_id_path] == ["headers", "miauserid"]


def test_plus_wins_when_groups_match_both_privileges(tmp_path):
    config = load_service_config(write(tmp_path, valid_document()))
    assert config.role_for(["patient", "doctor"]) is Role.PLUS
    assert config.role_for(["nurse"]) is None


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
