"""Webhook signatures (`bandyer-signature`) and envelopes: the docs' vector, every refusal, and
the key and tolerance read from the settings."""

import json
from datetime import UTC, datetime

import pytest

from kaleyra.webhooks import (
    WebhookEnvelope,
    WebhookPayloadError,
    WebhookSignatureError,
    configured_key,
    configured_tolerance,
    parse_envelope,
    sign,
    verify,
)

DOCS_KEY = "ak_live_123456"
DOCS_BODY = '{"event":"test"}'
DOCS_T = 1554193902
DOCS_DIGEST = "6841e55cb12f2d9d1216c47097c75fd737a22a3a00c8d8f8d3d35fb2b613ce5b"
KEY = "ak_live_abc"
NOW = 1_718_000_000.0
SAMPLE = {
    "event": "on_room_deleted",
    "event_version": "1.0",
    "namespace": "room",
    "timestamp": 1624605171921,
    "data": {
        "room_id": "room_5beecf8c0f29",
        "deleted_links": [{"user_id": "user_1", "link": "https://sandbox.bandyer.com/x"}],
    },
}
BODY = json.dumps(SAMPLE).encode()


def test_sign_matches_the_docs_vector():
    assert sign(DOCS_KEY, DOCS_T, DOCS_BODY) == f"t={DOCS_T},v0={DOCS_DIGEST}"


def test_verify_accepts_the_docs_vector_at_its_time():
    header = f"t={DOCS_T},v0={DOCS_DIGEST}"
    envelope = verify(header, DOCS_BODY.encode(), key=DOCS_KEY, now=DOCS_T + 5, tolerance=300)
    assert envelope.event == "test"


def test_verify_returns_the_parsed_envelope():
    header = sign(KEY, int(NOW), BODY)
    envelope = verify(header, BODY, key=KEY, now=NOW, tolerance=300)
    assert envelope == WebhookEnvelope(
        event="on_room_deleted",
        event_version="1.0",
        namespace="room",
        timestamp=datetime(2021, 6, 25, 7, 12, 51, 921000, tzinfo=UTC),
        data=SAMPLE["data"],
    )


def test_a_timestamp_in_milliseconds_is_understood():
    t_ms = int(NOW * 1000)
    assert verify(sign(KEY, t_ms, BODY), BODY, key=KEY, now=NOW + 1, tolerance=300).event


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_signature_outside_the_tolerance_is_refused(offset):
    header = sign(KEY, int(NOW) + offset, BODY)
    with pytest.raises(WebhookSignatureError, match="tolerance"):
        verify(header, BODY, key=KEY, now=NOW, tolerance=300)


@pytest.mark.parametrize("offset", [-300, 300])
def test_a_signature_at_the_edge_of_the_tolerance_is_accepted(offset):
    header = sign(KEY, int(NOW) + offset, BODY)
    assert verify(header, BODY, key=KEY, now=NOW, tolerance=300).event == "on_room_deleted"


def test_a_changed_body_is_refused():
    header = sign(KEY, int(NOW), BODY)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify(header, BODY.replace(b"room_5", b"room_6"), key=KEY, now=NOW, tolerance=300)


def test_another_key_is_refused():
    header = sign("ak_live_other", int(NOW), BODY)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify(header, BODY, key=KEY, now=NOW, tolerance=300)


def test_the_timestamp_is_part_of_what_is_signed():
    digest = sign(KEY, int(NOW), BODY).split("v0=")[1]
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify(f"t={int(NOW) + 1},v0={digest}", BODY, key=KEY, now=NOW, tolerance=300)


def test_one_matching_signature_among_several_is_enough():
    good = sign(KEY, int(NOW), BODY).split("v0=")[1]
    header = f"t={int(NOW)},v0={'0' * 64},v0={good}"
    assert verify(header, BODY, key=KEY, now=NOW, tolerance=300).event == "on_room_deleted"


