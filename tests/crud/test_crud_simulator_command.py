"""`manage.py crud_simulator` serves the simulator, configures collections, and says how to
point the service at it; a busy port is a CommandError, not a traceback."""

import socket
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from crud.simulator.engine import Engine
from crud.simulator.server import SimulatorServer
from crud.simulator.store import Store


def run(*args: str) -> str:
    out = StringIO()
    with mock.patch.object(SimulatorServer, "serve_forever", side_effect=KeyboardInterrupt):
        call_command("crud_simulator", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_the_settings_to_use_and_stops_on_ctrl_c(tmp_path, settings):
    settings.CRUD_USER_ID_HEADER = "miauserid"
    db_path = tmp_path / "crud.sqlite3"
    text = run("--port", "0", "--db", str(db_path))
    assert "CRUD_SERVICE_URL=http://127.0.0.1:" in text
    assert "CRUD_USER_ID_HEADER=miauserid" in text
    assert "Stopped." in text
    assert db_path.exists()


def test_unique_indexes_and_default_states_are_configured(tmp_path):
    db_path = tmp_path / "crud.sqlite3"
    run(
        "--port",
        "0",
        "--db",
        str(db_path),
        "--unique",
        "users:receivedUserId",
        "--unique",
        "links:roomId+userId",
        "--default-state",
        "users:PUBLIC",
    )
    with Store(db_path).snapshot() as connection:
        users = Engine(Store(db_path))._collection(connection, "users")
        links = Engine(Store(db_path))._collection(connection, "links")
    assert (users.default_state, users.unique) == ("PUBLIC", (("receivedUserId",),))
    assert (links.default_state, links.unique) == ("DRAFT", (("roomId", "userId"),))


@pytest.mark.parametrize("option", [("--unique", "users"), ("--default-state", "users:ARCHIVED")])
def test_a_malformed_option_is_a_command_error(tmp_path, option):
    with pytest.raises(CommandError):
        run("--port", "0", "--db", str(tmp_path / "crud.sqlite3"), *option)


def test_a_busy_port_is_a_command_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port}"):
            run("--port", str(port), "--db", str(tmp_path / "crud.sqlite3"))
