"""Query budgets: writes cost the same number of SQL queries for 2 participants as for 25, and a
read is one query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.rooms.conftest import body, doctor, patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


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
