"""`manage.py kaleyra_simulator` serves the simulator and says how to point the service at it."""

import socket
from io import StringIO
from unittest import mock
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.management import CommandError, call_command

from kaleyra.errors import KaleyraRateLimited
from kaleyra.provider import get_video_provider
from kaleyra.simulator.server import SimulatorServer, make_simulator_server
from kaleyra.types import ParticipantSpec, Role


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


def test_the_command_ends_a_session_and_a_recording_follows(simulator, settings):
    provider = get_video_provider()
    provider.create_user(user_id="doctor", role=Role.PLUS)
    provider.create_user(user_id="patient", role=Role.BASIC)
    specs = [ParticipantSpec("doctor", True, {}), ParticipantSpec("patient", False, {})]
    room = provider.create_room(participants=specs, duration=None, live=True)
    simulator.open_link(room.link_for("doctor"))
    simulator.open_link(room.link_for("patient"))
    out = StringIO()
    call_command(
        "kaleyra_simulator", end_session=room.id, db=settings.KALEYRA_SIMULATOR_DB, stdout=out
    )
    assert f"Ended the session of room {room.id}" in out.getvalue()
    (session,) = simulator.sessions(room.id)
    assert session["end_date"] is not None


def test_the_command_sets_a_rate_limit_in_the_state_file(simulator, settings):
    with pytest.raises(CommandError, match="room_none"):
        call_command(
            "kaleyra_simulator",
            rate_limit="1/60,no-retry-after",
            end_session="room_none",
            db=settings.KALEYRA_SIMULATOR_DB,
            stdout=StringIO(),
        )
    provider = get_video_provider()
    provider.create_user(user_id="u", role=Role.PLUS)
    with pytest.raises(KaleyraRateLimited) as caught:
        provider.create_sdk_credentials(user_id="u", expires_in=600)
    assert caught.value.retry_after is None


@pytest.mark.parametrize("value", ["300", "0/60", "300/0", "300/x", "300/60,maybe"])
def test_a_malformed_rate_limit_is_a_command_error(simulator, settings, value):
    with pytest.raises(CommandError, match="--rate-limit"):
        call_command("kaleyra_simulator", rate_limit=value, db=settings.KALEYRA_SIMULATOR_DB)
