"""The failure model (docs/security.md) as a matrix: every provider call of every operation,
failing every way Kaleyra can fail, against the simulator over HTTP.

Each case checks what the client is told, what is stored, that every room nobody holds is known
to storage (a pending deletion, or tagged with a pending intent) and that one `reconcile_rooms`
run leaves no orphan room: none in the simulator that no live visit holds. A fault is queued for
every attempt, so retries do not hide it: Kaleyra keeps failing until the request gives up.
"""

from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

import pytest

from tests.rooms.conftest import body, doctor, jobs, patient, stored, visit_count
from tests.rooms.orphans import SLOW_ANSWER, fail_fast, known_to_storage, orphan_rooms, reconcile

pytestmark = [pytest.mark.django_db]

PROVIDER = "the video provider (Kaleyra)"
RETRY_AFTER = 30  # longer than any retry budget: a request never waits for it


@dataclass(frozen=True)
class Failure:
    mode: str
    status: int  # what the client gets when the failure ends its request
    trouble: str  # how the message words it
    retry_after: float | None = None
    retry_header: str | None = None  # Retry-After sent to the client

    @property
    def acts_first(self) -> bool:
        """Kaleyra did what was asked, then the answer was lost."""
        return self.mode.endswith("_after")


FAILURES = {
    "500": Failure("500", 502, "answered with an error (status 500)"),
    "429": Failure("429", 503, "is rate limiting requests", RETRY_AFTER, str(RETRY_AFTER)),
    "429-without-retry-after": Failure("429", 503, "is rate limiting requests", None, "60"),
    "timeout": Failure("timeout", 504, "did not answer in time"),
    "dropped": Failure("drop", 503, "is unreachable"),
    "timeout-after-acting": Failure("timeout_after", 504, "did not answer in time"),
    "dropped-after-acting": Failure("drop_after", 503, "is unreachable"),
}


@dataclass
class Before:
    """What the operation starts from."""

    visit: str | None = None
    room: str | None = None


@dataclass(frozen=True)
class Operation:
    arrange: Callable  # (create, simulator) -> Before
    act: Callable  # (api, Before) -> response
    calls: tuple[str, ...]  # the provider calls it makes, in order
    survives: dict  # call -> check of the answer, when its failure does not fail the request
    stored: Callable  # (Before, call, Failure, simulator) -> None: what is stored afterwards


def nothing(create, simulator) -> Before:
    return Before()


def complete_visit(create, simulator) -> Before:
    visit = create([doctor(), patient()])
    return Before(visit, stored(visit).kaleyra_room_id)


def waiting_visit(create, simulator) -> Before:
    return Before(create([doctor()], number=2))


def visit_with_an_upload(create, simulator) -> Before:
    before = complete_visit(create, simulator)
    simulator.add_upload(before.room)
    return before


def people(visit: str) -> list[str]:
    return [member.external_id for member in stored(visit).participants]


def abandoned_intents() -> list[str]:
    return [job.teleconsultation_id for job in jobs("room_intent") if job.abandoned]


def intents_after(call: str, failure: Failure, visit: str = "") -> None:
    """A room creation whose answer is lost or failed leaves its intent, marked abandoned; one
    refused with a 429 made nothing and leaves none; nothing else leaves one."""
    left = call == "create_room" and failure.mode != "429"
    assert abandoned_intents() == ([visit] if left else [])
    assert len(jobs("room_intent")) == len(abandoned_intents())


def stored_after_post(before, call, failure, simulator) -> None:
    assert visit_count() == 0
    intents_after(call, failure)


def stored_after_patch(before, call, failure, simulator) -> None:
    visit = stored(before.visit)
    if call == "delete_room":  # the write happened; the old room waits for reconcile
        assert people(before.visit) == ["doctor-1", "patient-2"]
        assert visit.kaleyra_room_id not in (None, before.room)
        assert [job.key for job in jobs("room_deletion")] == [before.room]
        assert simulator.room_exists(before.room) is not failure.acts_first
    else:
        assert people(before.visit) == ["doctor-1", "patient-1"]
        assert visit.kaleyra_room_id == before.room
        assert jobs("room_deletion") == []
    assert simulator.room_exists(visit.kaleyra_room_id)
    intents_after(call, failure, before.visit)


def stored_after_addition(before, call, failure, simulator) -> None:
    visit = stored(before.visit)
    assert people(before.visit) == ["doctor-1"]  # taken out again: the request can be repeated
    assert visit.kaleyra_room_id is None and visit.room_claim is None
    intents_after(call, failure, before.visit)


def stored_after_delete(before, call, failure, simulator) -> None:
    assert stored(before.visit).state == "TRASH"
    assert [job.key for job in jobs("room_deletion")] == [before.room]
    assert simulator.room_exists(before.room) is not failure.acts_first
    intents_after(call, failure)


def stored_after_uploads(before, call, failure, simulator) -> None:
    assert stored(before.visit).kaleyra_room_id == before.room
    gone = call == "delete_upload" and failure.acts_first
    assert len(simulator.uploads(before.room)) == (0 if gone else 1)
    intents_after(call, failure)


def stored_unchanged(before, call, failure, simulator) -> None:
    assert stored(before.visit).kaleyra_room_id == before.room
    assert simulator.room_exists(before.room)
    intents_after(call, failure)


def no_content(response) -> None:
    assert response.status_code == 204


def no_upload_counted_deleted(response) -> None:
    # An upload whose deletion got no answer counts as not deleted; a repeat lists what is left.
    assert response.status_code == 200
    assert response.json() == {"total": 1, "deleted": 0}


def details_null(response) -> None:
    assert response.status_code == 200
    assert response.json()["details"] is None


def new_participants() -> dict:
    return {"participants": {"number": 2, "data": [doctor(), patient("patient-2")]}}


