"""Retries: only for calls safe to repeat, on transient failures, bounded in number and time."""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from kaleyra.errors import (
    KaleyraBadRequest,
    KaleyraServerError,
    KaleyraTimeout,
    KaleyraUnavailable,
)
from kaleyra.retry import Retrier, RetryPolicy
from kaleyra.types import ParticipantSpec, Role
from tests.kaleyra.support import BASE_URL, FakeTime

ROOM_URL = f"{BASE_URL}/v2/rooms/room_1"
ROOM = {"id": "room_1", "participants": []}
PARTICIPANTS = [ParticipantSpec("u1", True, {}), ParticipantSpec("u2", False, {})]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_get_room_is_retried_on_gateway_errors_then_succeeds(wire_mock, client, fake_time, status):
    wire_mock.get(ROOM_URL, status=status)
    wire_mock.get(ROOM_URL, json=ROOM)
    assert client.get_room("room_1").id == "room_1"
    assert len(wire_mock.calls) == 2
    assert len(fake_time.sleeps) == 1


def test_a_500_is_not_retried(wire_mock, client):
    wire_mock.get(ROOM_URL, status=500)
    with pytest.raises(KaleyraServerError):
        client.get_room("room_1")
    assert len(wire_mock.calls) == 1


def test_a_4xx_is_not_retried(wire_mock, client):
    wire_mock.get(ROOM_URL, status=400)
    with pytest.raises(KaleyraBadRequest):
        client.get_room("room_1")
    assert len(wire_mock.calls) == 1


def test_retries_stop_after_max_retries(wire_mock, client, fake_time):
    wire_mock.get(ROOM_URL, status=503)
    with pytest.raises(KaleyraServerError):
        client.get_room("room_1")
    assert len(wire_mock.calls) == 4  # the first attempt and KALEYRA_MAX_RETRIES=3 retries
    assert len(fake_time.sleeps) == 3


def test_backoff_doubles_and_the_jitter_stays_within_zero_and_the_ceiling(
    wire_mock, client_factory
):
    asked = []

    def rand(low, high):
        asked.append((low, high))
        return high / 2

    fake = FakeTime()
    client = client_factory(rand=rand)
    client._retrier = Retrier(client._retrier.policy, sleep=fake.sleep, clock=fake.clock, rand=rand)
    wire_mock.get(ROOM_URL, status=503)
    with pytest.raises(KaleyraServerError):
        client.get_room("room_1")
    assert asked == [(0.0, 0.5), (0.0, 1.0), (0.0, 2.0)]
    assert fake.sleeps == [0.25, 0.5, 1.0]


def test_real_jitter_is_random_within_bounds():
    fake = FakeTime()
    retrier = Retrier(RetryPolicy(5, 0.5, 100.0), sleep=fake.sleep, clock=fake.clock)
    failure = KaleyraUnavailable("down", operation="get_room")

    def attempt():
        raise failure

    with pytest.raises(KaleyraUnavailable):
        retrier.call(attempt, operation="get_room")
    assert len(fake.sleeps) == 5  # the bounds below are checked on every one of the waits
    for number, slept in enumerate(fake.sleeps):
        assert 0.0 <= slept <= 0.5 * 2**number


def test_the_time_budget_caps_the_last_wait_and_stops_retrying(
    wire_mock, client_factory, fake_time
):
    client = client_factory(max_retries=10, backoff=1.0, budget=2.5)
    wire_mock.get(ROOM_URL, status=503)
    with pytest.raises(KaleyraServerError):
        client.get_room("room_1")
    assert fake_time.sleeps == [1.0, 1.5]  # 1.0, then 2.0 capped by the 1.5 s left
    assert sum(fake_time.sleeps) <= 2.5


def test_retry_after_is_honoured(wire_mock, client, fake_time):
    wire_mock.get(ROOM_URL, status=429, headers={"Retry-After": "2"})
    wire_mock.get(ROOM_URL, json=ROOM)
    client.get_room("room_1")
    assert fake_time.sleeps == [2.0]


