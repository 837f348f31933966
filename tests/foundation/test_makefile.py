"""The Makefile: `make help` lists the targets; `make run PORT=...` serves on that port."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(*args):
    # -o: never re-install the virtual environment from inside a test.
    return ["make", "--no-print-directory", "-o", ".venv/.installed", "-o", ".venv/.runtime", *args]


def test_make_help_lists_every_target():
    listed = subprocess.run(make("help"), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    for target in phony:
        assert re.search(rf"^\s*make {re.escape(target)}\s", listed.stdout, re.M), target


def test_make_run_serves_on_the_port_given(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KALEYRA_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        KALEYRA_SIMULATOR_DB=str(tmp_path / "simulator.sqlite3"),
    )
    log = tmp_path / "make-run.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            make("run", f"PORT={port}"),
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # runserver and its reloader stop with the group
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                url = f"http://127.0.0.1:{port}/-/healthz"
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
        # The simulator's webhooks reach the service itself: deleting a visit deletes its room,
        # and the simulator posts on_room_deleted back to /webhooks/kaleyra.
        base = f"http://127.0.0.1:{port}"
        # The server runs on the real clock: the visit is dated from it.
        start = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        visit = call_api(base, "POST", "/teleconsultation", {**VISIT, "start_date": start})[
            "roomId"
        ]
        call_api(base, "DELETE", f"/teleconsultation/{visit}")
        while "POST /webhooks/kaleyra 200" not in log.read_text():
            assert time.monotonic() < deadline + 10, log.read_text()
            time.sleep(0.2)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert f"http://127.0.0.1:{port}/documentation/" in log.read_text()
    assert f"http://127.0.0.1:{port}/webhooks/kaleyra" in log.read_text()


VISIT = {
    "participants": {
        "number": 2,
        "data": [
            {"userExternalId": "doctor-1", "groups": ["doctor"], "fullName": "Dr. Ada"},
            {"userExternalId": "patient-1", "groups": ["customer"], "fullName": "Bob"},
        ],
    },
    "duration_in_seconds": 1800,
}


def call_api(base: str, method: str, path: str, payload: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 (the server this test started)
        base + path,
        method=method,
        data=json.dumps(payload).encode() if payload is not None else None,
        headers={"Content-Type": "application/json", "isbackoffice": "true"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        body = response.read()
    return json.loads(body) if body else {}


def test_make_run_stays_in_development_mode_with_the_production_env_file(tmp_path):
    """`cp .env.example .env` (docker compose's production settings) does not turn `make run`
    into production mode: it says so before it starts and serves /documentation/ on 127.0.0.1.
    The copy is named through DJANGO_ENV_FILE so that no test writes the checkout's own .env."""
    production = tmp_path / "production.env"
    production.write_text((ROOT / ".env.example").read_text())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KALEYRA_"))}
    env.update(
        DJANGO_ENV_FILE=str(production),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        KALEYRA_SIMULATOR_DB=str(tmp_path / "simulator.sqlite3"),
    )
    log = tmp_path / "make-run.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            make("run", f"PORT={port}"),
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                url = f"http://127.0.0.1:{port}/documentation/"
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    assert response.status == 200
                    assert "swagger-ui" in response.read().decode()
                    break
            except urllib.error.HTTPError:
                raise
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    output = log.read_text()
    said = output.find("sets DJANGO_DEBUG=false")
    assert 0 <= said < output.find("API docs (Swagger)"), output
    assert "leaves that file out" in output
