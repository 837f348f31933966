"""DirectoryResolver: participants' groups, names and roles from the user directory."""

import pytest
import responses

from kaleyra.types import Role
from rooms.directory.lookup import DirectoryResolver
from rooms.rules.participants import ParticipantInput
from rooms.services.participants import resolve_entries
from teleconsultation_project.errors import ApiError
from tests.rooms.test_directory_client import USERS_URL, auth0_user


@pytest.fixture(autouse=True)
def directory(settings):
    settings.AUTH_SERVICE = "auth0-client"
    settings.DEFAULT_CLIENT_TYPE = "teleconsultation"


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


def resolve(*ids, language=None):
    inputs = [ParticipantInput(external_id=user_id, language=language) for user_id in ids]
    return DirectoryResolver().resolve(
        inputs, field="participants.data", request_headers={"Client-Type": "cms"}
    )


def test_with_auth_service_the_participants_come_from_the_directory(mocked):
    mocked.get(USERS_URL, json=[auth0_user("auth0|doc", name="Dr. Ada Rossi", groups=("doctor",))])
    (doctor,) = resolve_entries(
        [ParticipantInput(external_id="auth0|doc")], field="participants.data", headers={}
    )
    assert (doctor.full_name, doctor.groups, doctor.role) == (
        "Dr. Ada Rossi",
        ("doctor",),
        Role.PLUS,
    )
    assert len(mocked.calls) == 1


def test_groups_and_names_come_from_the_directory_and_grant_the_role(mocked):
    mocked.get(
        USERS_URL,
        json=[
            auth0_user("auth0|doc", name="Dr. Ada Rossi", groups=("doctor",)),
            auth0_user("auth0|pat", name="Mario Bianchi", groups=("customer",)),
        ],
    )
    doc, pat = resolve("auth0|doc", "auth0|pat", language="it")
    assert (doc.external_id, doc.full_name, doc.groups, doc.role) == (
        "auth0|doc",
        "Dr. Ada Rossi",
        ("doctor",),
        Role.PLUS,
    )
    assert (pat.full_name, pat.role, pat.language) == ("Mario Bianchi", Role.BASIC, "it")
    assert mocked.calls[0].request.headers["client-type"] == "cms"


def test_many_participants_cost_one_directory_call(mocked):
    ids = [f"auth0|p{n}" for n in range(10)]
    mocked.get(USERS_URL, json=[auth0_user(user_id, groups=("customer",)) for user_id in ids])
    assert len(resolve(*ids)) == 10
    assert len(mocked.calls) == 1


def test_unknown_users_are_a_400_naming_each_with_its_field_path(mocked):
    mocked.get(USERS_URL, json=[auth0_user("auth0|doc")])
    with pytest.raises(ApiError) as raised:
        resolve("auth0|ghost", "auth0|doc", "auth0|phantom")
    error = raised.value
    assert error.status_code == 400
    assert "auth0|ghost" in str(error.detail) and "auth0|phantom" in str(error.detail)
    assert set(error.details) == {
        "participants.data[0].userExternalId",
        "participants.data[2].userExternalId",
    }
    assert "auth0|ghost" in error.details["participants.data[0].userExternalId"][0]


def test_directory_groups_that_grant_no_role_are_a_400_naming_the_user(mocked):
    mocked.get(USERS_URL, json=[auth0_user("auth0|nurse", groups=("nurse",))])
    with pytest.raises(ApiError) as raised:
        resolve("auth0|nurse")
    assert raised.value.status_code == 400
    assert "auth0|nurse" in str(raised.value.detail)
    assert "participants.data[0]" in raised.value.details


def test_a_user_without_a_name_is_shown_by_id(mocked):
    mocked.get(USERS_URL, json=[{"user_id": "auth0|anon", "app_metadata": {"groups": ["doctor"]}}])
    (person,) = resolve("auth0|anon")
    assert person.full_name == "auth0|anon"


def test_an_overlong_directory_name_is_cut_to_what_is_stored(mocked):
    mocked.get(USERS_URL, json=[auth0_user("auth0|doc", name="A" * 300, groups=("doctor",))])
    (doc,) = resolve("auth0|doc")
    assert doc.full_name == "A" * 255
