"""Failures become the KaleyraError tree, with status, a truncated body and never the API key."""

import pytest
import requests

from kaleyra import errors
from kaleyra.errors import (
    KaleyraAuthError,
    KaleyraBadRequest,
    KaleyraBadResponse,
    KaleyraError,
    KaleyraNotFound,
    KaleyraRateLimited,
    KaleyraServerError,
    KaleyraTimeout,
    KaleyraUnavailable,
)
from tests.kaleyra.support import API_KEY, BASE_URL

ROOM_URL = f"{BASE_URL}/v2/rooms/room_1"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, KaleyraBadRequest),
        (401, KaleyraAuthError),
        (403, KaleyraAuthError),
        (404, KaleyraNotFound),
        (405, KaleyraBadRequest),
        (409, KaleyraBadRequest),
        (413, KaleyraBadRequest),
        (422, KaleyraBadRequest),
        (429, KaleyraRateLimited),
        (500, KaleyraServerError),
        (502, KaleyraServerError),
        (503, KaleyraServerError),
        (504, KaleyraServerError),
    ],
)
def test_each_status_maps_to_its_error(wire_mock, client_factory, status, expected):
    wire_mock.get(ROOM_URL, json={"error": "nope"}, status=status)
    with pytest.raises(expected) as caught:
        client_factory(max_retries=0).get_room("room_1")
    assert caught.value.status == status
    assert caught.value.operation == "get_room"
    assert caught.value.body == '{"error": "nope"}'


def test_rate_limited_error_carries_retry_after(wire_mock, client_factory):
    wire_mock.get(ROOM_URL, status=429, headers={"Retry-After": "7"})
    with pytest.raises(KaleyraRateLimited) as caught:
        client_factory(max_retries=0).get_room("room_1")
    assert caught.value.retry_after == 7.0


def test_connection_refused_is_unavailable(wire_mock, client_factory):
    wire_mock.get(ROOM_URL, body=requests.ConnectionError("Connection refused"))
    with pytest.raises(KaleyraUnavailable) as caught:
        client_factory(max_retries=0).get_room("room_1")
    assert caught.value.status is None


def test_read_timeout_is_timeout(wire_mock, client_factory):
    wire_mock.get(ROOM_URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(KaleyraTimeout):
        client_factory(max_retries=0).get_room("room_1")


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"participants": []}',
        '{"id": "room_1"}',
        '{"id": "room_1", "participants": [{"user_id": "u1"}]}',
        '{"id": "room_1", "participants": [], "duration": "long"}',
        '{"id": "room_1", "participants": [], "creation_date": "yesterday"}',
    ],
)
def test_a_2xx_with_an_unusable_body_is_a_bad_response(wire_mock, client, body):
    wire_mock.get(ROOM_URL, body=body, status=200)
    with pytest.raises(KaleyraBadResponse) as caught:
        client.get_room("room_1")
    assert caught.value.status == 200


def test_bad_response_is_not_retried(wire_mock, client, fake_time):
    wire_mock.get(ROOM_URL, body="<html>", status=200)
    with pytest.raises(KaleyraBadResponse):
        client.get_room("room_1")
    assert len(wire_mock.calls) == 1


def test_the_error_body_is_truncated(wire_mock, client_factory):
    wire_mock.get(ROOM_URL, body="x" * 5000, status=400)
    with pytest.raises(KaleyraBadRequest) as caught:
        client_factory(max_retries=0).get_room("room_1")
    assert len(caught.value.body) == errors.BODY_LIMIT


def test_the_api_key_echoed_in_an_error_body_is_redacted(wire_mock, client_factory):
    wire_mock.get(ROOM_URL, body=f'{{"error": "bad key {API_KEY}"}}', status=401)
    with pytest.raises(KaleyraAuthError) as caught:
        client_factory(max_retries=0).get_room("room_1")
    assert API_KEY not in caught.value.body
    assert "[redacted]" in caught.value.body
    assert API_KEY not in str(caught.value)


def test_the_api_key_in_a_transport_error_text_is_redacted(wire_mock, client_factory):
    wire_mock.get(ROOM_URL, body=requests.ConnectionError(f"proxy said apikey={API_KEY}"))
    with pytest.raises(KaleyraUnavailable) as caught:
        client_factory(max_retries=0).get_room("room_1")
    assert API_KEY not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_the_api_key_in_a_bad_response_body_is_redacted(wire_mock, client):
    wire_mock.get(ROOM_URL, body=f"not json {API_KEY}", status=200)
    with pytest.raises(KaleyraBadResponse) as caught:
        client.get_room("room_1")
    assert API_KEY not in caught.value.body + str(caught.value)


def test_every_error_is_a_kaleyra_error():
    for cls in (KaleyraUnavailable, KaleyraTimeout, KaleyraBadResponse, KaleyraServerError):
        assert issubclass(cls, KaleyraError)


def test_build_error_refuses_a_call_without_status_or_transport():
    with pytest.raises(ValueError, match="needs a status"):
        errors.build_error("get_room", secret="")


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), (" 1.5 ", 1.5), ("-2", 0.0), ("Wed, 21 Oct", None), (None, None)],
)
def test_retry_after_is_read_in_seconds(header, seconds):
    assert errors.parse_retry_after(header) == seconds
