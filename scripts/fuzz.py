"""`make fuzz`: schemathesis against a live server, over the OpenAPI document that server serves.

Starts gunicorn on a free loopback port with a throwaway SQLite database and the in-process
Kaleyra simulator, runs `st run` as a doctor who is also a settings admin, with a fixed seed and
a small number of examples per operation, then prints a summary. Exits non-zero when any check
fails: a 5xx, a status code, content type or body the document does not declare.

    python scripts/fuzz.py [--max-examples N] [--seed N] [extra `st run` options...]
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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
def live_server(directory: Path, **overrides: str) -> Iterator[str]:
    """gunicorn serving the project on a free loopback port; yields its base URL."""
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
            "--no-control-socket",  # its default path is shared by every gunicorn of the user
        ],
        cwd=ROOT,
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, server)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def schemathesis_command(base_url: str, *, max_examples: int, seed: int, extra: list[str]):
    headers = [option for name, value in IDENTITY.items() for option in ("-H", f"{name}: {value}")]
    return [
        str(BIN / "st"),
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--seed", type=int, default=14)
    options, extra = parser.parse_known_args()

    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="teleconsultation-fuzz-") as scratch,
        live_server(Path(scratch)) as base_url,
    ):
        command = schemathesis_command(
            base_url, max_examples=options.max_examples, seed=options.seed, extra=extra
        )
        print("==> " + " ".join(command), flush=True)
        # In the scratch directory: schemathesis keeps a cache of past failures in its cwd.
        result = subprocess.run(command, cwd=scratch, check=False)
    elapsed = time.monotonic() - started
    verdict = "passed" if result.returncode == 0 else f"FAILED (st exited {result.returncode})"
    print(
        f"==> Fuzz {verdict} in {elapsed:.0f} s: checks {', '.join(CHECKS)}; "
        f"at most {options.max_examples} examples per operation, seed {options.seed}"
    )
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
