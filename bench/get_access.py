"""Benchmark of the hot path, GET /teleconsultation/{id}: latency, queries and memory per request.

Runs in-process against a throw-away SQLite database and the bundled simulator, so the figures
measure the service's own work. Usage: .venv/bin/python bench/get_access.py [requests]
"""

import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORKDIR = tempfile.mkdtemp(prefix="bench-")
os.environ.update(
    DJANGO_SETTINGS_MODULE="teleconsultation_project.settings",
    DATABASE_URL=f"sqlite:///{WORKDIR}/db.sqlite3",
    KALEYRA_BACKEND="simulator",
    KALEYRA_SIMULATOR_DB=f"{WORKDIR}/simulator.sqlite3",
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main(count: int) -> None:
    call_command("migrate", verbosity=0)
    client = Client()
    start = datetime.now(UTC) - timedelta(minutes=1)
    people = [{"userExternalId": "d", "groups": ["doctor"], "fullName": "Dr"}] + [
        {"userExternalId": f"p{i}", "groups": ["customer"], "fullName": f"P {i}"} for i in range(9)
    ]
    created = client.post(
        "/teleconsultation",
        {
            "participants": {"number": 10, "data": people},
            "start_date": start.isoformat(),
            "duration_in_seconds": 3600,
        },
        content_type="application/json",
    )
    room_id = created.json()["roomId"]
    headers = {"HTTP_MIAUSERID": "p3", "HTTP_MIAUSERGROUPS": "customer"}

    reset_queries()  # a request start clears the log, so start from an empty one
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/teleconsultation/{room_id}", **headers).status_code == 200
    durations = []
    for _ in range(count):
        began = time.perf_counter()
        response = client.get(f"/teleconsultation/{room_id}", **headers)
        durations.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
    # Memory is traced in a separate, shorter run: tracing slows every allocation down.
    tracemalloc.start()
    for _ in range(50):
        client.get(f"/teleconsultation/{room_id}", **headers)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    durations.sort()
    print(f"GET /teleconsultation/{{id}} x {count} (10 participants, in-process simulator)")
    print(f"  SQL queries per request : {len(queries)}")
    print(f"  mean latency            : {statistics.mean(durations):.2f} ms")
    print(f"  p95 latency             : {durations[int(count * 0.95) - 1]:.2f} ms")
    print(f"  throughput (1 thread)   : {1000 / statistics.mean(durations):.0f} requests/s")
    print(f"  peak traced memory      : {peak / 1024:.0f} KiB over 50 requests")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
