"""POST /settings/background-image: a JPEG of at most 10 MB becomes a company background."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from tests.settings_api.conftest import MB, jpeg, png

pytestmark = pytest.mark.django_db

URL = "/settings/background-image"
UPLOADED_AT = datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=UTC)


def image(content: bytes, name="background.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def upload(client, content: bytes, **kwargs):
    return client.post(URL, {"virtual_background": image(content, **kwargs)}, format="multipart")


def test_an_admin_uploads_a_jpeg_and_gets_its_alias_url_and_date(admin, simulator):
    with time_machine.travel(UPLOADED_AT, tick=False):
        response = upload(admin, jpeg())
    assert response.status_code == 200
    background = response.json()["virtual_background"]
    assert set(background) == {"background_alias", "url", "creation_date"}
    assert background["creation_date"] == "2026-03-01T09:30:15.250Z"
    assert background["url"].endswith(f"{background['background_alias']}.jpeg")
    assert simulator.backgrounds() == [background["background_alias"]]


def test_an_image_of_exactly_10_mb_is_accepted(admin, simulator):
    response = upload(admin, jpeg(10 * MB))
    assert response.status_code == 200
    assert simulator.call_count("upload_background") == 1


def test_an_image_one_byte_over_10_mb_is_a_413_and_never_reaches_the_provider(admin, simulator):
    response = upload(admin, jpeg(10 * MB + 1))
    assert response.status_code == 413
    body = response.json()
    assert body["statusCode"] == 413
    assert "larger than 10 MB" in body["message"]
    assert simulator.call_count("upload_background") == 0


class RecordingTemporaryFileHandler(TemporaryFileUploadHandler):
    """Django's disk handler, remembering how many bytes reached it."""

    received = 0

    def receive_data_chunk(self, raw_data, start):
        type(self).received += len(raw_data)
        return super().receive_data_chunk(raw_data, start)


def test_an_oversized_upload_is_stopped_while_it_streams_in(admin, settings):
    settings.FILE_UPLOAD_HANDLERS = [f"{__name__}.RecordingTemporaryFileHandler"]
    RecordingTemporaryFileHandler.received = 0
    response = upload(admin, jpeg(10 * MB + 64 * 1024 * 4))
    assert response.status_code == 413
    assert RecordingTemporaryFileHandler.received <= 10 * MB


def test_a_png_renamed_jpg_is_refused_by_its_content(admin, simulator):
    response = upload(admin, png(), name="holiday.jpg", content_type="image/jpeg")
    assert response.status_code == 400
    body = response.json()
    assert "not a JPEG" in body["message"]
    assert "virtual_background" in body["details"]
    assert simulator.call_count("upload_background") == 0


def test_a_jpeg_is_recognised_whatever_its_name_and_declared_type(admin, simulator):
    response = upload(admin, jpeg(), name="scan.png", content_type="image/png")
    assert response.status_code == 200


def test_a_missing_image_is_a_400_naming_the_field(admin):
    response = admin.post(URL, {}, format="multipart")
    assert response.status_code == 400
    assert "virtual_background" in response.json()["details"]


def test_an_image_sent_as_a_text_field_is_a_400(admin):
    response = admin.post(URL, {"virtual_background": "not a file"}, format="multipart")
    assert response.status_code == 400
    assert "not a file" in response.json()["details"]["virtual_background"][0]


def test_an_empty_file_is_a_400(admin):
    response = admin.post(URL, {"virtual_background": image(b"")}, format="multipart")
    assert response.status_code == 400
    assert "virtual_background" in response.json()["details"]


def test_an_unknown_field_is_a_400(admin):
    response = admin.post(
        URL, {"virtual_background": image(jpeg()), "alias": "mine"}, format="multipart"
    )
    assert response.status_code == 400
    assert "alias" in response.json()["details"]


def test_a_json_body_is_a_415(admin):
    response = admin.post(URL, {"virtual_background": "x"}, format="json")
    assert response.status_code == 415
    assert "application/json" in response.json()["message"]


def test_without_identity_it_is_a_401_and_the_upload_is_not_read(api, settings, simulator):
    settings.FILE_UPLOAD_HANDLERS = [f"{__name__}.RecordingTemporaryFileHandler"]
    RecordingTemporaryFileHandler.received = 0
    response = upload(api, jpeg(2 * MB))
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized user"
    assert RecordingTemporaryFileHandler.received == 0
    assert simulator.call_count("upload_background") == 0


def test_a_caller_outside_the_admin_groups_is_a_403(api, simulator):
    response = upload(api.as_user("doctor-1", groups=("doctor",)), jpeg())
    assert response.status_code == 403
    assert "admin" in response.json()["message"]
    assert simulator.call_count("upload_background") == 0


def test_the_admin_groups_come_from_settings_admin_groups(api, settings, simulator):
    settings.SETTINGS_ADMIN_GROUPS = ["it-ops", "clinic-manager"]
    assert upload(api.as_user("ops", groups=("admin",)), jpeg()).status_code == 403
    response = upload(api.as_user("boss", groups=("doctor", "clinic-manager")), jpeg())
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("mode", "status"), [("500", 502), ("drop", 503), ("429", 503), ("timeout", 504)]
)
def test_provider_failures_are_502_503_504(admin, simulator, mode, status):
    simulator.fail_next("upload_background", mode=mode, times=5, retry_after=0)
    response = upload(admin, jpeg())
    assert response.status_code == status
    assert "Kaleyra" in response.json()["message"]


def test_a_provider_refusal_of_the_image_is_a_400(admin, simulator):
    for _ in range(10):
        assert upload(admin, jpeg()).status_code == 200
    response = upload(admin, jpeg())
    assert response.status_code == 400
    assert "refused the image" in response.json()["message"]
    assert "virtual_background" in response.json()["details"]
