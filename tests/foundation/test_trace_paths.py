"""The shape docs/architecture.md promises, as `scripts/trace_paths.py` measures it: a POST with
known users enters at most 18 project modules, and no traced path calls back up."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_post_enters_at_most_18_modules_and_no_path_calls_back_up():
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))}
    environment.pop("VISIT_EVENTS_URLS", None)
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "trace_paths.py"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout)
    assert figures["post_known_users"]["modules"] <= 18, figures["post_known_users"]["file_list"]
    for name, path in figures.items():
        assert path["calls_back_up"] == 0, (name, path["back_up_list"])
