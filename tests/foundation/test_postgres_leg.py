"""`make test`'s PostgreSQL leg: a clear skip on a laptop, a failure under CI."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "postgres_leg.py"
UNREACHABLE = "postgres://postgres@127.0.0.1:1/test"


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
