"""`make test`'s time-shifted leg (scripts/shifted_leg.py): the suite a year and a day ahead under
faketime, a clear skip without faketime on a laptop, and a failure without it under CI."""

import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "shifted_leg.py"
# A test that prints the day it sees, run without the project's plugins and conftests: what
# matters is the clock inside the test process, not the Django set-up (two seconds more).
DATE_TEST = """
from datetime import date


def test_the_day_it_sees():
    print("the test sees", date.today().isoformat())
"""


def unshifted_environment() -> dict[str, str]:
    """This process's environment without CI and without the time-shifted leg's own faketime,
    so the leg under test shifts from the real clock even when this test runs in that leg."""
    shifting = ("CI", "LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC")
    return {key: value for key, value in os.environ.items() if key not in shifting}


def real_today() -> date:
    result = subprocess.run(
        ["date", "-u", "+%Y-%m-%d"], env=unshifted_environment(), capture_output=True, text=True
    )
    return date.fromisoformat(result.stdout.strip())


def run_leg(tmp_path: Path, *, ci: str | None, path: str, shift: str = "+366d"):
    env = unshifted_environment()
    env["PATH"] = path
    if ci is not None:
        env["CI"] = ci
    test = tmp_path / "test_date.py"
    test.write_text(DATE_TEST)
    isolated = ["-c", os.devnull, "--rootdir", str(tmp_path), "--noconftest", "-p", "no:django"]
    return subprocess.run(
        [sys.executable, str(SCRIPT), shift, *isolated, "-q", "-s", str(test)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_without_faketime_the_leg_is_a_clearly_announced_skip_outside_ci(tmp_path):
    result = run_leg(tmp_path, ci=None, path=str(tmp_path))
    assert result.returncode == 0
    assert "Time-shifted leg SKIPPED: faketime is not installed" in result.stdout


def test_without_faketime_the_leg_fails_under_ci(tmp_path):
    result = run_leg(tmp_path, ci="true", path=str(tmp_path))
    assert result.returncode == 1
    assert "Time-shifted leg FAILED" in result.stdout and "CI requires it" in result.stdout


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
def test_the_leg_runs_the_tests_with_the_clock_a_year_and_a_day_ahead(tmp_path):
    result = run_leg(tmp_path, ci=None, path=os.environ["PATH"])
    ahead = real_today() + timedelta(days=366)
    assert result.returncode == 0, result.stdout + result.stderr
    # The leg says what day the tests see, and they see it; a day boundary crossed meanwhile is
    # allowed for.
    said = result.stdout.split("today reads as ", 1)[1].split()[0]
    seen = result.stdout.split("the test sees ", 1)[1].split()[0]
    assert said in {ahead.isoformat(), (ahead + timedelta(days=1)).isoformat()}
    assert seen == said
    assert "1 passed" in result.stdout
