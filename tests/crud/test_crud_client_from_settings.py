"""CrudClient.from_settings(): the configured service, or the in-process simulator."""

import responses
from responses import matchers

from crud.client import CrudClient


def test_it_calls_the_configured_service_with_the_configured_header(settings):
    settings.CRUD_SIMULATOR_DB = ""
    settings.CRUD_SERVICE_URL = "http://crud.mia.svc:8080/"
    settings.CRUD_USER_ID_HEADER = "miauserid"
    settings.CRUD_SERVICE_CONNECT_TIMEOUT_SECONDS = 1.5
    settings.CRUD_SERVICE_TIMEOUT_SECONDS = 4.0
    with responses.RequestsMock() as mock:
        mock.post(
            "http://crud.mia.svc:8080/users/",
            json={"_id": "a" * 24},
            match=[matchers.header_matcher({"miauserid": "u1"})],
        )
        assert CrudClient.from_settings().as_user("u1").create("users", {"bandyerId": "b"})
        assert mock.calls[0].request.req_kwargs["timeout"] == (1.5, 4.0)


def test_with_a_simulator_file_it_is_answered_in_process(settings, tmp_path):
    settings.CRUD_SIMULATOR_DB = str(tmp_path / "crud.sqlite3")
    settings.CRUD_USER_ID_HEADER = "miauserid"
    client = CrudClient.from_settings()
    with responses.RequestsMock():  # any call reaching the transport would fail here
        document_id = client.as_user("u1").create("users", {"__STATE__": "PUBLIC"})
        assert client.get("users", document_id)["creatorId"] == "u1"
    assert (tmp_path / "crud.sqlite3").exists()
