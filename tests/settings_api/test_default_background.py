"""PATCH /settings/update: an uploaded background becomes the company default."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.settings_api.conftest import jpeg

URL = "/settings/update"
COMPANY_FIELDS = {
    "name",
    "default_language",
    "default_background",
    "end_call_redirect_url",
    "user_details_provider_url",
    "end_call_redirect_timeout_ms",
}


@pytest.fixture
def uploaded_alias(admin, simulator) -> str:
    response = admin.post(
        "/settings/background-image",
        {"virtual_background": SimpleUploadedFile("bg.jpg", jpeg(), content_type="image/jpeg")},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    return response.json()["virtual_background"]["background_alias"]


def patch(client, body):
    return client.patch(URL, body, format="json")


def test_an_uploaded_background_becomes_the_default_and_the_company_is_returned(
    admin, uploaded_alias
):
    response = patch(admin, {"background_alias": uploaded_alias})
    assert response.status_code == 200
    company = response.json()["company"]
    assert set(company) == COMPANY_FIELDS
    assert company["default_background"] == uploaded_alias


def test_an_unknown_alias_is_a_400_naming_it(admin, simulator):
    response = patch(admin, {"background_alias": "bg_nope"})
    assert response.status_code == 400
    body = response.json()
    assert "bg_nope" in body["message"]
    assert "background_alias" in body["details"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "background_alias"),
        ({"background_alias": ""}, "background_alias"),
        ({"background_alias": "   "}, "background_alias"),
        ({"background_alias": 42}, "background_alias"),
        ({"background_alias": None}, "background_alias"),
        ({"background_alias": "bg_1", "default_language": "it"}, "default_language"),
    ],
)
def test_a_missing_blank_or_mistyped_alias_or_unknown_field_is_a_400(admin, body, field):
    response = patch(admin, body)
    assert response.status_code == 400
    assert field in response.json()["details"]


def test_a_body_that_is_not_a_json_object_is_a_400(admin):
    assert patch(admin, ["bg_1"]).status_code == 400
    response = admin.patch(URL, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_without_identity_it_is_a_401(api, simulator):
    response = patch(api, {"background_alias": "bg_1"})
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized user"
    assert simulator.call_count("set_default_background") == 0


def test_a_caller_outside_the_admin_groups_is_a_403(api, simulator):
    response = patch(api.as_user("doctor-1", groups=("doctor",)), {"background_alias": "bg_1"})
    assert response.status_code == 403
    assert simulator.call_count("set_default_background") == 0


@pytest.mark.parametrize(
    ("mode", "status"), [("500", 502), ("drop", 503), ("429", 503), ("timeout", 504)]
)
def test_provider_failures_are_502_503_504(admin, uploaded_alias, simulator, mode, status):
    simulator.fail_next("set_default_background", mode=mode, times=5, retry_after=0)
    response = patch(admin, {"background_alias": uploaded_alias})
    assert response.status_code == status
    assert "Kaleyra" in response.json()["message"]
