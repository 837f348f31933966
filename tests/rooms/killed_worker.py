"""A worker process for the `kill -9` cases of tests/rooms/test_orphan_rooms.py.

It runs against the database of DATABASE_URL (a SQLite file) and the simulator over HTTP
(BANDYER_BASE_URL), so what it leaves behind outlives it:

    python -m tests.rooms.killed_worker migrate
    python -m tests.rooms.killed_worker kill POST|PATCH|ADD
        prints {"visit": id} (the visit the request works on, if any), then makes the request
        and dies by SIGKILL the moment Kaleyra has created the room, before anything is written
    python -m tests.rooms.killed_worker reconcile
        runs reconcile_rooms now, then again a minute later; prints what is stored
        before and after each run as one JSON line
"""

import json
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from io import StringIO

import django

# The next reconcile run a minute after the kill: the dead worker's leases have run out by then.
NEXT_RUN = timedelta(seconds=60)


def _request_body(people, *, number=None) -> dict:
    from tests.rooms.conftest import body

    return body(people, number=number, start=datetime.now(UTC) + timedelta(hours=2))


def _die_after_create_room() -> None:
    from kaleyra.client import KaleyraClient

    create_room = KaleyraClient.create_room

    def create_room_then_die(self, **kwargs):
        create_room(self, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    KaleyraClient.create_room = create_room_then_die


def kill(operation: str) -> None:
    from django.test import Client

    from tests.rooms.conftest import doctor, patient

    client = Client(HTTP_ISBACKOFFICE="true")

    def post(people, **kwargs) -> str:
        response = client.post(
            "/teleconsultation", _request_body(people, **kwargs), content_type="application/json"
        )
        assert response.status_code == 201, response.content
        return response.json()["roomId"]

    visit = None
    if operation == "PATCH":
        visit = post([doctor(), patient()])
    elif operation == "ADD":
        visit = post([doctor()], number=2)
    print(json.dumps({"visit": visit}), flush=True)
    _die_after_create_room()
    if operation == "POST":
        post([doctor(), patient()])
    elif operation == "PATCH":
        participants = {"number": 2, "data": [doctor(), patient("patient-2")]}
        client.patch(
            f"/teleconsultation/{visit}",
            {"participants": participants},
            content_type="application/json",
        )
    else:
        client.post(
            f"/teleconsultation/{visit}/participants/data",
            patient(),
            content_type="application/json",
        )
    sys.exit("the worker was not killed")


def stored_state() -> dict:
    from rooms.domain import JobKind
    from rooms.storage import get_storage

    storage = get_storage()
    visits = {}
    for batch in storage.teleconsultation_id_batches(include_trash=True):
        for visit_id in batch:
            visit = storage.find(visit_id, include_trash=True)
            visits[visit_id] = {
                "room": visit.kaleyra_room_id,
                "state": visit.state.value,
                "people": [member.external_id for member in visit.participants],
                "claimed": visit.room_claim is not None,
            }
    jobs = {
        kind.value: [
            {"key": job.key, "abandoned": job.abandoned}
            for batch in storage.job_batches(kind)
            for job in batch
        ]
        for kind in JobKind
    }
    return {"visits": visits, "jobs": jobs}


def reconcile() -> None:
    import time_machine
    from django.core.management import call_command
    from django.utils import timezone

    def run() -> str:
        out = StringIO()
        call_command("reconcile_rooms", stdout=out, stderr=StringIO())
        return out.getvalue()

    report = {"before": stored_state(), "in_flight_out": run(), "in_flight": stored_state()}
    with time_machine.travel(timezone.now() + NEXT_RUN):
        report["out"] = run()
    report["after"] = stored_state()
    print(json.dumps(report), flush=True)


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teleconsultation_project.settings")
    django.setup()
    if argv[1] == "migrate":
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    elif argv[1] == "kill":
        kill(argv[2])
    else:
        reconcile()


if __name__ == "__main__":
    main(sys.argv)