@pytest.mark.parametrize(
    "failure", [requests.ConnectionError("reset"), requests.ReadTimeout("slow")]
)
def test_safe_calls_are_retried_after_connection_errors_and_timeouts(wire_mock, client, failure):
    wire_mock.delete(ROOM_URL, body=failure)
    wire_mock.delete(ROOM_URL, status=204)
    client.delete_room("room_1")
    assert len(wire_mock.calls) == 2


@pytest.mark.parametrize("status", [502, 503, 504])
def test_room_creation_is_never_retried_after_a_server_error(wire_mock, client, status):
    # The room may have been made before the gateway failed: a repeat could make a second one.
    wire_mock.post(f"{BASE_URL}/v2/rooms", status=status)
    with pytest.raises(KaleyraServerError):
        client.create_room(participants=PARTICIPANTS, duration=None, live=True)
    assert len(wire_mock.calls) == 1


def test_room_creation_is_never_retried_on_timeout(wire_mock, client):
    wire_mock.post(f"{BASE_URL}/v2/rooms", body=requests.ReadTimeout("slow"))
    with pytest.raises(KaleyraTimeout):
        client.create_room(participants=PARTICIPANTS, duration=None, live=True)
    assert len(wire_mock.calls) == 1


def test_credential_creation_is_never_retried(wire_mock, client):
    wire_mock.post(f"{BASE_URL}/v2/sdk/credentials", status=503)
    with pytest.raises(KaleyraServerError):
        client.create_sdk_credentials(user_id="u1", expires_in=3600)
    assert len(wire_mock.calls) == 1


def test_background_upload_is_never_retried(wire_mock, client):
    wire_mock.post(f"{BASE_URL}/v2/company/virtual-background", body=requests.ConnectionError("x"))
    with pytest.raises(KaleyraUnavailable):
        client.upload_background(
            filename="a.jpg", content=b"\xff\xd8\xff", content_type="image/jpeg"
        )
    assert len(wire_mock.calls) == 1


def test_user_creation_is_retried_and_a_conflict_after_a_lost_answer_is_success(wire_mock, client):
    wire_mock.post(f"{BASE_URL}/v2/users", body=requests.ReadTimeout("answer lost"))
    wire_mock.post(f"{BASE_URL}/v2/users", status=409)
    wire_mock.get(f"{BASE_URL}/v2/users/tc-1", json={"id": "tc-1", "role": "plus"})
    assert client.create_user(user_id="tc-1", role=Role.PLUS).id == "tc-1"


def test_each_retry_is_logged_without_the_key(wire_mock, client, caplog):
    wire_mock.get(ROOM_URL, status=503)
    wire_mock.get(ROOM_URL, json=ROOM)
    with caplog.at_level("WARNING", logger="kaleyra"):
        client.get_room("room_1")
    assert "retry 1/3" in caplog.text
    assert "get_room" in caplog.text
    assert client._session.headers["apikey"] not in caplog.text


def test_every_call_passes_the_connect_and_read_timeouts(wire_mock, client):
    wire_mock.delete(ROOM_URL, status=204)
    client.delete_room("room_1")
    assert wire_mock.calls[0].request.req_kwargs["timeout"] == (3.05, 10.0)


@contextmanager
def slow_server(delay):
    """A local server that answers after `delay` seconds; released when the block ends."""
    release = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            release.wait(delay)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_a_real_slow_answer_raises_timeout(client_factory, fake_time):
    with slow_server(delay=2.0) as base_url:
        client = client_factory(base_url=base_url, read_timeout=0.1, max_retries=1)
        with pytest.raises(KaleyraTimeout):
            client.get_room("room_1")
    assert len(fake_time.sleeps) == 1  # one retry after the first timeout, which timed out too
