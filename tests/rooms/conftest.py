"""Builders for teleconsultation requests, and the instant every test here runs at.

Each test in this folder runs on a clock stopped at `NOW` (the `clock` fixture, tests/conftest.py)
unless it is marked `real_clock`."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
START = NOW + timedelta(hours=2)


def person(user_id, groups=("customer",), full_name=None, language=None) -> dict:
    entry = {"userExternalId": user_id, "groups": list(groups), "fullName": full_name or user_id}
    if language:
        entry["language"] = language
    return entry


def doctor(user_id="doctor-1", **kwargs) -> dict:
    return person(
        user_id, groups=("doctor",), full_name=kwargs.pop("full_name", "Dr. Ada"), **kwargs
    )


def patient(user_id="patient-1", **kwargs) -> dict:
    return person(user_id, groups=("customer",), **kwargs)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def body(people, *, number=None, start=START, duration=1800, **extra) -> dict:
    payload = {
        "participants": {"number": number or len(people), "data": list(people)},
        "start_date": iso(start),
        "duration_in_seconds": duration,
    }
    payload.update(extra)
    return payload


@pytest.fixture(params=["django", "crud"])
def storage_backend(request, settings):
    """Runs a test against each storage backend: this service's database, and Mia's CRUD Service
    with the collections a Mia project defines. The CRUD Service is the bundled simulator, in
    process: the real client builds and sends every request, and only the socket is replaced by a
    call (tests/crud covers the wire, over real sockets). Four times faster than over HTTP, which
    keeps the SQLite leg within its budget (docs/testing.md)."""
    if request.param == "crud":
        use_mia_collections(request.getfixturevalue("crud_simulator"), settings)
    return request.param


def use_mia_collections(crud, settings) -> None:
    """The CRUD backend on `crud` (a simulator), with the collections a Mia project defines."""
    crud.configure(
        settings.TELECONSULTATIONS_CRUD_NAME,
        default_state="DRAFT",
        date_fields=("startDate", "endDate"),
    )
    crud.configure(settings.USER_ID_MAP_CRUD_NAME, unique=[("receivedUserId",)])
    crud.configure(settings.ROOM_JOBS_CRUD_NAME, unique=[("kind", "key")])
    crud.configure(
        settings.WEBHOOK_EVENTS_CRUD_NAME,
        unique=[("event", "roomId", "timestamp")],
        date_fields=("timestamp", "receivedAt"),
    )
    crud.configure(
        settings.ATTENDANCE_CRUD_NAME,
        unique=[("teleconsultationId",)],
        date_fields=("collectedAt",),
    )
    settings.STORAGE_BACKEND = "crud"


@pytest.fixture
def django_storage_only(storage_backend):
    """For tests about the Django backend itself (SQL query budgets)."""
    if storage_backend != "django":
        pytest.skip("about the Django backend's SQL queries")


@pytest.fixture(autouse=True)
def _stopped_clock(request):
    """The clock stopped at NOW for every test here but those marked `real_clock`."""
    if not request.node.get_closest_marker("real_clock"):
        request.getfixturevalue("clock")


# --- what storage holds, read through the storage interface so the same test runs against every
# backend (never the ORM: the CRUD backend has no tables) ---------------------------------------


def stored(teleconsultation_id: str):
    """The teleconsultation as stored, trashed ones included (None when there is none)."""
    from rooms.storage import get_storage

    return get_storage().find(teleconsultation_id, include_trash=True)


def visit_count() -> int:
    from rooms.storage import get_storage

    return get_storage().count_teleconsultations(include_trash=True)


def mapping(external_id: str):
    """The user map entry of an external user id, or None."""
    from rooms.storage import get_storage

    return get_storage().mappings_for([external_id]).get(external_id)


def jobs(kind: str) -> list:
    """Every room job of a kind ("room_deletion", "room_intent")."""
    from rooms.domain import JobKind
    from rooms.storage import get_storage

    return [job for batch in get_storage().job_batches(JobKind(kind)) for job in batch]


def audit_trail(action: str | None = None) -> list:
    """The audit entries (of one action), oldest first."""
    from rooms.storage import get_storage

    since = datetime(1970, 1, 1, tzinfo=UTC)
    entries = [entry for batch in get_storage().audit_entries(since=since) for entry in batch]
    return [entry for entry in entries if action is None or entry.action == action]


def links(teleconsultation) -> list[str]:
    return [member.access_link for member in teleconsultation.participants]


def run_in_parallel(actions: list) -> list:
    """Runs the actions at once, each in its own thread with its own database connection; each
    one's result, or the exception it raised."""
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def worker(index, action):
        try:
            barrier.wait()
            results[index] = action()
        except Exception as exc:  # noqa: BLE001 - reported as the action's result
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
