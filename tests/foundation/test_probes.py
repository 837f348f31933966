"""Probes: alive, ready (database and migrations), check-up, in lc39's shape; any Host; never a
log line."""

import logging
from unittest import mock

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import OperationalError

from teleconsultation_project import health

# lc39 names the service and its version in every probe's answer (package.json there).
SERVICE = {"name": "teleconsultation-service", "version": "0.1.0"}
PROBES = ("/-/healthz", "/-/ready", "/-/check-up", "/-/metrics")


@pytest.fixture
def unconfirmed_migrations(monkeypatch):
    """A fresh process: it has not yet seen every migration applied."""
    monkeypatch.setattr(health.migrations, "all_applied", False)


def forget_last_migration(app: str = "rooms") -> None:
    MigrationRecorder(connection).migration_qs.filter(app=app).order_by("-id").first().delete()


@pytest.mark.django_db
def test_healthz_answers_ok_with_the_services_name_and_version(client):
    response = client.get("/-/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "OK", **SERVICE}


def test_the_name_and_version_are_pyprojects():
    assert (health.NAME, health.VERSION) == (SERVICE["name"], SERVICE["version"])


@pytest.mark.django_db
def test_ready_answers_ok_when_the_database_answers_and_is_migrated(client, unconfirmed_migrations):
    response = client.get("/-/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "OK", **SERVICE, "checks": {"database": "OK"}}


@pytest.mark.django_db
def test_ready_answers_503_ko_in_lc39s_shape_when_the_database_does_not(client):
    with mock.patch(
        "teleconsultation_project.health.connection.cursor", side_effect=OperationalError("down")
    ):
        response = client.get("/-/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "KO",
        **SERVICE,
        "checks": {"database": "does not answer"},
    }


@pytest.mark.django_db
def test_ready_is_not_ready_until_every_migration_is_applied(client, unconfirmed_migrations):
    forget_last_migration()
    response = client.get("/-/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "KO"
    assert body["checks"]["database"] == "1 migration(s) not applied yet"


@pytest.mark.django_db
def test_ready_remembers_once_every_migration_was_applied(client, unconfirmed_migrations):
    assert client.get("/-/ready").status_code == 200
    forget_last_migration()
    # Migrations are not un-applied under a running process; a new one means a new deployment.
    with mock.patch.object(health, "MigrationExecutor", side_effect=AssertionError("re-read")):
        assert client.get("/-/ready").status_code == 200


@pytest.mark.django_db
def test_check_up_reports_the_video_provider(client, simulator):
    healthy = client.get("/-/check-up")
    assert healthy.status_code == 200
    assert healthy.json() == {
        "status": "OK",
        **SERVICE,
        "checks": {"database": "OK", "videoProvider": "OK"},
    }
    simulator.fail_next("get_company", mode="drop", times=10)  # a ping is GET /v2/company
    response = client.get("/-/check-up")
    assert response.status_code == 503
    assert response.json() == {
        "status": "KO",
        **SERVICE,
        "checks": {"database": "OK", "videoProvider": "does not answer"},
    }


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["10.42.3.17:8000", "evil.example.com", "127.0.0.1:8000"])
@pytest.mark.parametrize("path", PROBES)
def test_probes_answer_whatever_the_host(client, settings, host, path):
    settings.ALLOWED_HOSTS = ["teleconsultation.example.org"]
    response = client.get(path, HTTP_HOST=host)
    assert response.status_code == 200, response.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/teleconsultation/abc", "/documentation/json", "/-/healthz/"])
def test_every_other_path_keeps_the_allowed_hosts(client, settings, path):
    settings.ALLOWED_HOSTS = ["teleconsultation.example.org"]
    assert client.get(path, HTTP_HOST="10.42.3.17:8000").status_code == 400
    assert client.get(path, HTTP_HOST="teleconsultation.example.org").status_code != 400


@pytest.mark.django_db
def test_probes_log_nothing_at_info_or_above(client, caplog, unconfirmed_migrations):
    forget_last_migration()
    with caplog.at_level(logging.DEBUG):
        assert client.get("/-/ready").status_code == 503
        for path in PROBES:
            client.get(path)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []


@pytest.mark.django_db
def test_other_paths_are_logged(client, caplog):
    with caplog.at_level(logging.INFO):
        client.get("/no-such-path")
    assert [r.getMessage() for r in caplog.records] == ["GET /no-such-path 404"]


@pytest.mark.django_db
def test_probes_answer_plain_http_when_everything_else_is_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert [client.get(path).status_code for path in PROBES] == [200] * len(PROBES)
    assert client.get("/documentation/").status_code == 301
