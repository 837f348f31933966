"""Every attempt to call Kaleyra is counted by operation and outcome, and timed by operation."""

import pytest
import requests
from prometheus_client import REGISTRY

from common.http.deadline import request_deadline
from kaleyra.errors import (
    KaleyraDeadlineExceeded,
    KaleyraError,
    KaleyraNotFound,
    KaleyraRateLimited,
)
from kaleyra.provider import get_video_provider
from tests.kaleyra.support import BASE_URL

ROOM_URL = f"{BASE_URL}/v2/rooms/room_1"
ROOM = {"id": "room_1", "participants": []}


def calls(operation: str, outcome: str) -> float:
    labels = {"service": "kaleyra", "operation": operation, "outcome": outcome}
    return REGISTRY.get_sample_value("outbound_requests_total", labels) or 0.0


def timings(operation: str) -> float:
    labels = {"service": "kaleyra", "operation": operation}
    return REGISTRY.get_sample_value("outbound_request_duration_seconds_count", labels) or 0.0


class Counts:
    """The counters' change since it was made, so tests need not reset a global registry."""

    def __init__(self, *keys: tuple[str, str]):
        self.before = {key: calls(*key) for key in keys}

    def delta(self) -> dict[tuple[str, str], float]:
        return {key: calls(*key) - value for key, value in self.before.items()}


def test_each_attempt_is_counted_with_its_outcome(wire_mock, client):
    counts = Counts(("get_room", "server_error"), ("get_room", "ok"))
    timed = timings("get_room")
    wire_mock.get(ROOM_URL, status=503)
    wire_mock.get(ROOM_URL, json=ROOM)
    client.get_room("room_1")
    assert counts.delta() == {("get_room", "server_error"): 1, ("get_room", "ok"): 1}
    assert timings("get_room") - timed == 2


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        ({"status": 404}, "not_found"),
        ({"status": 429}, "rate_limited"),
        ({"status": 400}, "bad_request"),
        ({"status": 401}, "auth_error"),
        ({"status": 500}, "server_error"),
        ({"body": "not json"}, "bad_response"),
        ({"body": requests.ReadTimeout("slow")}, "timeout"),
        ({"body": requests.ConnectionError("reset")}, "unavailable"),
    ],
)
def test_each_failure_has_its_outcome(wire_mock, client_factory, answer, outcome):
    counts = Counts(("get_room", outcome))
    wire_mock.get(ROOM_URL, **answer)
    with pytest.raises(KaleyraError):
        client_factory(max_retries=0).get_room("room_1")
    assert counts.delta() == {("get_room", outcome): 1}


def test_a_call_not_sent_after_the_deadline_is_counted_but_not_timed(wire_mock, client, fake_time):
    counts = Counts(("get_room", "deadline_exceeded"))
    timed = timings("get_room")
    with request_deadline(0.0, clock=fake_time.clock), pytest.raises(KaleyraDeadlineExceeded):
        client.get_room("room_1")
    assert counts.delta() == {("get_room", "deadline_exceeded"): 1}
    assert timings("get_room") == timed


def test_the_in_process_simulator_counts_its_calls_too(simulator, settings):
    settings.KALEYRA_MAX_RETRIES = 0
    counts = Counts(("get_room", "not_found"), ("get_company", "rate_limited"), ("ping", "ok"))
    provider = get_video_provider()
    with pytest.raises(KaleyraNotFound):
        provider.get_room("room_missing")
    simulator.fail_next("get_company", mode="429", retry_after=None)
    with pytest.raises(KaleyraRateLimited):
        provider.get_company()
    provider.ping()
    assert counts.delta() == {
        ("get_room", "not_found"): 1,
        ("get_company", "rate_limited"): 1,
        ("ping", "ok"): 1,
    }


def test_the_in_process_simulator_counts_a_call_not_sent_after_the_deadline(simulator, fake_time):
    counts = Counts(("get_company", "deadline_exceeded"))
    with request_deadline(0.0, clock=fake_time.clock), pytest.raises(KaleyraDeadlineExceeded):
        get_video_provider().get_company()
    assert counts.delta() == {("get_company", "deadline_exceeded"): 1}
