"""`manage.py kaleyra_simulator` serves the simulator and says how to point the service at it."""

from io import StringIO
from unittest import mock

from django.core.management import call_command

from kaleyra.simulator.server import SimulatorServer


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
