"""What `make bench` runs against, started and stopped by it on loopback ports: a database of its
own (PostgreSQL when one answers at 127.0.0.1:5432, else SQLite), the Kaleyra simulator over HTTP
with a fixed latency, and gunicorn with the production configuration (gunicorn.conf.py)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
POSTGRES = "postgres://postgres@127.0.0.1:5432"
# BENCH_DATABASE names another database, so two benches can run side by side (each drops its own).
DATABASE_NAME = os.environ.get("BENCH_DATABASE", "bench")
API_KEY = "bench-simulator-key"
START_SECONDS = 60
STOP_SECONDS = 45  # gunicorn lets requests in flight finish first


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Database:
    kind: str  # "postgresql" or "sqlite"
    url: str


@contextmanager
def database(workdir: Path) -> Iterator[Database]:
    """A fresh database for this run, dropped at the end."""
    try:
        import psycopg

        admin = psycopg.connect(f"{POSTGRES}/postgres", connect_timeout=3, autocommit=True)
    except Exception:  # no server, or not ours to use: SQLite then
        admin = None
    if admin is None:
        path = workdir / "bench.sqlite3"
        for stale in workdir.glob("bench.sqlite3*"):
            stale.unlink()
        yield Database("sqlite", f"sqlite:///{path}")
        return
    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE_NAME}")
        try:
            yield Database("postgresql", f"{POSTGRES}/{DATABASE_NAME}")
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")


def environment(db: Database, simulator_port: int, workdir: Path, **extra: str) -> dict[str, str]:
    """Production mode (DJANGO_DEBUG=false) on loopback, the HTTP Kaleyra client pointed at the
    simulator, the yardstick views on."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "BANDYER_", "KALEYRA_", "DATABASE_", "GUNICORN_"))
        and key not in ("CACHE_URL", "PROMETHEUS_MULTIPROC_DIR", "BENCH_BARE_VIEWS")
    }
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-only-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_INSECURE_LOCAL_HTTP="true",
        DATABASE_URL=db.url,
        KALEYRA_BACKEND="http",
        BANDYER_BASE_URL=f"http://127.0.0.1:{simulator_port}",
        BANDYER_API_SECRET_KEY=API_KEY,
        KALEYRA_SIMULATOR_DB=str(workdir / "simulator.sqlite3"),
        BENCH_BARE_VIEWS="true",
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with status {process.returncode}; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port} within {START_SECONDS} s; see {log}")


@contextmanager
def _process(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[int]:
    """Runs `command` until the block ends; yields its pid once `port` accepts connections."""
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_port(port, process, log)
        yield process.pid
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)


@contextmanager
def simulator(env: dict[str, str], port: int, *, latency_ms: int, workdir: Path) -> Iterator[int]:
    command = [PYTHON, "manage.py", "kaleyra_simulator", "--port", str(port)]
    command += ["--latency-ms", str(latency_ms), "--api-key", API_KEY]
    quiet = {**env, "LOG_LEVEL": "WARNING"}  # no line per call: the simulator is not measured
    with _process(command, quiet, port, workdir / "simulator.log") as pid:
        yield pid


@contextmanager
def gunicorn(env: dict[str, str], port: int, *, log: Path) -> Iterator[int]:
    """gunicorn.conf.py as in production, bound to loopback; yields the master's pid."""
    command = [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}"]
    with _process(command, env, port, log) as pid:
        yield pid


def request_json(port: int, method: str, path: str, payload=None, headers=None):
    """(status, body) of one request; a helper for set-up, not for measured load."""
    request = urllib.request.Request(  # noqa: S310 - a loopback URL of our own
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=None if payload is None else json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return response.status, json.loads(response.read() or b"null")


def metric_total(port: int, name: str, label: str = "") -> float:
    """The sum over every label set of a counter in /-/metrics (all workers added up); with
    `label` (`service="kaleyra"`), over the label sets that have it."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/-/metrics")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith((f"{name}{{", f"{name} ")) and label in line
    )
