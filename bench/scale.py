"""`make bench-scale`: the cost of the service's read paths and of the clean-up at 1,000,000
visits against the same at 10,000 (docs/performance.md, "Cost flat with data").

Two PostgreSQL databases at 127.0.0.1:5432 (`<BENCH_DATABASE>_10k`, `_1m`; BENCH_DATABASE
defaults to bench_scale), migrated and seeded by bench/scale_seed.py, dropped at the end unless
--keep. Each path is called in this process (bench/scale_paths.py), in rounds alternating the
two databases; a path's figure is the median over rounds of the CPU per call, here and in
PostgreSQL. The clean-up runs `cleanup_teleconsultations --concurrency 32` as a command, against
the Kaleyra simulator over HTTP answering in 50 ms, over a backlog of 1,000 ended visits (the same
at both sizes), alternating sizes too. Prints a table, writes var/bench/scale.json.

    .venv/bin/python bench/scale.py [--small 10000] [--large 1000000] [--rounds 7] [--keep]

PostgreSQL only: SQLite is not what a million visits live in, and the plans are the point.
"""

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORKDIR = Path(tempfile.mkdtemp(prefix="bench-scale-"))
OUTPUT = ROOT / "var" / "bench" / "scale.json"
SERVER = "postgres://postgres@127.0.0.1:5432"
PREFIX = os.environ.get("BENCH_DATABASE", "bench_scale")
ROUND_SECONDS = 0.8  # calls of a path per round: about this long at the small size
CLEANUP_CONCURRENCY = 32
LATENCY_MS = 50

from bench import scale_seed, stack  # noqa: E402


def label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


def admin_connection():
    try:
        import psycopg

        return psycopg.connect(f"{SERVER}/postgres", connect_timeout=3, autocommit=True)
    except Exception as exc:  # no server, no bench: SQLite is not measured here
        sys.exit(f"bench-scale needs PostgreSQL at 127.0.0.1:5432 (user postgres): {exc}")


def configure(first_database: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="teleconsultation_project.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-only-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_INSECURE_LOCAL_HTTP="true",
        DATABASE_URL=f"{SERVER}/{first_database}",
        DATABASE_CONN_MAX_AGE="3600",
        KALEYRA_BACKEND="simulator",
        KALEYRA_SIMULATOR_DB=str(WORKDIR / "simulator.sqlite3"),
        BANDYER_API_SECRET_KEY="bench",
        BANDYER_BASE_URL="http://127.0.0.1:9",
        PROMETHEUS_MULTIPROC_DIR=str(WORKDIR),
        LOG_LEVEL="WARNING",
    )
    for key in ("CACHE_URL", "STORAGE_BACKEND"):
        os.environ.pop(key, None)
    import django

    django.setup()
    from django.test import override_settings

    # The admin's pages name static files; the manifest exists only after collectstatic (the image
    # runs it), so the plain storage names them here.
    static = "django.contrib.staticfiles.storage.StaticFilesStorage"
    override_settings(STORAGES={**settings_storages(), "staticfiles": {"BACKEND": static}}).enable()


def settings_storages() -> dict:
    from django.conf import settings

    return settings.STORAGES


def create_and_seed(admin, name: str, size: int) -> dict:
    import psycopg
    from django.core.management import call_command

    from bench.scale_paths import use_database

    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name}")
    use_database(name)
    call_command("migrate", verbosity=0)
    now = datetime.now(UTC).replace(microsecond=0)
    began = time.monotonic()
    with psycopg.connect(f"{SERVER}/{name}", autocommit=True) as seeding:
        rows = scale_seed.seed(seeding, size, now)
    return {"now": now, "rows": rows, "seed_seconds": round(time.monotonic() - began, 1)}


