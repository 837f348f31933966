"""A command whose reader goes away (`manage.py export_audit ... | head`) ends quietly."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_into_closed_pipe(tmp_path, *args):
    """Runs manage.py with stdout a pipe whose reading end is closed before it starts, so its
    first write meets a closed pipe whatever the timing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KALEYRA_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", PYTHONDONTWRITEBYTECODE="1")
    manage = [sys.executable, "manage.py"]
    migrated = subprocess.run(
        [*manage, "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    reading, writing = os.pipe()
    os.close(reading)
    try:
        return subprocess.run(
            [*manage, *args],
            cwd=ROOT,
            env=env,
            stdout=writing,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(writing)


def test_export_audit_into_a_closed_pipe_ends_without_a_traceback(tmp_path):
    result = run_into_closed_pipe(
        tmp_path, "export_audit", "--since", "2020-01-01T00:00:00Z", "--format", "csv"
    )
    assert result.stderr == ""
    assert result.returncode == 141  # as a shell tool killed by SIGPIPE: 128 + 13


def test_any_command_writing_to_a_closed_pipe_ends_the_same_way(tmp_path):
    result = run_into_closed_pipe(tmp_path, "showmigrations", "rooms")
    assert result.stderr == ""
    assert result.returncode == 141
