"""Every error the service can produce has the one JSON shape, never HTML or a traceback."""

import json
import logging

import pytest
from django.urls import path
from rest_framework.views import APIView

from teleconsultation_project import urls as project_urls

pytestmark = pytest.mark.django_db


class ExplodingApi(APIView):
    def get(self, request):
        raise RuntimeError("kaboom with a secret detail")


def exploding_django_view(request):
    raise RuntimeError("kaboom outside DRF")


def missing_page(request):
    from django.http import Http404

    raise Http404("no such page")


def forbidden_page(request):
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied


urlpatterns = [
    path("missing-page", missing_page),
    path("forbidden-page", forbidden_page),
    path("explode", ExplodingApi.as_view()),
    path("explode-django", exploding_django_view),
    *project_urls.urlpatterns,
]
handler404 = project_urls.handler404
handler500 = project_urls.handler500
handler403 = project_urls.handler403


def assert_error_shape(response, status):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["statusCode"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    return body


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_route_is_a_json_404_in_debug_mode_too(client, settings, debug):
    settings.DEBUG = debug
    body = assert_error_shape(client.get("/no/such/route"), 404)
    assert body["message"] == "No route for GET /no/such/route"


def test_a_wrong_method_is_a_json_405_naming_the_method(client):
    body = assert_error_shape(client.put("/-/healthz"), 405)
    assert "PUT" in body["message"]


# The body is read only for a caller with an identity: without one, a write is a 401 first.
DOCTOR = {"HTTP_MIAUSERID": "doctor-1", "HTTP_MIAUSERGROUPS": "doctor"}


def test_malformed_json_is_a_400_saying_so(client):
    response = client.post(
        "/teleconsultation", data='{"participants": ', content_type="application/json", **DOCTOR
    )
    body = assert_error_shape(response, 400)
    assert "JSON parse error" in body["message"]


def test_a_form_body_where_json_is_expected_is_a_415(client):
    response = client.post("/teleconsultation", data={"participants": "x"}, **DOCTOR)
    body = assert_error_shape(response, 415)
    assert "multipart/form-data" in body["message"]


def test_a_body_over_the_limit_is_refused_with_413_before_reading(client, settings):
    settings.REQUEST_MAX_BODY_BYTES = 100
    response = client.post(
        "/teleconsultation", data=json.dumps({"x": "y" * 200}), content_type="application/json"
    )
    body = assert_error_shape(response, 413)
    assert "limit is 100" in body["message"]


def test_validation_errors_carry_details_by_field_path(client):
    response = client.post("/teleconsultation", data={}, content_type="application/json", **DOCTOR)
    body = assert_error_shape(response, 400)
    assert body["error"] == "Bad Request"
    assert "participants" in body["details"] and "start_date" in body["details"]


@pytest.mark.urls(__name__)
def test_an_unhandled_error_is_a_logged_500_without_traceback(client, caplog):
    caplog.set_level(logging.ERROR)
    response = client.get("/explode", HTTP_X_REQUEST_ID="req-123")
    body = assert_error_shape(response, 500)
    assert "kaboom" not in json.dumps(body) and "Traceback" not in json.dumps(body)
    assert response["x-request-id"] == "req-123"
    record = next(r for r in caplog.records if r.name == "teleconsultation.errors")
    assert record.request_id == "req-123"
    assert "kaboom with a secret detail" in record.exc_text


@pytest.mark.urls(__name__)
def test_an_unhandled_error_outside_drf_is_a_json_500_too(client, caplog):
    caplog.set_level(logging.ERROR)
    assert_error_shape(client.get("/explode-django"), 500)


@pytest.mark.urls(__name__)
def test_not_found_and_permission_denied_outside_drf_keep_their_status(client):
    assert_error_shape(client.get("/missing-page"), 404)
    assert_error_shape(client.get("/forbidden-page"), 403)


@pytest.mark.parametrize(
    "method, path",
    [("get", "/teleconsultation"), ("post", "/teleconsultation"), ("get", "/credentials")],
)
def test_too_many_query_parameters_are_a_400_not_a_500(client, method, path):
    """Django refuses more than DATA_UPLOAD_MAX_NUMBER_FIELDS parameters; the caller is told so."""
    too_many = "&".join(f"p{number}=1" for number in range(1001))
    response = getattr(client, method)(f"{path}?{too_many}", HTTP_MIAUSERID="someone")
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "Too many parameters in the query string: the limit is 1000",
    }