def cleanup_run(env: dict, name: str, cutoff: datetime) -> dict:
    """One cleanup_teleconsultations over one backlog: its rate and CPU per item."""
    command = [stack.PYTHON, "manage.py", "cleanup_teleconsultations"]
    command += ["--ended-before", cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")]
    command += ["--concurrency", str(CLEANUP_CONCURRENCY)]
    env = {**env, "DATABASE_URL": f"{SERVER}/{name}", "KALEYRA_POOL_SIZE": "32"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    handled, total, rate = re.findall(
        r"progress: (\d+)/(\d+) \(\d+%\), ([\d.]+) items/s", done.stderr
    )[-1]
    expected = f"Summary: {scale_seed.BACKLOG_SIZE} done"
    if done.returncode != 0 or expected not in done.stdout:
        raise RuntimeError(f"cleanup on {name}: {done.stdout[-500:]} {done.stderr[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "items": int(handled),
        "per_second": float(rate),
        "cpu_ms_per_item": round(cpu / int(handled) * 1000, 3),
    }


def cleanups(sizes: dict, names: dict, seeded: dict) -> dict:
    """Each backlog in turn, at each size in turn, against one simulator."""
    port = stack.free_port()
    database = stack.Database("postgresql", f"{SERVER}/{names[min(sizes)]}")
    env = stack.environment(database, port, WORKDIR)
    runs: dict[int, list] = {size: [] for size in sizes}
    with stack.simulator(env, port, latency_ms=LATENCY_MS, workdir=WORKDIR):
        for backlog in range(scale_seed.BACKLOGS):
            for size in sizes:
                cutoff = scale_seed.backlog_cutoff(seeded[size]["now"], backlog)
                runs[size].append(cleanup_run(env, names[size], cutoff))
    return runs


def measure(sizes, names, fixtures, rounds: int) -> tuple[dict, dict]:
    """Per path and size: the median over rounds of CPU here, in PostgreSQL, and wall time per
    call; and the SQL each path runs at each size."""
    from bench import scale_paths

    small, large = sizes
    counts, sql = {}, {}
    for size in sizes:
        scale_paths.use_database(names[size])
        for name, path in scale_paths.paths(fixtures[size]).items():
            path()  # warm: the GET's details cached, the plans prepared
            sql[(name, size)] = scale_paths.queries(path)
            if size == small:
                began = time.perf_counter()
                path()
                counts[name] = max(3, int(ROUND_SECONDS / (time.perf_counter() - began)))
    samples: dict = {}
    for _ in range(rounds):
        for size in sizes:
            scale_paths.use_database(names[size])
            for name, path in scale_paths.paths(fixtures[size]).items():
                figures = scale_paths.cpu_per_call(path, counts[name])
                samples.setdefault((name, size), []).append(figures)
    medians = {
        key: tuple(statistics.median(figure[i] for figure in runs) for i in range(3))
        for key, runs in samples.items()
    }
    return medians, sql, samples, counts


def machine() -> dict:
    import django
    import psycopg

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
    }


def report(sizes, medians, sql, runs, seeded, names) -> dict:
    small, large = sizes
    suffix = f"_{label(large)}_over_{label(small)}"
    result: dict = {"sizes": list(sizes), "paths": {}, "ratios": {}}
    for name in sorted({name for name, _size in medians}):
        entry = {}
        for size in sizes:
            here, server, wall = medians[(name, size)]
            entry[label(size)] = {
                "cpu_ms": round(here + server, 3),
                "cpu_ms_here": round(here, 3),
                "cpu_ms_postgresql": round(server, 3),
                "wall_ms": round(wall, 3),
                "sql_queries": len(sql[(name, size)]),
            }
        if entry[label(small)]["sql_queries"] != entry[label(large)]["sql_queries"]:
            entry["sql_differs"] = {label(s): sql[(name, s)] for s in sizes}
        result["paths"][name] = entry
        ratio = entry[label(large)]["cpu_ms"] / entry[label(small)]["cpu_ms"]
        result["ratios"][f"{name}_cpu{suffix}"] = round(ratio, 3)
    rates = {size: statistics.median(run["per_second"] for run in runs[size]) for size in sizes}
    result["cleanup"] = {label(size): runs[size] for size in sizes}
    # A rate: the ratio is of time per item, so that above 1 means slower at the large size.
    result["ratios"][f"cleanup_seconds_per_item{suffix}"] = round(rates[small] / rates[large], 3)
    result["seeding"] = {
        label(size): {"rows": seeded[size]["rows"], "seconds": seeded[size]["seed_seconds"]}
        for size in sizes
    }
    result["databases"] = {label(size): names[size] for size in sizes}
    return result


def print_table(result: dict) -> None:
    small, large = (label(size) for size in result["sizes"])
    print(f"\n{'path':<28}{'CPU ms ' + small:>14}{'CPU ms ' + large:>14}{'SQL':>9}  ratio")
    suffix = f"_{large}_over_{small}"
    for name, entry in result["paths"].items():
        queries = f"{entry[small]['sql_queries']}/{entry[large]['sql_queries']}"
        print(
            f"{name:<28}{entry[small]['cpu_ms']:>14.3f}{entry[large]['cpu_ms']:>14.3f}"
            f"{queries:>9}  {result['ratios'][f'{name}_cpu{suffix}']:.3f}"
        )
    rates = {
        size: statistics.median(run["per_second"] for run in result["cleanup"][size])
        for size in (small, large)
    }
    print(
        f"{'cleanup (items/s)':<28}{rates[small]:>14.1f}{rates[large]:>14.1f}{'':>9}  "
        f"{result['ratios'][f'cleanup_seconds_per_item{suffix}']:.3f}"
    )
    over = [key for key, value in result["ratios"].items() if value > 1.2]
    print("\nevery ratio <= 1.2" if not over else f"\nabove 1.2: {', '.join(over)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="leave the databases for psql")
    options = parser.parse_args()
    sizes = (options.small, options.large)
    names = {size: f"{PREFIX}_{label(size)}" for size in sizes}
    admin = admin_connection()
    configure(names[options.small])
    started = time.monotonic()
    result: dict = {"machine": machine()}
    try:
        seeded = {}
        for size in sizes:
            seeded[size] = create_and_seed(admin, names[size], size)
            took, rows = seeded[size]["seed_seconds"], seeded[size]["rows"]
            print(f"seeded {size:,} visits in {took} s: {rows}")
        from bench import scale_paths

        fixtures = {}
        for size in sizes:
            scale_paths.use_database(names[size])
            fixtures[size] = scale_paths.prepare(seeded[size]["now"])
        medians, sql, samples, counts = measure(sizes, names, fixtures, options.rounds)
        from django.db import connection

        connection.close()
        runs = cleanups(sizes, names, seeded)
        result.update(report(sizes, medians, sql, runs, seeded, names))
        for name, entry in result["paths"].items():
            entry["calls_per_round"] = counts[name]
            for size in sizes:
                rounds = samples[(name, size)]
                entry[label(size)]["cpu_ms_each_round"] = [round(a + b, 3) for a, b, _ in rounds]
    finally:
        from django.db import connection

        connection.close()
        if not options.keep:
            for name in names.values():
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    result.update(
        rounds=options.rounds,
        latency_ms=LATENCY_MS,
        cleanup_concurrency=CLEANUP_CONCURRENCY,
        wall_seconds=round(time.monotonic() - started, 1),
        recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print_table(result)
    print(f"\nwritten to {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
