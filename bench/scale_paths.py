"""The paths `make bench-scale` measures (bench/scale.py), each one call of the real code in this
process: the WSGI application for the requests, `call_command` for export_audit. A path is
measured on whichever database the default connection points at (`use_database`).

CPU of a call is this process's (`time.process_time`) plus the PostgreSQL backend's serving this
connection (the first field of /proc/<pid>/schedstat, nanoseconds on a CPU): the database's work
counts, as it is where a missing index would show.
"""

import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.scale_seed import AGENDA_DOCTOR
from bench.wsgi_call import call_application, schedule_visit
from teleconsultation_project.wsgi import application

call = functools.partial(call_application, application)
PATIENT = {"HTTP_MIAUSERID": "bench-get-patient", "HTTP_MIAUSERGROUPS": "customer"}
DOCTOR = {"HTTP_MIAUSERID": AGENDA_DOCTOR, "HTTP_MIAUSERGROUPS": "doctor"}
AGENDA_PAGES_SKIPPED = 100
SEARCHED_PATIENT = "patient-17"  # 4 visits at every size (bench/scale_seed.py)
QUIET = open(os.devnull, "w")  # noqa: SIM115 - export_audit's closing line, for the run


def use_database(name: str) -> None:
    """Points the default connection at database `name` (closing the one open)."""
    connection.close()
    connections.settings["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name


def backend_cpu_ns() -> int:
    """CPU time so far of the PostgreSQL backend serving the default connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with open(f"/proc/{pid}/schedstat") as stat:
        return int(stat.read().split()[0])


@dataclass
class Fixtures:
    """What the paths of one database need, made through the real code where it can be."""

    visit_id: str
    agenda_cursor: str
    admin_cookie: str
    seeded_at: datetime


def expect(status: str, content: bytes, what: str) -> bytes:
    if not status.startswith("200"):
        raise RuntimeError(f"{what}: {status} {content[:300]!r}")
    return content


def prepare(seeded_at: datetime) -> Fixtures:
    """A visit scheduled through POST /teleconsultation (its room on the in-process simulator),
    the agenda cursor reached by following `next` 100 times, a superuser's admin session."""
    people = [("bench-get-doctor", "doctor"), ("bench-get-patient", "customer")]
    visit_id = schedule_visit(application, people, start=timezone.now() + timedelta(days=2))
    cursor = None
    for _ in range(AGENDA_PAGES_SKIPPED):
        path = "/teleconsultation" + (f"?cursor={cursor}" if cursor else "")
        cursor = json.loads(expect(*call("GET", path, DOCTOR), "agenda"))["next"]
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="bench-support", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return Fixtures(
        visit_id=visit_id, agenda_cursor=cursor, admin_cookie=cookie, seeded_at=seeded_at
    )


def export_day(seeded_at: datetime) -> None:
    """The 24 hours before seeding: the same 5,000 entries at every size (the exports' own
    entries, written after, are left out)."""
    since, until = (
        moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        for moment in (seeded_at - timedelta(days=1), seeded_at)
    )
    arguments = ["--since", since, "--until", until, "--format", "jsonl", "--output", os.devnull]
    call_command("export_audit", *arguments, stdout=QUIET, stderr=QUIET)


def paths(fixtures: Fixtures) -> dict[str, Callable[[], object]]:
    """Name -> one call of the path."""
    admin = {"HTTP_COOKIE": fixtures.admin_cookie}
    visit = f"/teleconsultation/{fixtures.visit_id}"
    no_cache = override_settings(KALEYRA_ROOM_DETAILS_TTL_SECONDS=0)
    listing = "/admin/rooms/teleconsultation/"
    return {
        "get_hit": lambda: expect(*call("GET", visit, PATIENT), "GET"),
        "get_miss": no_cache(lambda: expect(*call("GET", visit, PATIENT), "GET")),
        "agenda_first_page": lambda: expect(*call("GET", "/teleconsultation", DOCTOR), "agenda"),
        "agenda_page_101": lambda: expect(
            *call("GET", f"/teleconsultation?cursor={fixtures.agenda_cursor}", DOCTOR), "agenda"
        ),
        "admin_visit_list": lambda: expect(*call("GET", listing, admin), "admin list"),
        "admin_search_participant": lambda: expect(
            *call("GET", f"{listing}?q={SEARCHED_PATIENT}", admin), "admin search"
        ),
        "export_audit_day": functools.partial(export_day, fixtures.seeded_at),
    }


def queries(path: Callable[[], object]) -> list[str]:
    """The SQL one call runs."""
    with CaptureQueriesContext(connection) as captured:
        path()
    return [query["sql"] for query in captured.captured_queries]


def cpu_per_call(path: Callable[[], object], count: int) -> tuple[float, float, float]:
    """(ms of CPU here, ms of CPU in PostgreSQL, ms of wall time) per call, over `count` calls."""
    server, wall, here = backend_cpu_ns(), time.perf_counter(), time.process_time()
    for _ in range(count):
        path()
    here, wall = time.process_time() - here, time.perf_counter() - wall
    server = (backend_cpu_ns() - server) / 1e9
    return here / count * 1000, server / count * 1000, wall / count * 1000
