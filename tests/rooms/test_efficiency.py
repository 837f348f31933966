"""Query and call budgets: writes cost the same number of SQL queries for 2 participants as for
25, a read is one query and at most one Kaleyra call, new users are made in parallel."""

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kaleyra.provider import get_video_provider
from tests.rooms.conftest import body, doctor, patient

pytestmark = [pytest.mark.django_db]


def people(count: int, prefix: str) -> list[dict]:
    return [doctor(f"{prefix}-doctor")] + [patient(f"{prefix}-p{i}") for i in range(count - 1)]


def queries_of(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = action()
    assert response.status_code in (201, 204), response.content
    return len(captured)


def test_post_costs_the_same_queries_for_2_and_25_participants(api):
    def post(count):
        return lambda: api.post(
            "/teleconsultation", body(people(count, f"n{count}")), format="json"
        )

    assert queries_of(post(2)) == queries_of(post(25))


def test_patch_costs_the_same_queries_for_2_and_25_participants(api, create):
    def patch(count):
        room_id = create(people(count, f"old{count}"))
        payload = {"participants": {"number": count, "data": people(count, f"new{count}")}}
        return lambda: api.patch(f"/teleconsultation/{room_id}", payload, format="json")

    assert queries_of(patch(2)) == queries_of(patch(25))


def test_get_is_one_query_for_2_and_25_participants(api, create, clock, django_assert_num_queries):
    # The visit and its participants in one LEFT JOIN, however many participants (Django backend).
    for count in (2, 25):
        room_id = create(people(count, f"get{count}"))
        api.as_user(f"get{count}-doctor", ("doctor",))
        with django_assert_num_queries(1):
            assert api.get(f"/teleconsultation/{room_id}").status_code == 200


def test_a_poll_is_one_query_and_one_kaleyra_call_then_none_while_cached(
    api, create, simulator, settings, django_assert_num_queries
):
    # Before the join window opens (no link handed out, so no audit row): the visit with its
    # participants in one query, the room's details from Kaleyra once, then from the cache.
    settings.KALEYRA_ROOM_DETAILS_TTL_SECONDS = 30
    room_id = create(people(2, "poll"))
    api.as_user("poll-p0", ("customer",))
    simulator.reset_call_log()
    with django_assert_num_queries(1):
        assert api.get(f"/teleconsultation/{room_id}").json()["accessLinkURL"] is None
    assert simulator.calls() == {"get_room": 1}
    with django_assert_num_queries(1):
        assert api.get(f"/teleconsultation/{room_id}").status_code == 200
    assert simulator.calls() == {"get_room": 1}


def test_new_users_of_a_visit_are_made_at_once_up_to_the_parallel_limit(
    api, simulator, settings, monkeypatch
):
    settings.KALEYRA_PARALLEL_CALLS = 8
    provider = get_video_provider()
    real_create_user = provider.create_user
    lock = threading.Lock()
    counts = {"now": 0, "most": 0}

    def slow_create_user(**kwargs):
        with lock:
            counts["now"] += 1
            counts["most"] = max(counts["most"], counts["now"])
        time.sleep(0.02)
        try:
            return real_create_user(**kwargs)
        finally:
            with lock:
                counts["now"] -= 1

    monkeypatch.setattr(provider, "create_user", slow_create_user)
    simulator.reset_call_log()
    response = api.post("/teleconsultation", body(people(25, "new")), format="json")
    assert response.status_code == 201, response.content
    assert simulator.calls() == {"create_user": 25, "create_room": 1}
    assert counts["most"] == 8
