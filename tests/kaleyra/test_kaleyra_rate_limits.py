"""429s: on a request path a 429 is handed back at once unless its Retry-After fits the budget;
background work waits out a 429 that names no time (Kaleyra's own clients wait 60 s)."""

import pytest

from kaleyra.errors import DEFAULT_RATE_LIMIT_WAIT, KaleyraRateLimited
from kaleyra.provider import get_video_provider
from kaleyra.retry import background_work
from tests.kaleyra.support import BASE_URL

ROOM_URL = f"{BASE_URL}/v2/rooms/room_1"
ROOM = {"id": "room_1", "participants": []}


def test_the_polite_wait_is_the_sixty_seconds_of_kaleyras_sample_clients():
    assert DEFAULT_RATE_LIMIT_WAIT == 60


def test_a_429_without_retry_after_is_not_retried_on_a_request_path(wire_mock, client, fake_time):
    wire_mock.get(ROOM_URL, status=429)
    with pytest.raises(KaleyraRateLimited) as caught:
        client.get_room("room_1")
    assert caught.value.retry_after is None
    assert len(wire_mock.calls) == 1
    assert fake_time.sleeps == []


def test_even_a_budget_long_enough_for_the_polite_wait_is_not_spent_on_it(
    wire_mock, client_factory, fake_time
):
    wire_mock.get(ROOM_URL, status=429)
    with pytest.raises(KaleyraRateLimited):
        client_factory(budget=600.0).get_room("room_1")
    assert len(wire_mock.calls) == 1
    assert fake_time.sleeps == []


def test_a_429_whose_retry_after_fits_the_budget_is_waited_and_retried(
    wire_mock, client, fake_time
):
    wire_mock.get(ROOM_URL, status=429, headers={"Retry-After": "2"})
    wire_mock.get(ROOM_URL, json=ROOM)
    assert client.get_room("room_1").id == "room_1"
    assert fake_time.sleeps == [2.0]


def test_a_retry_after_longer_than_the_budget_is_handed_back_with_its_value(
    wire_mock, client, fake_time
):
    # Waiting 10 s of the 60 asked would only be refused again; the caller relays the 60.
    wire_mock.get(ROOM_URL, status=429, headers={"Retry-After": "60"})
    with pytest.raises(KaleyraRateLimited) as caught:
        client.get_room("room_1")
    assert caught.value.retry_after == 60.0
    assert len(wire_mock.calls) == 1
    assert fake_time.sleeps == []


def test_background_work_waits_sixty_seconds_after_a_429_without_retry_after(
    wire_mock, client, fake_time
):
    wire_mock.get(ROOM_URL, status=429)
    wire_mock.get(ROOM_URL, json=ROOM)
    with background_work(max_total_seconds=300):
        assert client.get_room("room_1").id == "room_1"
    assert fake_time.sleeps == [60]


def test_background_work_can_take_its_own_sleep(wire_mock, client, fake_time):
    waits = []
    wire_mock.get(ROOM_URL, status=429)
    wire_mock.get(ROOM_URL, json=ROOM)
    with background_work(max_total_seconds=300, sleep=waits.append):
        client.get_room("room_1")
    assert waits == [60]
    assert fake_time.sleeps == []


def test_a_block_inside_another_keeps_the_outer_sleep_and_budget(wire_mock, client, fake_time):
    # A command opens its own block; a test's block around it still decides how to wait.
    waits = []
    wire_mock.get(ROOM_URL, status=429)
    wire_mock.get(ROOM_URL, json=ROOM)
    with background_work(sleep=waits.append), background_work():
        client.get_room("room_1")
    assert waits == [60]
    assert fake_time.sleeps == []
    wire_mock.get(ROOM_URL, status=429)
    with background_work(max_total_seconds=59), background_work():  # settings give 300
        with pytest.raises(KaleyraRateLimited):
            client.get_room("room_1")
    assert fake_time.sleeps == []


def test_background_work_stops_waiting_when_its_budget_is_spent(wire_mock, client, fake_time):
    wire_mock.get(ROOM_URL, status=429)
    with background_work(max_total_seconds=100), pytest.raises(KaleyraRateLimited):
        client.get_room("room_1")
    assert fake_time.sleeps == [60]  # a second wait of 60 would pass the 100 s budget
    assert len(wire_mock.calls) == 2


def test_background_work_uses_its_own_budget_for_retry_after(wire_mock, client, fake_time):
    wire_mock.get(ROOM_URL, status=429, headers={"Retry-After": "30"})
    wire_mock.get(ROOM_URL, json=ROOM)
    with background_work(max_total_seconds=300):
        client.get_room("room_1")
    assert fake_time.sleeps == [30.0]  # beyond the request budget of 10 s, within 300


def test_background_work_takes_its_budget_from_the_settings(wire_mock, client, settings):
    settings.KALEYRA_BACKGROUND_RETRY_MAX_SECONDS = 59
    wire_mock.get(ROOM_URL, status=429)
    with background_work(), pytest.raises(KaleyraRateLimited):
        client.get_room("room_1")
    assert len(wire_mock.calls) == 1


def test_background_work_ends_with_its_block(wire_mock, client):
    with background_work(max_total_seconds=300):
        pass
    wire_mock.get(ROOM_URL, status=429)
    with pytest.raises(KaleyraRateLimited):
        client.get_room("room_1")
    assert len(wire_mock.calls) == 1


def test_background_work_does_not_make_room_creation_repeatable(wire_mock, client):
    wire_mock.post(f"{BASE_URL}/v2/rooms", status=429)
    with background_work(max_total_seconds=300), pytest.raises(KaleyraRateLimited):
        client.create_room(participants=[], duration=None, live=True)
    assert len(wire_mock.calls) == 1


@pytest.fixture(params=["simulator", "simulator_http"])
def backend(request):
    return request.getfixturevalue(request.param)


def test_the_simulator_can_rate_limit_without_retry_after(backend):
    backend.fail_next("get_company", mode="429", retry_after=None)
    with pytest.raises(KaleyraRateLimited) as caught:
        get_video_provider().get_company()
    assert caught.value.retry_after is None
    assert backend.call_count("get_company") == 1


def test_the_simulator_without_retry_after_is_waited_out_in_background_work(backend):
    waits = []
    backend.fail_next("get_company", mode="429", retry_after=None)
    with background_work(max_total_seconds=300, sleep=waits.append):
        assert get_video_provider().get_company().name == "Simulated company"
    assert waits == [60]
    assert backend.call_count("get_company") == 2
