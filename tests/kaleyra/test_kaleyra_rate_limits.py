"""429s: Kaleyra did not do what was asked, so every call may be repeated after one. On a
request path a 429 is repeated once, when its Retry-After fits the budget, else handed back at
once; background work waits out a 429 that names no time (Kaleyra's own clients wait 60 s)."""

import pytest

from common.http.deadline import request_deadline
from kaleyra.errors import DEFAULT_RATE_LIMIT_WAIT, KaleyraRateLimited, KaleyraServerError
from kaleyra.provider import get_video_provider
from kaleyra.retry import background_work
from kaleyra.types import ParticipantSpec, Role
from tests.kaleyra.support import BASE_URL

ROOM_URL = f"{BASE_URL}/v2/rooms/room_1"
ROOM = {"id": "room_1", "participants": []}
PARTICIPANTS = [ParticipantSpec("u1", True, {}), ParticipantSpec("u2", False, {})]

# The calls that are never repeated after a lost answer, each with its route and an answer.
CREATIONS = {
    "create_room": (
        f"{BASE_URL}/v2/rooms",
        ROOM,
        lambda client: client.create_room(participants=PARTICIPANTS, duration=None, live=None),
    ),
    "create_sdk_credentials": (
        f"{BASE_URL}/v2/sdk/credentials",
        {"access_token": "t", "expires_at": "2026-12-01T09:00:00.000Z", "user_id": "u1"},
        lambda client: client.create_sdk_credentials(user_id="u1", expires_in=3600),
    ),
    "upload_background": (
        f"{BASE_URL}/v2/company/virtual-background",
        {"background_alias": "bg", "url": "https://static.example/bg.jpeg"},
        lambda client: client.upload_background(
            filename="bg.jpg", content=b"\xff\xd8\xff", content_type="image/jpeg"
        ),
    ),
    "register_webhook": (
        f"{BASE_URL}/v2/webhooks",
        {"id": "wh_1"},
        lambda client: client.register_webhook(url="https://hooks.example/k", events=["e"]),
    ),
    "create_user": (
        f"{BASE_URL}/v2/users",
        {"id": "tc-1", "role": "plus"},
        lambda client: client.create_user(user_id="tc-1", role=Role.PLUS),
    ),
}


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


def sent(call) -> bytes:
    """The body of a call, without the multipart boundary that differs on every send."""
    body = call.request.body
    body = body.encode() if isinstance(body, str) else body
    boundary = call.request.headers["Content-Type"].partition("boundary=")[2]
    return body.replace(boundary.encode(), b"") if boundary else body


@pytest.mark.parametrize("operation", CREATIONS)
def test_every_call_is_repeated_once_after_a_429_whose_retry_after_fits(
    wire_mock, client, fake_time, operation
):
    url, answer, call = CREATIONS[operation]
    wire_mock.post(url, status=429, headers={"Retry-After": "2"})
    wire_mock.post(url, json=answer, status=201)
    assert call(client) is not None
    assert [c.request.url for c in wire_mock.calls] == [url, url]
    assert sent(wire_mock.calls[0]) == sent(wire_mock.calls[1])  # the same request again
    assert fake_time.sleeps == [2.0]


@pytest.mark.parametrize("operation", CREATIONS)
def test_a_request_repeats_a_429_only_once(wire_mock, client, fake_time, operation):
    url, _, call = CREATIONS[operation]
    wire_mock.post(url, status=429, headers={"Retry-After": "2"})
    wire_mock.post(url, status=429, headers={"Retry-After": "3"})
    with pytest.raises(KaleyraRateLimited) as caught:
        call(client)
    assert caught.value.retry_after == 3.0  # the caller relays Kaleyra's latest wait
    assert len(wire_mock.calls) == 2
    assert fake_time.sleeps == [2.0]


def test_a_call_safe_to_repeat_also_waits_for_one_429_only_on_a_request(
    wire_mock, client, fake_time
):
    wire_mock.get(ROOM_URL, status=429, headers={"Retry-After": "1"})
    with pytest.raises(KaleyraRateLimited):
        client.get_room("room_1")
    assert len(wire_mock.calls) == 2
    assert fake_time.sleeps == [1.0]


def test_room_creation_is_not_repeated_when_retry_after_does_not_fit_the_budget(
    wire_mock, client, fake_time
):
    wire_mock.post(f"{BASE_URL}/v2/rooms", status=429, headers={"Retry-After": "11"})
    with pytest.raises(KaleyraRateLimited) as caught:
        client.create_room(participants=PARTICIPANTS, duration=None, live=None)
    assert caught.value.retry_after == 11.0
    assert len(wire_mock.calls) == 1
    assert fake_time.sleeps == []


def test_room_creation_is_not_repeated_when_retry_after_ends_past_the_deadline(
    wire_mock, client, fake_time
):
    wire_mock.post(f"{BASE_URL}/v2/rooms", status=429, headers={"Retry-After": "2"})
    with request_deadline(1.5, clock=fake_time.clock), pytest.raises(KaleyraRateLimited):
        client.create_room(participants=PARTICIPANTS, duration=None, live=None)
    assert len(wire_mock.calls) == 1
    assert fake_time.sleeps == []


def test_room_creation_is_still_never_repeated_after_a_server_error_in_background_work(
    wire_mock, client
):
    wire_mock.post(f"{BASE_URL}/v2/rooms", status=503)
    with background_work(max_total_seconds=300), pytest.raises(KaleyraServerError):
        client.create_room(participants=PARTICIPANTS, duration=None, live=None)
    assert len(wire_mock.calls) == 1


def test_background_work_waits_out_429s_on_room_creation(wire_mock, client, fake_time):
    wire_mock.post(f"{BASE_URL}/v2/rooms", status=429)
    wire_mock.post(f"{BASE_URL}/v2/rooms", status=429, headers={"Retry-After": "5"})
    wire_mock.post(f"{BASE_URL}/v2/rooms", json=ROOM, status=201)
    with background_work(max_total_seconds=300):
        assert client.create_room(participants=PARTICIPANTS, duration=None, live=None).id
    assert len(wire_mock.calls) == 3
    assert fake_time.sleeps == [60, 5.0]


def test_a_health_check_is_not_repeated_even_after_a_429(wire_mock, client, fake_time):
    wire_mock.get(f"{BASE_URL}/v2/company", status=429, headers={"Retry-After": "1"})
    with pytest.raises(KaleyraRateLimited):
        client.ping()
    assert len(wire_mock.calls) == 1
    assert fake_time.sleeps == []


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