def test_an_upper_case_digest_is_accepted():
    t, digest = sign(KEY, int(NOW), BODY).split(",v0=")
    assert verify(f"{t},v0={digest.upper()}", BODY, key=KEY, now=NOW, tolerance=300).event


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("garbage", "malformed"),
        (f"v0={DOCS_DIGEST}", "timestamp"),
        (f"t=abc,v0={DOCS_DIGEST}", "timestamp"),
        (f"t=-1,v0={DOCS_DIGEST}", "timestamp"),
        (f"t={'9' * 40},v0={DOCS_DIGEST}", "timestamp"),
        (f"t={int(NOW)}", "no v0"),
        (f"t={int(NOW)},v1={DOCS_DIGEST}", "no v0"),
    ],
)
def test_a_malformed_header_is_refused_with_a_reason(header, reason):
    with pytest.raises(WebhookSignatureError) as caught:
        verify(header, BODY, key=KEY, now=NOW, tolerance=300)
    assert reason in caught.value.reason


def test_without_a_key_nothing_is_accepted():
    header = sign("", int(NOW), BODY)
    with pytest.raises(WebhookSignatureError, match="no webhook key"):
        verify(header, BODY, key="", now=NOW, tolerance=300)


def test_a_signed_body_that_is_not_an_envelope_is_a_payload_error():
    body = b'{"no_event": true}'
    with pytest.raises(WebhookPayloadError, match="event is missing"):
        verify(sign(KEY, int(NOW), body), body, key=KEY, now=NOW, tolerance=300)


def test_data_given_as_a_json_string_is_decoded():
    body = json.dumps({**SAMPLE, "data": json.dumps(SAMPLE["data"])})
    assert parse_envelope(body).data == SAMPLE["data"]


def test_an_envelope_without_data_has_empty_data():
    envelope = parse_envelope(b'{"event":"on_call_incoming"}')
    assert (envelope.data, envelope.timestamp, envelope.namespace) == ({}, None, None)


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (1624605171, datetime(2021, 6, 25, 7, 12, 51, tzinfo=UTC)),
        (1624605171921, datetime(2021, 6, 25, 7, 12, 51, 921000, tzinfo=UTC)),
        ("2021-06-25T07:12:51Z", datetime(2021, 6, 25, 7, 12, 51, tzinfo=UTC)),
        ("2021-06-25T07:12:51", datetime(2021, 6, 25, 7, 12, 51, tzinfo=UTC)),
    ],
)
def test_timestamps_in_seconds_milliseconds_or_iso_are_read(timestamp, expected):
    assert parse_envelope(json.dumps({"event": "e", "timestamp": timestamp})).timestamp == expected


def test_a_numeric_event_version_is_kept_as_text():
    assert parse_envelope(b'{"event":"e","event_version":2}').event_version == "2"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"event": 1}',
        b'{"event": "e", "data": "not json"}',
        b'{"event": "e", "data": [1]}',
        b'{"event": "e", "timestamp": "yesterday"}',
        b'{"event": "e", "timestamp": true}',
        b'{"event": "e", "timestamp": 1e300}',
        b'{"event": "e", "namespace": {}}',
    ],
)
def test_bodies_that_are_not_envelopes_are_refused(body):
    with pytest.raises(WebhookPayloadError):
        parse_envelope(body)


def test_the_key_is_the_webhook_key_then_the_api_key(settings):
    settings.KALEYRA_WEBHOOK_KEY = "whk"
    settings.BANDYER_API_SECRET_KEY = "ak"
    assert configured_key() == "whk"
    settings.KALEYRA_WEBHOOK_KEY = ""
    assert configured_key() == "ak"


def test_the_in_process_simulator_without_keys_signs_with_its_own(settings):
    settings.KALEYRA_WEBHOOK_KEY = ""
    settings.BANDYER_API_SECRET_KEY = ""
    settings.KALEYRA_BACKEND = "simulator"
    assert configured_key() == "simulator-key"
    settings.KALEYRA_BACKEND = "http"
    assert configured_key() == ""


def test_the_tolerance_defaults_to_five_minutes(settings):
    assert configured_tolerance() == 300.0
    settings.KALEYRA_WEBHOOK_TOLERANCE_SECONDS = 60
    assert configured_tolerance() == 60
