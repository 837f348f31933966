"""The benchmark's yardstick views (bench/bare_views.py): off unless BENCH_BARE_VIEWS is set, and
then the bare minimum a GET can do: one primary-key read, and one Kaleyra get-room."""

import pytest
from django.conf import settings
from django.test import Client

BARE = "bench.bare_views.BareViewsMiddleware"


@pytest.fixture
def bare_views_on(settings):
    settings.MIDDLEWARE = [BARE, *settings.MIDDLEWARE]


def test_they_are_off_by_default_and_their_paths_answer_the_json_404(visit):
    assert settings.BENCH_BARE_VIEWS is False
    assert BARE not in settings.MIDDLEWARE
    for path in (f"/-/bench/read/{visit}", f"/-/bench/room/{visit}"):
        response = Client().get(path)
        assert response.status_code == 404
        assert response.json()["statusCode"] == 404


def test_the_read_is_one_query_and_no_provider_call(
    visit, simulator, bare_views_on, django_assert_num_queries
):
    simulator.reset_call_log()
    with django_assert_num_queries(1):
        response = Client().get(f"/-/bench/read/{visit}")
    assert response.status_code == 200 and response.json()["roomId"] == visit
    assert simulator.call_count() == 0


def test_the_room_view_is_one_query_and_one_get_room(
    visit, simulator, bare_views_on, django_assert_num_queries
):
    simulator.reset_call_log()
    with django_assert_num_queries(1):
        response = Client().get(f"/-/bench/room/{visit}")
    assert response.status_code == 200 and response.json()["recording"] == "none"
    assert simulator.calls() == {"get_room": 1}


def test_an_unknown_id_is_a_404(db, bare_views_on):
    assert Client().get("/-/bench/read/0123456789abcdef01234567").status_code == 404
