"""Where a GET /teleconsultation/{id} spends its time, in-process: the WSGI application called
directly (no HTTP, no gunicorn), production settings, the room details cached, the bench's
yardsticks (the primary-key read, the poll's mandatory work) alongside. Prints the time per
request of each, then the profile of the real GET, or with `--parts` the CPU of the GET and of
the mandatory yardstick by part (bench/parts.py) in ms per request.

    .venv/bin/python bench/profile_get.py [requests] [--sort tottime|cumulative] [--parts]

Logs at INFO, as the bench's gunicorn does (the access line is part of a request's cost), to
stderr (`2>/dev/null`); PROFILE_LOG_LEVEL=WARNING leaves them out.

Uses PostgreSQL at 127.0.0.1:5432 (database `bench_profile`, or PROFILE_DATABASE's name, created
and dropped) when one answers, else SQLite in a temporary directory; the in-process Kaleyra
simulator.
"""

import argparse
import cProfile
import functools
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORKDIR = Path(tempfile.mkdtemp(prefix="profile-get-"))
DATABASE = os.environ.get("PROFILE_DATABASE", "bench_profile")


def database_url() -> tuple[str, object]:
    try:
        import psycopg

        admin = psycopg.connect(
            "postgres://postgres@127.0.0.1:5432/postgres", connect_timeout=3, autocommit=True
        )
    except Exception:  # no server: SQLite then
        return f"sqlite:///{WORKDIR / 'db.sqlite3'}", None
    admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {DATABASE}")
    return f"postgres://postgres@127.0.0.1:5432/{DATABASE}", admin


URL, ADMIN = database_url()
os.environ.update(
    DJANGO_SETTINGS_MODULE=os.environ.get("PROFILE_SETTINGS", "teleconsultation_project.settings"),
    DJANGO_DEBUG="false",
    DJANGO_SECRET_KEY="profile-only-" + "x" * 40,
    DJANGO_ALLOWED_HOSTS="127.0.0.1",
    DJANGO_INSECURE_LOCAL_HTTP="true",
    DATABASE_URL=URL,
    KALEYRA_BACKEND="simulator",
    KALEYRA_SIMULATOR_DB=str(WORKDIR / "simulator.sqlite3"),
    BANDYER_API_SECRET_KEY="profile",
    BANDYER_BASE_URL="http://127.0.0.1:9",
    BENCH_BARE_VIEWS="true",
    PROMETHEUS_MULTIPROC_DIR=str(WORKDIR),
    LOG_LEVEL=os.environ.get("PROFILE_LOG_LEVEL", "INFO"),
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench import parts  # noqa: E402
from bench.wsgi_call import call_application, schedule_visit  # noqa: E402
from teleconsultation_project.wsgi import application  # noqa: E402

call = functools.partial(call_application, application)
PATIENT = {"HTTP_MIAUSERID": "profile-patient", "HTTP_MIAUSERGROUPS": "customer"}


def visit() -> str:
    people = [("profile-doctor", "doctor"), ("profile-patient", "customer")]
    return schedule_visit(application, people, start=datetime.now(UTC) + timedelta(days=1))


def timed(paths: list[str], count: int, rounds: int = 10) -> list[tuple[float, float]]:
    """Milliseconds per request of each path, wall and this process's CPU (the database's work is
    in the first only): the median wall time and the least CPU of `rounds` alternating rounds."""
    for path in paths:
        for _ in range(100):
            call("GET", path, PATIENT)
    per_round: list[list[tuple[float, float]]] = [[] for _ in paths]
    for _ in range(rounds):
        for index, path in enumerate(paths):
            began, cpu = time.perf_counter(), time.process_time()
            for _ in range(count // rounds):
                call("GET", path, PATIENT)
            wall, cpu = time.perf_counter() - began, time.process_time() - cpu
            per_round[index].append(
                (wall / (count // rounds) * 1000, cpu / (count // rounds) * 1000)
            )
    return [
        # The least CPU of any round: the work itself, the least disturbed by whatever else the
        # machine was doing.
        (statistics.median(t[0] for t in times), min(t[1] for t in times))
        for times in per_round
    ]


def parts_of(path: str, count: int) -> dict[str, float]:
    """Each part's share of the CPU of `count` requests to `path`, traced."""
    spent = parts.trace(lambda: [call("GET", path, PATIENT) for _ in range(count)])
    spent.pop("bench harness", None)
    total = sum(spent.values())
    return {part: seconds / total for part, seconds in spent.items()}


def print_parts(columns: dict[str, tuple[dict[str, float], float]]) -> None:
    """ms of CPU per request by part: each part's traced share of the untraced CPU per request."""
    names = [part for part, _ in parts.PARTS if part != "bench harness"] + [parts.OTHER]
    print(f"\n  {'ms of CPU per request':<44}" + "".join(f"{c:>11}" for c in columns))
    for part in names:
        row = [shares.get(part, 0) * cpu for shares, cpu in columns.values()]
        if any(row):
            print(f"  {part:<44}" + "".join(f"{ms:>11.3f}" for ms in row))
    print(f"  {'total (untraced)':<44}" + "".join(f"{cpu:>11.3f}" for _, cpu in columns.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=2000)
    parser.add_argument("--sort", choices=["tottime", "cumulative"], default="cumulative")
    parser.add_argument("--parts", action="store_true", help="CPU by part instead of a profile")
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    room_id = visit()
    paths = {
        "GET /teleconsultation/{id} (cached details)": f"/teleconsultation/{room_id}",
        "yardstick primary-key read": f"/-/bench/read/{room_id}",
        "yardstick mandatory work": f"/-/bench/mandatory/{room_id}",
    }
    print(f"database {URL.split(':', 1)[0]}, {options.count} requests each")
    cpu = {}
    for name, (wall_ms, cpu_ms) in zip(
        paths, timed(list(paths.values()), options.count), strict=True
    ):
        print(f"  {name + ':':<46} {wall_ms:.3f} ms, {cpu_ms:.3f} ms CPU")
        cpu[name] = cpu_ms
    real = paths["GET /teleconsultation/{id} (cached details)"]
    if options.parts:
        mandatory = paths["yardstick mandatory work"]
        print_parts(
            {
                "GET": (parts_of(real, options.count), cpu[next(iter(paths))]),
                "mandatory": (parts_of(mandatory, options.count), cpu["yardstick mandatory work"]),
            }
        )
        return
    profile = cProfile.Profile(time.process_time)  # CPU: waiting on the database is not work
    profile.enable()
    for _ in range(options.count):
        call("GET", real, PATIENT)
    profile.disable()
    if os.environ.get("PROFILE_DUMP"):
        profile.dump_stats(os.environ["PROFILE_DUMP"])
    pstats.Stats(profile).sort_stats(options.sort).print_stats(45)


if __name__ == "__main__":
    try:
        main()
    finally:
        if ADMIN is not None:
            from django.db import connections

            connections.close_all()
            ADMIN.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
