"""Idempotency-Key on POST /teleconsultation and POST …/participants/data
(rooms/api/decorators.py): a repeat within 24 hours replays the first answer and makes nothing;
keys are per caller; old ones are purged by cleanup_teleconsultations."""

import json
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from rooms.services import lifecycle
from tests.conftest import GatewayClient
from tests.rooms.conftest import NOW, body, doctor, jobs, patient, stored, visit_count

pytestmark = [
    pytest.mark.usefixtures("storage_backend"),
    pytest.mark.django_db,
]

LATER = NOW + timedelta(days=7)  # still to come when the tests move the clock a day on
VISIT = body([doctor(), patient()], start=LATER)


def post(api, payload=VISIT, *, key="order-1", path="/teleconsultation"):
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return api.post(path, raw, content_type="application/json", **headers)


def test_a_repeat_replays_the_first_answer_and_makes_no_second_room(api, simulator):
    first = post(api)
    repeat = post(api)
    assert first.status_code == repeat.status_code == 201
    assert repeat.json() == first.json()
    assert repeat["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert simulator.call_count("create_room") == 1
    assert visit_count() == 1


def test_key_order_and_spacing_of_the_json_body_do_not_matter(api, simulator):
    first = post(api, json.dumps(VISIT))
    reordered = json.dumps(dict(reversed(list(VISIT.items()))), indent=2)
    assert reordered != json.dumps(VISIT)
    repeat = post(api, reordered)
    assert (repeat.status_code, repeat.json()) == (201, first.json())
    assert repeat["Idempotent-Replayed"] == "true"
    assert simulator.call_count("create_room") == 1


def test_the_same_key_with_another_body_is_a_422_and_makes_nothing(api, simulator):
    post(api)
    other = post(api, body([doctor(), patient("patient-2")], start=LATER))
    assert other.status_code == 422
    assert "another request body" in other.json()["message"]
    assert simulator.call_count("create_room") == 1
    assert visit_count() == 1


def test_a_repeat_while_the_first_is_still_running_is_a_409(api, simulator, monkeypatch):
    create = lifecycle.teleconsultation_create
    repeats = []

    def create_while_repeated(**kwargs):
        # The first request is running (its key recorded, no answer yet) when the repeat arrives.
        repeats.append(post(GatewayClient()))
        return create(**kwargs)

    monkeypatch.setattr(lifecycle, "teleconsultation_create", create_while_repeated)
    first = post(api)
    assert first.status_code == 201
    assert [repeat.status_code for repeat in repeats] == [409]
    assert "still being handled" in repeats[0].json()["message"]
    assert simulator.call_count("create_room") == 1
    monkeypatch.undo()
    assert post(api).json() == first.json()  # once answered, the key replays


def test_a_5xx_answer_frees_the_key(api, simulator):
    simulator.fail_next("create_room", mode="500")
    assert post(api).status_code == 502
    assert visit_count() == 0
    again = post(api)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert len(simulator.rooms()) == 1


def test_a_refusal_is_not_kept_either(api, simulator):
    assert post(api, body([patient("a"), patient("b")])).status_code == 400  # no plus user
    assert jobs("idempotency") == []
    assert post(api, body([patient("a"), patient("b")])).status_code == 400


def test_keys_are_per_caller(api, simulator):
    doctor_call = post(api.as_user("doctor-1", ("doctor",)))
    admin_call = post(api.as_user("ops", ("admin",)))
    assert (doctor_call.status_code, admin_call.status_code) == (201, 201)
    assert doctor_call.json() != admin_call.json()
    assert "Idempotent-Replayed" not in admin_call
    assert simulator.call_count("create_room") == 2


def test_keys_are_per_route(api, simulator):
    visit = post(api, body([doctor()], number=3), key="k").json()["roomId"]
    added = post(api, patient(), key="k", path=f"/teleconsultation/{visit}/participants/data")
    assert added.status_code == 201
    assert "Idempotent-Replayed" not in added
    assert stored(visit).participant("patient-1") is not None


def test_a_repeated_addition_is_replayed_not_refused_as_a_duplicate(api, simulator):
    visit = post(api, body([doctor()], number=2), key=None).json()["roomId"]
    path = f"/teleconsultation/{visit}/participants/data"
    first = post(api, patient(), path=path)
    repeat = post(api, patient(), path=path)
    assert (first.status_code, repeat.status_code) == (201, 201)
    assert repeat["Idempotent-Replayed"] == "true"
    assert [p.external_id for p in stored(visit).participants] == ["doctor-1", "patient-1"]
    assert simulator.call_count("create_room") == 1


def test_a_key_runs_again_after_24_hours(api, simulator, clock):
    first = post(api)
    clock.shift(timedelta(hours=23, minutes=59))
    assert post(api)["Idempotent-Replayed"] == "true"
    clock.shift(timedelta(minutes=2))
    again = post(api)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert again.json() != first.json()
    assert simulator.call_count("create_room") == 2
    assert post(api).json() == again.json()  # the new answer is the one kept now


@pytest.mark.parametrize("key", ["", "   ", "k" * 256, "tab\there"])
def test_an_invalid_key_is_a_400_and_makes_nothing(api, simulator, key):
    response = post(api, key=key)
    assert response.status_code == 400
    assert response.json()["details"] == {
        "Idempotency-Key": ["must be 1 to 255 printable characters"]
    }
    assert visit_count() == 0 and simulator.call_count() == 0


def test_without_a_key_every_post_makes_a_visit(api, simulator):
    post(api, key=None)
    post(api, key=None)
    assert visit_count() == 2


# --- cleanup_teleconsultations purges old keys ------------------------------------------------


def cleanup(*args) -> str:
    out = StringIO()
    call_command("cleanup_teleconsultations", "--older-than-days", "30", *args, stdout=out)
    return out.getvalue()


def test_cleanup_erases_the_keys_older_than_24_hours_on_every_run(api, simulator, clock):
    post(api, key="old-1")
    post(api, key="old-2")
    clock.shift(timedelta(hours=20))
    recent = post(api, key="recent")
    clock.shift(timedelta(hours=5))
    assert "would erase the idempotency keys" in cleanup("--dry-run")
    assert len(jobs("idempotency")) == 3
    out = cleanup()
    assert "2 idempotency key(s) recorded before" in out
    assert len(jobs("idempotency")) == 1
    assert post(api, key="recent").json() == recent.json()
    assert "0 idempotency key(s)" in cleanup()


# --- real concurrency: two requests at once on PostgreSQL ---------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_make_one_visit(simulator, monkeypatch):
    create = lifecycle.teleconsultation_create
    first_inside, repeat_answered = threading.Event(), threading.Event()

    def slow_create(**kwargs):
        first_inside.set()
        assert repeat_answered.wait(10)
        return create(**kwargs)

    monkeypatch.setattr(lifecycle, "teleconsultation_create", slow_create)
    answers = {}

    def first():
        try:
            answers["first"] = post(GatewayClient())
        finally:
            connection.close()  # the thread's own connection, or the test database stays in use

    thread = threading.Thread(target=first)
    thread.start()
    assert first_inside.wait(10)
    answers["repeat"] = post(GatewayClient())
    repeat_answered.set()
    thread.join(10)
    assert (answers["first"].status_code, answers["repeat"].status_code) == (201, 409)
    assert visit_count() == 1
