"""Health probes, request ids, JSON logs without secrets, and the API documentation."""

import json
import logging
from unittest import mock

import pytest
from django.core.management import call_command
from django.db.utils import OperationalError

from teleconsultation_project.logs import JsonLineFormatter, RedactSecretsFilter, RequestIdFilter


@pytest.mark.django_db
def test_healthz_answers_ok(client):
    response = client.get("/-/healthz")
    assert response.status_code == 200 and response.json()["status"] == "OK"


@pytest.mark.django_db
def test_ready_answers_ok_when_the_database_answers(client):
    response = client.get("/-/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "OK"}


@pytest.mark.django_db
def test_ready_answers_503_when_the_database_does_not(client):
    with mock.patch(
        "teleconsultation_project.health.connection.cursor", side_effect=OperationalError("down")
    ):
        response = client.get("/-/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "KO", "checks": {"database": "KO"}}


@pytest.mark.django_db
def test_check_up_reports_the_video_provider(client, simulator):
    assert client.get("/-/check-up").json()["checks"] == {"database": "OK", "videoProvider": "OK"}
    simulator.fail_next("get_company", mode="drop", times=10)  # a ping is GET /v2/company
    response = client.get("/-/check-up")
    assert response.status_code == 503
    assert response.json()["checks"]["videoProvider"] == "KO"


@pytest.mark.django_db
def test_the_request_id_is_taken_from_the_gateway_or_generated(client):
    assert client.get("/-/healthz", HTTP_X_REQUEST_ID="abc-1")["x-request-id"] == "abc-1"
    generated = client.get("/-/healthz")["x-request-id"]
    assert len(generated) == 32
    # A header that could forge log lines is replaced, not echoed.
    assert client.get("/-/healthz", HTTP_X_REQUEST_ID='a"\n{b')["x-request-id"] != 'a"\n{b'


def format_record(message, *args, exc_info=None):
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, args, exc_info)
    RequestIdFilter().filter(record)
    RedactSecretsFilter().filter(record)
    return json.loads(JsonLineFormatter().format(record))


def test_log_lines_are_json_and_never_contain_the_api_key_or_a_join_link(settings):
    settings.BANDYER_API_SECRET_KEY = "ak_live_supersecret"
    line = format_record(
        "calling with %s and link %s",
        "ak_live_supersecret",
        "https://sandbox.bandyer.com/connect/direct-rest-call-handler/tok123?x=1",
    )
    assert "supersecret" not in line["message"]
    assert "tok123" not in line["message"]
    assert set(line) >= {"time", "level", "logger", "message", "request_id"}


def test_exceptions_in_logs_are_redacted_too(settings):
    settings.BANDYER_API_SECRET_KEY = "ak_live_supersecret"
    try:
        raise ValueError("bad key ak_live_supersecret")
    except ValueError:
        import sys

        line = format_record("failed", exc_info=sys.exc_info())
    assert "supersecret" not in line["exception"]


@pytest.mark.django_db
def test_swagger_ui_is_served_with_local_assets(client):
    response = client.get("/documentation/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn." not in page and "unpkg" not in page


@pytest.mark.django_db
def test_the_openapi_document_is_served_as_json(client):
    response = client.get("/documentation/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/teleconsultation/{roomId}" in document["paths"]


def test_the_schema_generates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


@pytest.mark.django_db
def test_every_reference_in_the_openapi_document_resolves(client):
    document = client.get("/documentation/json", HTTP_ACCEPT="application/json").json()

    def references(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from references(value)
        elif isinstance(node, list):
            for value in node:
                yield from references(value)

    components = document["components"]["schemas"]
    missing = {ref for ref in references(document) if ref.split("/")[-1] not in components}
    assert missing == set()


@pytest.mark.django_db
def test_djangos_own_error_lines_carry_the_request_id(client, simulator, caplog):
    simulator.fail_next("get_company", mode="drop", times=10)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/-/check-up", HTTP_X_REQUEST_ID="req-503")
    record = next(r for r in caplog.records if r.name == "django.request")
    RequestIdFilter().filter(record)
    assert record.request_id == "req-503"
