"""`manage.py kaleyra_simulator` serves the simulator and says how to point the service at it."""

import socket
from io import StringIO
from unittest import mock
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.management import CommandError, call_command

from kaleyra.simulator.server import SimulatorServer, make_simulator_server


def test_the_command_prints_the_base_url_and_key_and_stops_on_ctrl_c(tmp_path):
    out = StringIO()
    db_path = tmp_path / "sim.sqlite3"
    with mock.patch.object(SimulatorServer, "serve_forever", side_effect=KeyboardInterrupt):
        call_command("kaleyra_simulator", port=0, api_key="k-123", db=str(db_path), stdout=out)
    text = out.getvalue()
    assert "BANDYER_BASE_URL=http://127.0.0.1:" in text
    assert "BANDYER_API_SECRET_KEY=k-123" in text
    assert "Stopped." in text
    assert db_path.exists()


def test_a_busy_port_is_a_command_error_not_a_traceback(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CommandError, match=f"Cannot listen on 127.0.0.1:{port}"):
            call_command("kaleyra_simulator", port=port, db=str(tmp_path / "sim.sqlite3"))


def test_latency_ms_reaches_the_server(tmp_path):
    served = []

    def serve_forever(server):
        served.append(server.get_app().latency)
        raise KeyboardInterrupt

    out = StringIO()
    with mock.patch.object(SimulatorServer, "serve_forever", serve_forever):
        call_command(
            "kaleyra_simulator", port=0, latency_ms=250, db=str(tmp_path / "s.db"), stdout=out
        )
    assert served == [0.25]
    assert "delayed by 250 ms" in out.getvalue()


def test_a_negative_latency_is_refused(tmp_path):
    with pytest.raises(CommandError, match="latency"):
        call_command("kaleyra_simulator", port=0, latency_ms=-1, db=str(tmp_path / "s.db"))


def wsgi_get(app, path: str) -> str:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "HTTP_APIKEY": "k"}
    setup_testing_defaults(environ)
    statuses = []
    app(environ, lambda status, headers: statuses.append(status))
    return statuses[0]


def test_every_answer_waits_the_latency_first(tmp_path):
    server = make_simulator_server(tmp_path / "s.db", api_key="k", latency=0.25)
    try:
        app = server.get_app()
        waits = []
        app.sleep = waits.append
        assert wsgi_get(app, "/v2/company").startswith("200")
        assert wsgi_get(app, "/v2/nothing").startswith("404")
        assert wsgi_get(app, "/join/unknown").startswith("404")
    finally:
        server.server_close()
    assert waits == [0.25, 0.25, 0.25]


def test_without_latency_no_answer_waits(tmp_path):
    server = make_simulator_server(tmp_path / "s.db", api_key="k")
    try:
        app = server.get_app()
        waits = []
        app.sleep = waits.append
        wsgi_get(app, "/v2/company")
    finally:
        server.server_close()
    assert waits == []
