"""`make test`'s PostgreSQL leg: a clear skip on a laptop, a failure under CI, and a test
database of its own per run, dropped at the end."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import environ
import psycopg
import pytest

from teleconsultation_project.envcheck import read_database

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "postgres_leg.py"
UNREACHABLE = "postgres://postgres@127.0.0.1:1/test"
sys.path.insert(0, str(SCRIPT.parent))
import postgres_leg  # noqa: E402

# A database name of these tests' own: the URL's database need not exist, and its test database
# is test_<name>_<pid>, so nothing here touches what other runs use.
SERVER = os.environ.get("POSTGRES_TEST_URL", "postgres://postgres@127.0.0.1:5432/test")
URL = urlsplit(SERVER)._replace(path="/leg_check").geturl()
ONE_DATABASE_TEST = (
    "tests/foundation/test_probes.py::test_healthz_answers_ok_with_the_services_name_and_version"
)


def run_leg(ci: str | None):
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, str(SCRIPT), UNREACHABLE, "--collect-only"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_an_unreachable_server_is_a_clearly_announced_skip_outside_ci():
    result = run_leg(ci=None)
    assert result.returncode == 0
    assert "PostgreSQL leg SKIPPED" in result.stdout and UNREACHABLE in result.stdout


def test_an_unreachable_server_fails_the_run_under_ci():
    result = run_leg(ci="true")
    assert result.returncode == 1
    assert "PostgreSQL leg FAILED" in result.stdout and "CI requires it" in result.stdout


def test_the_test_database_name_comes_from_database_test_name(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/teleconsultation")
    monkeypatch.setenv("DATABASE_TEST_NAME", "test_teleconsultation_4242")
    assert read_database(environ.Env(), tmp_path)["TEST"] == {"NAME": "test_teleconsultation_4242"}
    assert postgres_leg.test_database_name(URL, 4242) == "test_leg_check_4242"


def server_databases() -> set[str]:
    with postgres_leg.connect(URL, connect_timeout=3) as connection:
        return {row[0] for row in connection.execute("SELECT datname FROM pg_database")}


def reachable() -> bool:
    try:
        server_databases()
    except psycopg.Error:
        return False
    return True


needs_postgres = pytest.mark.skipif(
    not reachable(), reason=f"no PostgreSQL server answers at {SERVER}"
)


def start_leg(hold_seconds: float) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "DATABASE_URL")}
    env["HOLD_TEST_DATABASE_SECONDS"] = str(hold_seconds)
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), URL, "-q", "-p", "tests.foundation.hold_test_database"]
        + [ONE_DATABASE_TEST],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


# It starts two pytest runs against the server (~11 s): the PostgreSQL leg runs it, so the SQLite
# leg stays within its budget (docs/testing.md).
@pytest.mark.postgres_only
@needs_postgres
def test_two_runs_on_one_server_keep_their_own_test_databases_and_drop_them():
    first = start_leg(hold_seconds=8)
    first_database = postgres_leg.test_database_name(URL, first.pid)
    deadline = time.monotonic() + 60
    # Whatever its name, once the first run's test database exists the first run is using it.
    while not any(name.startswith("test_leg_check") for name in server_databases()):
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()[0]
        time.sleep(0.2)
    second = start_leg(hold_seconds=0)
    second_output = second.communicate(timeout=120)[0]
    first_output = first.communicate(timeout=120)[0]
    assert second.returncode == 0, second_output
    assert first.returncode == 0, first_output
    assert f"test database {first_database}" in first_output
    remaining = server_databases()
    assert first_database not in remaining
    assert postgres_leg.test_database_name(URL, second.pid) not in remaining


@needs_postgres
def test_a_test_database_left_behind_is_dropped(tmp_path):
    leaked = postgres_leg.test_database_name(URL, 999999)
    with postgres_leg.connect(URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{leaked}"')
    postgres_leg.drop_database(URL, leaked)
    assert leaked not in server_databases()