OPERATIONS = {
    "POST": Operation(
        nothing,
        lambda api, b: api.post("/teleconsultation", body([doctor(), patient()]), format="json"),
        ("create_user", "create_room"),
        {},
        stored_after_post,
    ),
    "PATCH": Operation(
        complete_visit,
        lambda api, b: api.patch(f"/teleconsultation/{b.visit}", new_participants(), format="json"),
        ("create_user", "create_room", "delete_room"),
        {"delete_room": no_content},
        stored_after_patch,
    ),
    "POST participants": Operation(
        waiting_visit,
        lambda api, b: api.post(
            f"/teleconsultation/{b.visit}/participants/data", patient(), format="json"
        ),
        ("create_user", "create_room"),
        {},
        stored_after_addition,
    ),
    "DELETE": Operation(
        complete_visit,
        lambda api, b: api.delete(f"/teleconsultation/{b.visit}"),
        ("delete_room",),
        {"delete_room": no_content},
        stored_after_delete,
    ),
    "DELETE uploads": Operation(
        visit_with_an_upload,
        lambda api, b: api.delete(f"/teleconsultation/{b.visit}/uploads"),
        ("iter_room_uploads", "delete_upload"),
        {"delete_upload": no_upload_counted_deleted},
        stored_after_uploads,
    ),
    "GET": Operation(
        complete_visit,
        lambda api, b: api.as_user("patient-1", ("customer",)).get(f"/teleconsultation/{b.visit}"),
        ("get_room",),
        {"get_room": details_null},
        stored_unchanged,
    ),
}

# Operations that write run on both storage backends; GET and DELETE uploads only read the
# record, so their failures are the provider's alone and the Django backend is enough.
WRITES = {"POST", "PATCH", "POST participants", "DELETE"}
# What storage must do after a failed call depends only on whether Kaleyra acted before the
# answer was lost; how each failure reads to the client is the same on either backend. So the
# Django backend meets every failure, and the CRUD backend one of each kind (a timeout costs two
# read timeouts: the whole set on both backends would take a fifth of the SQLite leg).
CRUD_FAILURES = ("500", "dropped-after-acting")
CASES = [
    pytest.param(backend, operation, call, failure, id=f"{backend}-{operation}-{call}-{failure}")
    for operation, spec in OPERATIONS.items()
    for backend in (("django", "crud") if operation in WRITES else ("django",))
    for call in spec.calls
    for failure in FAILURES
    if backend == "django" or failure in CRUD_FAILURES
]


@pytest.fixture(autouse=True)
def _fast(settings):
    fail_fast(settings)
    settings.TELECONSULTATION_DELETE_UPLOADS = True


def check_answer(response, call: str, failure: Failure) -> None:
    assert response.status_code == failure.status, response.content
    message = f"{PROVIDER} {failure.trouble} while trying to {call.replace('_', ' ')}"
    if failure.retry_header:
        message += f"; retry in {failure.retry_header} seconds"
    assert response.json() == {
        "statusCode": failure.status,
        "error": HTTPStatus(failure.status).phrase,
        "message": message,
    }
    assert response.headers.get("Retry-After") == failure.retry_header


@pytest.mark.parametrize(
    ("storage_backend", "operation", "call", "failure"), CASES, indirect=["storage_backend"]
)
def test_no_orphan_room_whatever_kaleyra_loses(
    storage_backend, api, create, simulator_http, operation, call, failure
):
    spec, failure = OPERATIONS[operation], FAILURES[failure]
    before = spec.arrange(create, simulator_http)
    simulator_http.reset_call_log()
    simulator_http.fail_next(
        call, mode=failure.mode, times=10, retry_after=failure.retry_after, delay=SLOW_ANSWER
    )

    response = spec.act(api, before)

    simulator_http.clear_faults()
    assert simulator_http.call_count(call) >= 1  # the fault was met
    if call == "create_room":
        assert simulator_http.call_count("create_room") == 1  # never repeated: no second room
    if call in spec.survives:
        spec.survives[call](response)
    else:
        check_answer(response, call, failure)
    spec.stored(before, call, failure, simulator_http)
    orphans = orphan_rooms(simulator_http)
    assert all(known_to_storage(simulator_http, room) for room in orphans)
    if call == "create_room":
        assert len(orphans) == (1 if failure.acts_first else 0)

    out = reconcile()

    assert orphan_rooms(simulator_http) == []
    assert jobs("room_intent") == jobs("room_deletion") == jobs("run_lock") == []
    if before.visit and (visit := stored(before.visit)).kaleyra_room_id:
        assert visit.state == "TRASH" or simulator_http.room_exists(visit.kaleyra_room_id)
    if call == "create_room" and failure.acts_first:
        assert "orphan room(s)" in out


@pytest.mark.usefixtures("storage_backend")
@pytest.mark.parametrize("retry_after", [0.05, None], ids=["with-retry-after", "without"])
def test_reconcile_waits_out_a_rate_limit_and_retries(
    api, create, simulator_http, monkeypatch, retry_after
):
    # Nobody waits for a background run: a 429 naming no time is waited out (60 s, shortened).
    monkeypatch.setattr("kaleyra.retry.DEFAULT_RATE_LIMIT_WAIT", 0.05)
    before = complete_visit(create, simulator_http)
    simulator_http.fail_next("delete_room", mode="500")
    assert api.delete(f"/teleconsultation/{before.visit}").status_code == 204
    simulator_http.reset_call_log()
    simulator_http.fail_next("delete_room", mode="429", retry_after=retry_after)

    out = reconcile()

    assert simulator_http.call_count("delete_room") == 2
    assert "Summary: 1 done" in out
    assert jobs("room_deletion") == [] and orphan_rooms(simulator_http) == []
