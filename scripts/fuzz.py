"""`make fuzz`: schemathesis against a live server, over the OpenAPI document that server serves.

Starts gunicorn on a free loopback port with a throwaway SQLite database and the in-process
Kaleyra simulator, schedules a few visits so that operations on `{roomId}` reach a real one most
of the time, runs `st run` as a doctor who is also a settings admin, with a fixed seed and a small
number of examples per operation, then prints a summary. Exits non-zero when any check fails: a
5xx, a status code, content type or body the document does not declare.

    python scripts/fuzz.py [--max-examples N] [--seed N] [extra `st run` options...]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
IDENTITY = {"miauserid": "fuzz-doctor", "miausergroups": "doctor,admin"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(directory: Path, port: int, overrides: dict[str, str]) -> dict[str, str]:
    """The caller's environment without service settings, plus a database of our own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "BANDYER_", "KALEYRA_", "TELECONSULTATION", "AUTH_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{directory / 'service.sqlite3'}",
        KALEYRA_BACKEND="simulator",
        KALEYRA_SIMULATOR_DB=str(directory / "kaleyra-simulator.sqlite3"),
        KALEYRA_SIMULATOR_PUBLIC_URL=f"http://127.0.0.1:{port}/kaleyra-simulator",
        LOG_LEVEL="WARNING",
    )
    env.update(overrides)
    return env


def wait_until_healthy(base_url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/-/healthz", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer on {base_url} within {timeout:g} seconds")


@contextmanager
def live_server(directory: Path, server_log, **overrides: str) -> Iterator[str]:
    """gunicorn serving the project on a free loopback port, its output in `server_log`;
    yields its base URL."""
    port = free_port()
    env = server_environment(directory, port, overrides)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "teleconsultation_project.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "60"),
            # As gunicorn.conf.py: what gunicorn refuses itself is answered in the error shape.
            *("--worker-class", "teleconsultation_project.gunicorn_worker.JsonErrorWorker"),
            *("--log-level", "warning"),
            "--no-control-socket",  # its default path is shared by every gunicorn of the user
        ],
        cwd=ROOT,
        env=env,
        # One access line per request would bury the fuzz's own report: kept in a file, shown
        # when the run fails.
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, server)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def schedule_visit(base_url: str, *, expected: int, known: list[tuple[str, str]]) -> str:
    """POSTs a visit tomorrow with the fuzzing doctor and `known` (user id, group) participants."""
    start = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    people = [(IDENTITY["miauserid"], "doctor"), *known]
    payload = {
        "participants": {
            "number": expected,
            "data": [
                {"userExternalId": user, "groups": [group], "fullName": user}
                for user, group in people
            ],
        },
        "start_date": start,
        "duration_in_seconds": 1800,
    }
    request = urllib.request.Request(  # noqa: S310 (a loopback URL of our own)
        f"{base_url}/teleconsultation",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **IDENTITY},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)["roomId"]


def write_config(directory: Path, base_url: str) -> Path:
    """Most `{roomId}` values name a real visit: one waiting for a participant, one complete.
    DELETE gets visits of its own, so the others live through the run. Most groups are ones that
    grant a role, so that generated visits get past validation into the services."""
    visits = [
        schedule_visit(base_url, expected=3, known=[("patient-1", "customer")]),
        schedule_visit(base_url, expected=2, known=[("patient-2", "customer")]),
    ]
    doomed = [schedule_visit(base_url, expected=2, known=[]) for _ in range(2)]
    config = directory / "schemathesis.toml"
    config.write_text(
        f"""
[dictionaries.visits]
values = {json.dumps(visits)}

[dictionaries.doomed]
values = {json.dumps(doomed)}

[dictionaries.groups]
values = ["doctor", "customer"]

[parameters]
"path.roomId" = {{ dictionary = "visits", probability = 0.8 }}
"body.participants.data[*].groups[*]" = {{ dictionary = "groups", probability = 0.9 }}
"body.groups[*]" = {{ dictionary = "groups", probability = 0.9 }}

[[operations]]
include-name = "DELETE /teleconsultation/{{roomId}}"
parameters = {{ "path.roomId" = {{ dictionary = "doomed", probability = 0.5 }} }}
"""
    )
    return config


def schemathesis_command(
    base_url: str, config: Path, *, max_examples: int, seed: int, extra: list[str]
) -> list[str]:
    headers = [option for name, value in IDENTITY.items() for option in ("-H", f"{name}: {value}")]
    return [
        str(BIN / "st"),
        *("--config-file", str(config)),
        "run",
        f"{base_url}/documentation/json",
        *("--url", base_url),
        *("--checks", ",".join(CHECKS)),
        *("--max-examples", str(max_examples)),
        *("--seed", str(seed)),
        *("--workers", "1"),
        *("--generation-database", "none"),
        *("--request-timeout", "30"),
        *headers,
        *extra,
    ]


def summary(report_path: Path, returncode: int, elapsed: float, options) -> tuple[bool, str]:
    """One line from schemathesis' JSON report: passed or not, and what was found."""
    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError):
        return False, f"FAILED: schemathesis exited {returncode} without a report"
    cases = report["test_cases"]
    found = [f"{failure['count']} x {failure['title']}" for failure in report["failures"]]
    found += [f"error: {error}" for error in report["errors"]]
    passed = returncode == 0 and not found and report["stop_reason"] == "completed"
    verdict = "passed" if passed else "FAILED (" + "; ".join(found or ["see above"]) + ")"
    return passed, (
        f"Fuzz {verdict}: {cases['generated']} test cases over {report['operations']['tested']} "
        f"operations, {cases['with_failures']} with failures, {len(report['errors'])} errors; "
        f"checks {', '.join(CHECKS)}; at most {options.max_examples} examples per operation, "
        f"seed {options.seed}; {elapsed:.0f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=14)
    options, extra = parser.parse_known_args()

    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="teleconsultation-fuzz-") as scratch,
        open(Path(scratch) / "server.log", "w+b") as server_log,
        live_server(Path(scratch), server_log) as base_url,
    ):
        config = write_config(Path(scratch), base_url)
        report = Path(scratch) / "report.json"
        command = schemathesis_command(
            base_url,
            config,
            max_examples=options.max_examples,
            seed=options.seed,
            extra=["--report", "json", "--report-json-path", str(report), *extra],
        )
        print("==> " + " ".join(command), flush=True)
        # In the scratch directory: schemathesis keeps a cache of past failures in its cwd.
        result = subprocess.run(command, cwd=scratch, check=False)
        passed, line = summary(report, result.returncode, time.monotonic() - started, options)
        if not passed:
            server_log.seek(0)
            tail = server_log.read().decode(errors="replace").splitlines()[-60:]
            print("==> The server's last lines:", *tail, sep="\n")
    print("==> " + line)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
