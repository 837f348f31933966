"""`make bench`: the service against the bare minimum, at a fixed Kaleyra latency.

1. GET /teleconsultation/{id} on a cache miss (room details cache off) against a yardstick view
   doing one primary-key read and one Kaleyra get-room, in the same gunicorn;
2. GET on a cache hit against a yardstick doing only the primary-key read, and against one doing
   what a poll must (the same query, the cached details, the caller checked, the same answer);
3. POST with 25 participants all new to Kaleyra;
4. cleanup_teleconsultations and reconcile_rooms over 10k and 100k rows, with peak memory.

Rounds of a pair alternate (A, B, A, B...) under client threads that keep every gunicorn thread
busy. Prints a table and writes var/bench/result.json; docs/performance.md says what each figure
means. Everything listens on loopback only and stops by itself.
"""

import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import load, stack  # noqa: E402

LATENCY_MS = 50
ROUNDS, ROUND_SECONDS = 5, 3.0
POSTS = 5
# Items in flight for 500 items/s at 50 ms a Kaleyra call: docs/performance.md, "Support commands".
COMMAND_CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", 32))
# A command run longer than this is interrupted (its summary says so); docs/performance.md.
COMMAND_SECONDS = 90
SIZES = (10_000, 100_000)
WORKDIR = stack.ROOT / "var" / "bench"
# `bench/run.py cleanup|reconcile [rows]`: one command alone (tags keep the ids hexadecimal).
COMMANDS = {"cleanup": ("cleanup_teleconsultations", "c"), "reconcile": ("reconcile_rooms", "d")}
THREADS = 4  # gunicorn.conf.py's default (GUNICORN_THREADS is not passed on)
PATIENT = {"miauserid": "bench-patient", "miausergroups": "customer"}


def person(user_id: str, group: str) -> dict:
    return {"userExternalId": user_id, "groups": [group], "fullName": user_id}


def schedule(port: int, people: list[dict], *, start: datetime) -> str:
    payload = {
        "participants": {"number": len(people), "data": people},
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_in_seconds": 1800,
    }
    status, body = stack.request_json(
        port, "POST", "/teleconsultation", payload, {"isbackoffice": "true"}
    )
    assert status == 201, body
    return body["roomId"]


def polled_visit(port: int) -> str:
    """A doctor and a patient tomorrow: the patient polls while the link is withheld."""
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    return schedule(
        port,
        [person("bench-doctor", "doctor"), person("bench-patient", "customer")],
        start=tomorrow,
    )


def per_get(port: int, path: str, *, count: int = 50) -> tuple[float, float]:
    """SQL queries and Kaleyra calls per GET, from the server's own counters (less what a scrape
    costs itself: the backlog gauges are read from the database)."""

    def counters() -> tuple[float, float]:
        return (
            stack.metric_total(port, "django_db_execute_total"),
            stack.metric_total(port, "outbound_requests_total", 'service="kaleyra"'),
        )

    first, second = counters(), counters()
    scrape = [b - a for a, b in zip(first, second, strict=True)]
    for _ in range(count):
        status, _ = stack.request_json(port, "GET", path, headers=PATIENT)
        assert status == 200
    after = counters()
    queries, calls = (b - a - c for a, b, c in zip(second, after, scrape, strict=True))
    return queries / count, calls / count


def get_pair(env, *, cached: bool) -> dict:
    """The real GET against its yardstick in one gunicorn: room details cached for longer than
    the phase (every GET after a worker's first is a hit), or not cached (every GET a miss)."""
    port = stack.free_port()
    ttl = "3600" if cached else "0"
    log = WORKDIR / f"gunicorn-{'cached' if cached else 'miss'}.log"
    with stack.gunicorn({**env, "KALEYRA_ROOM_DETAILS_TTL_SECONDS": ttl}, port, log=log) as master:
        visit = polled_visit(port)
        real = f"/teleconsultation/{visit}"
        yardsticks = [f"/-/bench/{'read' if cached else 'room'}/{visit}"]
        if cached:
            yardsticks.append(f"/-/bench/mandatory/{visit}")
        workers = load.worker_pids(master)
        client = load.Client(port, size=2 * len(workers) * THREADS, headers=PATIENT)
        try:
            subject, bare, *mandatory = load.compare(
                client, real, *yardsticks, rounds=ROUNDS, seconds=ROUND_SECONDS, workers=workers
            )
        finally:
            client.close()
        queries, calls = per_get(port, real)  # every worker thread warm: no connection set-up
        posts = post_timings(port) if cached else None
    return {
        "queries": queries,
        "provider_calls": calls,
        "subject": subject,
        "yardstick": bare,
        "ratio": subject.per_second / bare.per_second,
        "mandatory": mandatory[0] if mandatory else None,
        "workers": len(workers),
        "client_connections": client.size,
        "posts": posts,
    }


