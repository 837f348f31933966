"""pytest fixtures for code that talks to the CRUD Service: import them in a conftest
(`from crud.simulator.pytest_plugin import crud_simulator, crud_simulator_http`) or register
the module with `pytest_plugins = ["crud.simulator.pytest_plugin"]`.

- `crud_simulator`: CRUD_SIMULATOR_DB points at a fresh state file, so CrudClient.from_settings()
  is answered in-process (no socket) at CRUD_SERVICE_URL; yields the `CrudSimulator` handle.
- `crud_simulator_http`: the simulator served on a free loopback port in a thread, and
  CRUD_SERVICE_URL pointing at it (real client, real sockets); yields the handle. The server is
  shut down after the test.
"""

import pytest

from crud.simulator.handle import CrudSimulator
from crud.simulator.server import serve_in_thread


@pytest.fixture
def crud_simulator(settings, tmp_path):
    db_path = tmp_path / "crud-simulator.sqlite3"
    settings.CRUD_SIMULATOR_DB = str(db_path)
    yield CrudSimulator(
        db_path,
        base_url=settings.CRUD_SERVICE_URL,
        user_id_header=settings.CRUD_USER_ID_HEADER,
        in_process=True,
    )


@pytest.fixture
def crud_simulator_http(settings, tmp_path):
    db_path = tmp_path / "crud-simulator-http.sqlite3"
    header = settings.CRUD_USER_ID_HEADER
    with serve_in_thread(db_path, user_id_header=header) as base_url:
        settings.CRUD_SERVICE_URL = base_url
        settings.CRUD_SIMULATOR_DB = ""
        settings.CRUD_SERVICE_CONNECT_TIMEOUT_SECONDS = 1.0
        settings.CRUD_SERVICE_TIMEOUT_SECONDS = 5.0
        yield CrudSimulator(db_path, base_url=base_url, user_id_header=header, in_process=False)
