"""A CRUD Service that does not answer is a 503 for the caller, in the error shape, on every
endpoint that reads or writes teleconsultations; nothing is made on Kaleyra meanwhile."""

import socket

import pytest

from tests.rooms.conftest import body, doctor, patient

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def crud_down(settings):
    # A loopback port nobody listens on: connections are refused at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.STORAGE_BACKEND = "crud"
    settings.CRUD_SIMULATOR_DB = ""
    settings.CRUD_SERVICE_URL = f"http://127.0.0.1:{port}"
    settings.CRUD_SERVICE_GET_RETRIES = 0


def assert_storage_down(response):
    assert response.status_code == 503, response.json()
    answer = response.json()
    assert answer["error"] == "Service Unavailable"
    assert "teleconsultation storage is unavailable" in answer["message"]
    assert "127.0.0.1" not in answer["message"]


def test_create_is_a_503_and_makes_no_room(api, crud_down, simulator):
    assert_storage_down(api.post("/teleconsultation", body([doctor(), patient()]), format="json"))
    assert simulator.call_count("create_room") == 0


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_reads_and_writes_of_a_visit_are_503s(api, crud_down, method):
    visit = "0123456789abcdef01234567"
    api.as_user("doctor-1", ("doctor",))
    call = getattr(api, method)
    payload = {"duration_in_seconds": 900} if method == "patch" else None
    assert_storage_down(call(f"/teleconsultation/{visit}", payload, format="json"))
