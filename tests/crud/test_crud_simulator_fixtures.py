"""The pytest fixtures put CrudClient.from_settings() in front of a fresh simulator."""

import pytest
import requests
import responses

from crud.client import CrudClient
from crud.simulator.server import serve_in_thread


def test_crud_simulator_answers_the_configured_client_in_process(crud_simulator, settings):
    with responses.RequestsMock():  # a call reaching the network transport would fail here
        client = CrudClient.from_settings().as_user("doctor-1")
        document_id = client.create("teleconsultations", {"bandyerRoomId": "r1"})
    assert crud_simulator.base_url == settings.CRUD_SERVICE_URL
    assert crud_simulator.document("teleconsultations", document_id)["creatorId"] == "doctor-1"


def test_each_test_starts_from_an_empty_simulator(crud_simulator):
    assert crud_simulator.documents("teleconsultations") == []


@pytest.fixture
def simulator_file_from_the_environment(settings, tmp_path):
    settings.CRUD_SIMULATOR_DB = str(tmp_path / "developer.sqlite3")


def test_crud_simulator_http_serves_the_configured_client_over_a_socket(
    simulator_file_from_the_environment, crud_simulator_http, settings
):
    assert settings.CRUD_SERVICE_URL.startswith("http://127.0.0.1:")
    assert settings.CRUD_SIMULATOR_DB == ""
    client = CrudClient.from_settings().as_user("doctor-1")
    document_id = client.create("teleconsultations", {"__STATE__": "PUBLIC"})
    assert client.get("teleconsultations", document_id)["creatorId"] == "doctor-1"
    assert crud_simulator_http.document("teleconsultations", document_id) is not None


def test_the_server_is_gone_after_its_context(tmp_path):
    session = requests.Session()
    session.trust_env = False  # loopback only, whatever proxy the environment names
    with serve_in_thread(tmp_path / "crud.sqlite3") as base_url:
        assert session.get(f"{base_url}/-/healthz", timeout=5).json() == {"status": "OK"}
    with pytest.raises(requests.ConnectionError):
        session.get(f"{base_url}/-/healthz", timeout=5)
