"""The benchmark's yardstick views (bench/bare_views.py): off unless BENCH_BARE_VIEWS is set, and
then the bare minimum a GET can do: one primary-key read, and one Kaleyra get-room; and the
mandatory work of a poll, which must answer as the GET does."""

import pytest
from django.conf import settings
from django.test import Client

from tests.rooms.conftest import START

BARE = "bench.bare_views.BareViewsMiddleware"
PATIENT = {"HTTP_MIAUSERID": "patient-1", "HTTP_MIAUSERGROUPS": "customer"}


@pytest.fixture
def bare_views_on(settings):
    settings.MIDDLEWARE = [BARE, *settings.MIDDLEWARE]


def test_they_are_off_by_default_and_their_paths_answer_the_json_404(visit):
    assert settings.BENCH_BARE_VIEWS is False
    assert BARE not in settings.MIDDLEWARE
    for path in (
        f"/-/bench/read/{visit}",
        f"/-/bench/room/{visit}",
        f"/-/bench/mandatory/{visit}",
    ):
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


def test_the_mandatory_view_is_one_query_and_no_provider_call_once_the_details_are_cached(
    visit, simulator, bare_views_on, settings, django_assert_num_queries
):
    settings.KALEYRA_ROOM_DETAILS_TTL_SECONDS = 30
    Client().get(f"/-/bench/mandatory/{visit}", **PATIENT)  # the details, cached
    simulator.reset_call_log()
    with django_assert_num_queries(1):
        response = Client().get(f"/-/bench/mandatory/{visit}", **PATIENT)
    assert response.status_code == 200 and response.json()["accessLinkURL"] is None
    assert simulator.call_count() == 0


@pytest.mark.parametrize("ttl", [30, 0])
def test_the_mandatory_view_answers_a_poll_as_the_get_does(visit, bare_views_on, settings, ttl):
    # The yardstick is honest only if it does the GET's work: same body, byte for byte, and the
    # same headers, for the same caller; the same refusals.
    settings.KALEYRA_ROOM_DETAILS_TTL_SECONDS = ttl
    caller = {**PATIENT, "HTTP_X_REQUEST_ID": "bench-1"}
    real = Client().get(f"/teleconsultation/{visit}", **caller)
    bare = Client().get(f"/-/bench/mandatory/{visit}", **caller)
    assert real.status_code == bare.status_code == 200
    assert real.json()["details"]["recording"] == "none"
    assert bare.content == real.content
    assert dict(bare.headers) == dict(real.headers)
    for headers in ({}, {**PATIENT, "HTTP_MIAUSERID": "stranger"}):
        real = Client().get(f"/teleconsultation/{visit}", **headers)
        bare = Client().get(f"/-/bench/mandatory/{visit}", **headers)
        assert real.status_code == bare.status_code == 401
        assert bare.content == real.content
    missing = "0123456789abcdef01234567"
    real = Client().get(f"/teleconsultation/{missing}", **PATIENT)
    bare = Client().get(f"/-/bench/mandatory/{missing}", **PATIENT)
    assert real.status_code == bare.status_code == 404 and bare.content == real.content


def test_the_mandatory_view_refuses_to_measure_a_link_handed_out(visit, bare_views_on, clock):
    clock.move_to(START)  # the window is open: the GET hands the link out (and audits it)
    assert Client().get(f"/teleconsultation/{visit}", **PATIENT).json()["accessLinkURL"]
    assert Client().get(f"/-/bench/mandatory/{visit}", **PATIENT).status_code == 409
