"""PATCH /settings/update: an uploaded background becomes the company default."""

import pytest
import responses
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.settings_api.conftest import jpeg

pytestmark = pytest.mark.django_db

URL = "/settings/update"
COMPANY_FIELDS = {
    "name",
    "default_language",
    "default_background",
    "end_call_redirect_url",
    "user_details_provider_url",
    "end_call_redirect_timeout_ms",
}


def upload(admin) -> dict:
    response = admin.post(
        "/settings/background-image",
        {"virtual_background": SimpleUploadedFile("bg.jpg", jpeg(), content_type="image/jpeg")},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    return response.json()["virtual_background"]


@pytest.fixture
def uploaded_alias(admin, simulator) -> str:
    return upload(admin)["background_alias"]


def patch(client, body):
    return client.patch(URL, body, format="json")


def test_an_uploaded_background_becomes_the_default_and_the_company_is_returned(admin, simulator):
    uploaded = upload(admin)
    response = patch(admin, {"background_alias": uploaded["background_alias"]})
    assert response.status_code == 200
    company = response.json()["company"]
    assert set(company) == COMPANY_FIELDS
    assert company["default_background"] == {
        "alias": uploaded["background_alias"],
        "url": uploaded["url"],
        "creation_date": uploaded["creation_date"],
    }


class TestWhateverShapeKaleyraAnswersIn:
    """Kaleyra's v2 guide shows the default background as a bare alias, v1 as an object."""

    BASE = "https://api.sandbox.eu.bandyer.com"
    UPLOADED = {
        "background_alias": "bg_1a2b",
        "url": "https://static.bandyer.com/corporate/virtual_backgrounds/sandbox/acme/bg_1a2b.jpeg",
        "creation_date": "2030-03-01T09:30:00.000Z",
    }

    @pytest.fixture(autouse=True)
    def kaleyra(self, settings):
        settings.KALEYRA_BACKEND = "http"
        settings.BANDYER_BASE_URL = self.BASE
        settings.BANDYER_API_SECRET_KEY = "ak_test"
        with responses.RequestsMock() as mock:
            yield mock

    def company(self, default_background) -> dict:
        return {
            "name": "Acme Clinic",
            "default_language": "it",
            "default_background": default_background,
        }

    @pytest.mark.parametrize(
        "shape",
        [
            "bg_1a2b",
            {"background_alias": "bg_1a2b"},
            {"alias": "bg_1a2b", "url": "https://elsewhere.example/bg.jpeg"},
        ],
    )
    def test_the_default_background_is_the_whole_uploaded_background(self, admin, kaleyra, shape):
        kaleyra.post(f"{self.BASE}/v2/company/virtual-background", json=self.UPLOADED)
        kaleyra.put(f"{self.BASE}/v2/company", json=self.company(shape))
        upload(admin)
        response = patch(admin, {"background_alias": "bg_1a2b"})
        assert response.status_code == 200, response.json()
        assert response.json()["company"]["default_background"] == {
            "alias": "bg_1a2b",
            "url": self.UPLOADED["url"],
            "creation_date": self.UPLOADED["creation_date"],
        }

    @pytest.mark.parametrize("shape", ["bg_elsewhere", {"background_alias": "bg_elsewhere"}])
    def test_a_background_this_service_did_not_upload_has_its_alias_only(
        self, admin, kaleyra, shape
    ):
        kaleyra.put(f"{self.BASE}/v2/company", json=self.company(shape))
        response = patch(admin, {"background_alias": "bg_elsewhere"})
        assert response.json()["company"]["default_background"] == {
            "alias": "bg_elsewhere",
            "url": None,
            "creation_date": None,
        }

    def test_no_default_background_is_null(self, admin, kaleyra):
        kaleyra.put(f"{self.BASE}/v2/company", json=self.company(None))
        response = patch(admin, {"background_alias": "bg_1a2b"})
        assert response.json()["company"]["default_background"] is None


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
