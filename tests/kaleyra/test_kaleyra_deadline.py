"""The request deadline: attempts get only the time left, nothing is sent once it has passed, and
retries never wait past it; the default settings leave room to retry one timeout."""

import json
from unittest import mock

import pytest
import requests

from common.http import deadline
from common.http.deadline import request_deadline
from kaleyra.client import KaleyraClient
from kaleyra.errors import KaleyraDeadlineExceeded, KaleyraServerError, KaleyraTimeout
from kaleyra.provider import get_video_provider
from kaleyra.retry import Retrier, RetryPolicy
from teleconsultation_project.middleware import RequestDeadlineMiddleware
from tests.kaleyra.support import API_KEY, BASE_URL, FakeTime

ROOM_URL = f"{BASE_URL}/v2/rooms/room_1"
ROOM = {"id": "room_1", "participants": []}


def timeouts_sent(wire_mock) -> list[tuple[float, float]]:
    return [call.request.req_kwargs["timeout"] for call in wire_mock.calls]


def test_each_attempt_gets_at_most_the_time_left(wire_mock, client, fake_time):
    wire_mock.get(ROOM_URL, json=ROOM)
    with request_deadline(5.0, clock=fake_time.clock):
        client.get_room("room_1")
        fake_time.now += 3.0
        client.get_room("room_1")
    assert timeouts_sent(wire_mock) == [(3.05, 5.0), (2.0, 2.0)]


def test_without_a_deadline_the_configured_timeouts_apply(wire_mock, client):
    wire_mock.get(ROOM_URL, json=ROOM)
    client.get_room("room_1")
    assert timeouts_sent(wire_mock) == [(3.05, 10.0)]


def test_once_the_deadline_has_passed_nothing_is_sent(wire_mock, client, fake_time):
    with request_deadline(1.0, clock=fake_time.clock):
        fake_time.now += 1.0
        with pytest.raises(KaleyraDeadlineExceeded) as caught:
            client.get_room("room_1")
    assert isinstance(caught.value, KaleyraTimeout)  # callers that map timeouts need no change
    assert caught.value.operation == "get_room"
    assert len(wire_mock.calls) == 0
    assert fake_time.sleeps == []


def test_retries_never_wait_past_the_deadline(wire_mock, client, fake_time):
    wire_mock.get(ROOM_URL, status=503)
    with request_deadline(1.2, clock=fake_time.clock), pytest.raises(KaleyraServerError):
        client.get_room("room_1")
    # Waits would be 0.5, 1.0, 2.0: after the first, 0.7 s are left, less than the next wait.
    assert fake_time.sleeps == [0.5]
    assert len(wire_mock.calls) == 2


def test_a_nested_deadline_can_shorten_but_not_extend(fake_time):
    with request_deadline(10.0, clock=fake_time.clock):
        with request_deadline(60.0, clock=fake_time.clock):
            assert deadline.time_left() == 10.0
        with request_deadline(2.0, clock=fake_time.clock):
            assert deadline.time_left() == 2.0
        assert deadline.time_left() == 10.0
    assert deadline.time_left() is None


def client_with_the_default_settings(fake_time: FakeTime) -> KaleyraClient:
    from django.conf import settings

    return KaleyraClient(
        base_url=BASE_URL,
        api_key=API_KEY,
        connect_timeout=settings.KALEYRA_CONNECT_TIMEOUT,
        read_timeout=settings.KALEYRA_READ_TIMEOUT,
        retrier=Retrier(
            RetryPolicy.from_settings(),
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            rand=lambda low, high: high,
        ),
    )


def test_with_the_default_settings_one_timeout_on_get_room_is_retried_and_succeeds(
    wire_mock, settings
):
    fake_time = FakeTime()
    client = client_with_the_default_settings(fake_time)
    answers = iter([requests.ReadTimeout("slow"), (200, {}, json.dumps(ROOM))])

    def answer(request):
        outcome = next(answers)
        if isinstance(outcome, Exception):
            fake_time.now += request.req_kwargs["timeout"][1]  # it took the whole read timeout
            raise outcome
        return outcome

    wire_mock.add_callback("GET", ROOM_URL, callback=answer)
    deadline_seconds = settings.KALEYRA_REQUEST_DEADLINE_SECONDS
    with request_deadline(deadline_seconds, clock=fake_time.clock):
        assert client.get_room("room_1").id == "room_1"
    assert len(wire_mock.calls) == 2
    assert fake_time.now - 1000.0 < deadline_seconds


def test_the_middleware_opens_a_deadline_of_the_configured_length(settings):
    settings.KALEYRA_REQUEST_DEADLINE_SECONDS = 7.0
    seen = []
    middleware = RequestDeadlineMiddleware(lambda request: seen.append(deadline.time_left()))
    with mock.patch("common.http.deadline.time.monotonic", return_value=500.0):
        middleware(object())
    assert seen == [7.0]
    assert deadline.time_left() is None  # closed with the request


def test_the_in_process_simulator_sends_nothing_after_the_deadline(simulator, fake_time):
    with request_deadline(0.0, clock=fake_time.clock), pytest.raises(KaleyraDeadlineExceeded):
        get_video_provider().get_company()
    assert simulator.call_count() == 0


def test_the_simulator_over_http_sends_nothing_after_the_deadline(simulator_http, fake_time):
    with request_deadline(0.0, clock=fake_time.clock), pytest.raises(KaleyraDeadlineExceeded):
        get_video_provider().get_company()
    assert simulator_http.call_count() == 0
