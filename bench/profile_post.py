"""Where a POST /teleconsultation with 25 new Kaleyra users spends its time, step by step, in
process: the WSGI application called directly (no gunicorn), production settings, the HTTP
Kaleyra client against the simulator served over HTTP at 50 ms a call (as `make bench` runs it),
PostgreSQL when one answers (database `bench_post`, created and dropped), else SQLite.

    .venv/bin/python bench/profile_post.py [posts] [--profile]

Prints the median over the POSTs of each step, in ms, and of the whole POST. The steps are read
off a timeline: each storage write and each Kaleyra call is wrapped to note when it began and
ended, on which thread. Then the CPU the POST cost this process, all threads and the request's
own (the simulator and the database work in processes of their own). With `--profile`, also the
CPU profile of the request's own thread (the calls' threads are not in it), in thread CPU time.
"""

import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE", "bench_post")

from bench import stack  # noqa: E402

WORKDIR = Path(tempfile.mkdtemp(prefix="profile-post-"))
LATENCY_MS = 50


class Timeline:
    """(what, began, ended, thread) of every wrapped call, in seconds since the POST began."""

    def __init__(self) -> None:
        self.began = 0.0
        self.marks: list[tuple[str, float, float, str]] = []
        self.guard = threading.Lock()

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                ended = time.perf_counter()
                with self.guard:
                    self.marks.append(
                        (label, began - self.began, ended - self.began, _thread_name())
                    )

        setattr(owner, name, timed)

    def start(self) -> None:
        self.marks = []
        self.began = time.perf_counter()

    def steps(self, total: float) -> dict[str, float]:
        """ms of each step of one POST."""
        by_label = defaultdict(list)
        for label, began, ended, _thread in self.marks:
            by_label[label].append((began, ended))
        users = by_label["create_user"]
        first_call = min(began for began, _ in users)
        last_start = max(began for began, _ in users)
        last_answer = max(ended for _, ended in users)
        (map_read,) = by_label["mappings_for"]
        (map_write,) = by_label["save_mappings"]
        (intent,) = by_label["record_jobs"]
        (room,) = by_label["create_room"]
        (insert,) = by_label["insert"]
        spans = {
            "before the users: the request, validation, resolution": map_read[0],
            "the user map read": map_read[1] - map_read[0],
            "the 25 calls started, first to last": last_start - first_call,
            "the last call started to the last answer": last_answer - last_start,
            "the user map written": map_write[1] - map_write[0],
            "the room intent recorded": intent[1] - intent[0],
            "the room call": room[1] - room[0],
            "the visit stored": insert[1] - insert[0],
        }
        # Steps may overlap (a write made while calls are in flight); what is left of the POST
        # outside every step is the rest.
        covered = _covered([map_read, map_write, intent, room, insert, (first_call, last_answer)])
        spans["the rest: between the steps, the answer"] = total - covered
        spans["total"] = total
        return {step: seconds * 1000 for step, seconds in spans.items()}


def _thread_name() -> str:
    return threading.current_thread().name


def _covered(spans: list[tuple[float, float]]) -> float:
    """Seconds covered by the union of `spans`."""
    total, reach = 0.0, float("-inf")
    for began, ended in sorted(spans):
        if ended <= reach:
            continue
        total += ended - max(began, reach)
        reach = ended
    return total


def main(posts: int, *, profile: bool) -> None:
    with ExitStack() as stop:
        db = stop.enter_context(stack.database(WORKDIR))
        simulator_port = stack.free_port()
        env = stack.environment(db, simulator_port, WORKDIR, LOG_LEVEL="WARNING")
        stack.manage(env, "migrate", "--noinput")
        stop.enter_context(
            stack.simulator(env, simulator_port, latency_ms=LATENCY_MS, workdir=WORKDIR)
        )
        os.environ.update(env)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(WORKDIR)
        os.environ["DJANGO_SETTINGS_MODULE"] = "teleconsultation_project.settings"
        import django

        django.setup()
        from django.db import connections

        from bench.wsgi_call import schedule_visit
        from kaleyra.client import KaleyraClient
        from rooms.storage.django import DjangoStorage
        from teleconsultation_project.wsgi import application

        timeline = Timeline()
        for name in ("mappings_for", "save_mappings", "record_jobs", "insert"):
            timeline.wrap(DjangoStorage, name, name)
        for name in ("create_user", "create_room"):
            timeline.wrap(KaleyraClient, name, name)
        start = datetime.now(UTC) + timedelta(days=2)
        rows = []
        profiler = cProfile.Profile(time.thread_time)
        for number in range(posts + 1):  # the first warms the kept threads and connections
            batch = uuid.uuid4().hex[:8]
            people = [(f"new-{batch}-doctor", "doctor")]
            people += [(f"new-{batch}-{n}", "customer") for n in range(24)]
            measured = profile and number > 0
            cpu, thread_cpu = time.process_time(), time.thread_time()
            timeline.start()
            if measured:
                profiler.enable()
            schedule_visit(application, people, start=start)
            if measured:
                profiler.disable()
            total = time.perf_counter() - timeline.began
            if number:
                row = timeline.steps(total)
                row["CPU of this process (all threads)"] = (time.process_time() - cpu) * 1000
                row["CPU of the request's thread"] = (time.thread_time() - thread_cpu) * 1000
                rows.append(row)
        connections.close_all()
    print(f"POST with 25 new users, in-process, {db.kind}, Kaleyra at {LATENCY_MS} ms")
    print(f"median of {posts} POSTs, ms")
    for step in rows[0]:
        print(f"  {step:<58} {statistics.median(row[step] for row in rows):7.1f}")
    if profile:
        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(40)


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if argument != "--profile"]
    main(int(arguments[0]) if arguments else 40, profile="--profile" in sys.argv)