def post_timings(port: int, posts: int = POSTS) -> list[float]:
    """Seconds of each POST of a visit whose 25 participants are all new to Kaleyra."""
    timings = []
    start = datetime.now(UTC) + timedelta(days=2)
    for _ in range(posts):
        batch = uuid.uuid4().hex[:8]
        people = [person(f"new-{batch}-doctor", "doctor")]
        people += [person(f"new-{batch}-{number}", "customer") for number in range(24)]
        began = time.perf_counter()
        schedule(port, people, start=start)
        timings.append(time.perf_counter() - began)
    return timings


def post_alone(env, posts: int) -> list[float]:
    """POSTs with 25 new users on a gunicorn that has served one POST before (not measured)."""
    port = stack.free_port()
    with stack.gunicorn(env, port, log=WORKDIR / "gunicorn-post.log"):
        polled_visit(port)
        return post_timings(port, posts)


def print_posts(timings: list[float]) -> None:
    print(
        f"POST 25 new users: median {statistics.median(timings):.3f} s over {len(timings)}"
        f" ({' '.join(f'{t:.3f}' for t in timings)})"
    )


def command_run(env, name: str, size: int, tag: str) -> dict:
    """Seeds `size` rows, runs the command over them; its rate and peak resident memory."""
    what = "ended-visits" if name == "cleanup_teleconsultations" else "pending-deletions"
    seeded = time.monotonic()
    subprocess.run(
        [stack.PYTHON, "bench/seed.py", what, str(size), "--tag", tag],
        cwd=stack.ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    seeded = time.monotonic() - seeded
    command = [stack.PYTHON, "manage.py", name, "--concurrency", str(COMMAND_CONCURRENCY)]
    if name == "cleanup_teleconsultations":
        command += ["--older-than-days", "1"]
    out, err = WORKDIR / f"{name}-{size}.out", WORKDIR / f"{name}-{size}.err"
    env = {**env, "KALEYRA_POOL_SIZE": str(COMMAND_CONCURRENCY)}
    with out.open("w") as stdout, err.open("w") as stderr:
        began = time.monotonic()
        process = subprocess.Popen(command, cwd=stack.ROOT, env=env, stdout=stdout, stderr=stderr)
        status, usage = _wait_at_most(process, COMMAND_SECONDS)
        elapsed = time.monotonic() - began
    summary = out.read_text().strip().splitlines()[-1]
    handled, _total, rate = re.findall(
        r"progress: (\d+)/(\d+) \(\d+%\), ([\d.]+) items/s", err.read_text()
    )[-1]
    completed = status == 0 and f"Summary: {size} done" in summary
    if not completed and ("interrupted" not in summary or " 0 failed" not in summary):
        raise RuntimeError(f"{name} over {size} rows: {summary} (see {err})")
    return {
        "rows": size,
        "completed": completed,
        "handled": int(handled),
        "seed_seconds": round(seeded, 1),
        "per_second": float(rate),
        "wall_seconds": round(elapsed, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_ms_per_item": round(
            (usage.ru_utime + usage.ru_stime) * 1000 / max(int(handled), 1), 2
        ),
    }


def _wait_at_most(process: subprocess.Popen, seconds: float):
    """(exit status, resource usage) of the process; interrupted as by Ctrl-C after `seconds`
    (it then finishes the items in hand and prints its summary), killed if that hangs."""
    began, interrupted = time.monotonic(), False
    for _ in range(int((seconds + 2 * stack.STOP_SECONDS) / 0.2)):
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            return os.waitstatus_to_exitcode(status), usage
        if not interrupted and time.monotonic() - began > seconds:
            process.send_signal(signal.SIGINT)
            interrupted = True
        time.sleep(0.2)
    process.kill()
    _, status, usage = os.wait4(process.pid, 0)
    return os.waitstatus_to_exitcode(status), usage


def main(only: str | None = None, size: int | None = None) -> None:
    # Started in the background by a shell, this process and so the commands it runs would
    # inherit SIGINT ignored, and a command run past COMMAND_SECONDS could not be interrupted.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if only not in (None, "get-miss", "get-hit", "post", *COMMANDS):
        sys.exit(
            f"bench/run.py [get-miss | get-hit | post [posts] | {' | '.join(COMMANDS)} [rows]],"
            f" not {only!r}"
        )
    WORKDIR.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with stack.database(WORKDIR) as db:
        simulator_port = stack.free_port()
        env = stack.environment(db, simulator_port, WORKDIR)
        stack.manage(env, "migrate", "--noinput")
        for stale in WORKDIR.glob("simulator.sqlite3*"):
            stale.unlink()
        with stack.simulator(env, simulator_port, latency_ms=LATENCY_MS, workdir=WORKDIR):
            print(f"Database: {db.kind}; Kaleyra simulator at {LATENCY_MS} ms a call")
            if only in (None, "get-miss"):
                miss = get_pair(env, cached=False)
                print_pair("GET, cache miss", miss, "read + get-room")
            if only in (None, "get-hit"):
                hit = get_pair(env, cached=True)
                print_pair("GET, cache hit", hit, "read")
                print_pair("GET, cache hit", hit, "mandatory work", yardstick="mandatory")
            if only == "post":  # POSTs with 25 new users alone, no result.json
                print_posts(post_alone(env, size or POSTS))
            if only in COMMANDS:  # one command over 10k rows or those given, no result.json
                name, tag = COMMANDS[only]
                figures = command_run(env, name, size or SIZES[0], tag + uuid.uuid4().hex[:6])
                print(name, json.dumps(figures))
            if only is not None:
                return  # a partial run prints its pair only and writes no result.json
            commands = {}
            for name, tag in COMMANDS.values():
                commands[name] = [
                    command_run(env, name, size, f"{tag}{index}")
                    for index, size in enumerate(SIZES)
                ]
    result = summarise(db, miss, hit, commands, time.monotonic() - began)
    (WORKDIR / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    print(f"\nWritten to {WORKDIR / 'result.json'}")


def print_pair(title: str, pair: dict, name: str, *, yardstick: str = "yardstick") -> None:
    subject, bare = pair["subject"], pair[yardstick]
    print(
        f"  {title}: {subject.per_second:.0f} req/s ({subject.cpu_ms_per_request:.2f} ms CPU) "
        f"vs {name} {bare.per_second:.0f} req/s ({bare.cpu_ms_per_request:.2f} ms CPU): "
        f"{subject.per_second / bare.per_second:.3f}"
    )


def path_figures(rounds: load.Rounds) -> dict:
    return {
        "requests_per_second": round(rounds.per_second, 1),
        "worker_cpu_ms_per_request": round(rounds.cpu_ms_per_request, 3),
        "errors": rounds.errors,
        "rounds_per_second": [round(r.per_second, 1) for r in rounds.rounds],
    }


def summarise(db, miss: dict, hit: dict, commands: dict, seconds: float) -> dict:
    cleanup, reconcile = commands["cleanup_teleconsultations"], commands["reconcile_rooms"]
    return {
        "get_over_bare": round(miss["ratio"], 3),
        "cached_get_over_bare_mandatory": round(
            hit["subject"].per_second / hit["mandatory"].per_second, 3
        ),
        "cached_get_over_bare_read": round(hit["ratio"], 3),
        "get_sql_queries": miss["queries"],
        "get_provider_calls": miss["provider_calls"],
        "cached_get_sql_queries": hit["queries"],
        "cached_get_provider_calls": hit["provider_calls"],
        "get_cpu_over_bare": round(
            miss["yardstick"].cpu_ms_per_request / miss["subject"].cpu_ms_per_request, 3
        ),
        "cached_get_cpu_over_bare_mandatory": round(
            hit["mandatory"].cpu_ms_per_request / hit["subject"].cpu_ms_per_request, 3
        ),
        "cached_get_cpu_over_bare_read": round(
            hit["yardstick"].cpu_ms_per_request / hit["subject"].cpu_ms_per_request, 3
        ),
        "post25_new_users_seconds": round(statistics.median(hit["posts"]), 3),
        "post25_new_users_all_seconds": [round(t, 3) for t in hit["posts"]],
        "cleanup_per_second": cleanup[-1]["per_second"],
        "cleanup_peak_rss_mb": cleanup[-1]["peak_rss_mb"],
        "reconcile_per_second": reconcile[-1]["per_second"],
        "reconcile_peak_rss_mb": reconcile[-1]["peak_rss_mb"],
        "cleanup": cleanup,
        "reconcile": reconcile,
        "paths": {
            "get_miss": path_figures(miss["subject"]),
            "bare_read_and_get_room": path_figures(miss["yardstick"]),
            "get_hit": path_figures(hit["subject"]),
            "bare_read": path_figures(hit["yardstick"]),
            "bare_mandatory": path_figures(hit["mandatory"]),
        },
        "latency_ms": LATENCY_MS,
        "gunicorn_workers": miss["workers"],
        "gunicorn_threads": THREADS,
        "client_connections": miss["client_connections"],
        "rounds": ROUNDS,
        "round_seconds": ROUND_SECONDS,
        "command_concurrency": COMMAND_CONCURRENCY,
        "database": db.kind,
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "bench_seconds": round(seconds),
    }


def print_table(result: dict) -> None:
    paths = result["paths"]
    rows = [
        ("GET miss / bare read+get-room (req/s)", result["get_over_bare"], ">= 0.95"),
        ("GET hit / bare mandatory (req/s)", result["cached_get_over_bare_mandatory"], ">= 0.80"),
        (
            "GET hit / bare mandatory (CPU/req)",
            result["cached_get_cpu_over_bare_mandatory"],
            "information",
        ),
        ("GET hit / bare read (req/s)", result["cached_get_over_bare_read"], "information"),
        ("GET miss: SQL queries, Kaleyra calls", _pair(result, "get"), "1, <= 1"),
        ("GET hit: SQL queries, Kaleyra calls", _pair(result, "cached_get"), "1, 0"),
        ("POST 25 new users (s, median)", result["post25_new_users_seconds"], "<= 0.12"),
    ]
    for name in ("cleanup", "reconcile"):
        for run in result[name]:
            done = "" if run["completed"] else f", first {run['handled']:,}"
            label = f"{name} {run['rows']:,} rows{done}"
            rows.append((f"{label} (items/s)", run["per_second"], ">= 500"))
            rows.append((f"{label} (peak RSS MB)", run["peak_rss_mb"], "< 200"))
    print(
        f"\n{result['database']}, {result['cores']} cores, gunicorn {result['gunicorn_workers']}"
        f" workers x {result['gunicorn_threads']} threads, {result['client_connections']} client"
        f" connections, Kaleyra {result['latency_ms']} ms, commands at --concurrency"
        f" {result['command_concurrency']}\n"
    )
    print(f"{'measure':<48} {'value':>10}  target")
    for name, value, target in rows:
        print(f"{name:<48} {value!s:>10}  {target}")
    print(f"\n{'path':<26} {'req/s':>8} {'CPU ms/req':>11}")
    for name, figures in paths.items():
        print(
            f"{name:<26} {figures['requests_per_second']:>8} "
            f"{figures['worker_cpu_ms_per_request']:>11}"
        )


def _pair(result: dict, prefix: str) -> str:
    return f"{result[prefix + '_sql_queries']:g}, {result[prefix + '_provider_calls']:g}"


if __name__ == "__main__":
    # `bench/run.py get-hit` (or get-miss), or `bench/run.py cleanup 100000` (or reconcile): that
    # pair or command only, while working on it. BENCH_CONCURRENCY overrides the commands' 32.
    only = sys.argv[1] if len(sys.argv) > 1 else None
    main(only, int(sys.argv[2]) if len(sys.argv) > 2 else None)
