"""POST /webhooks/kaleyra: the signature decides (401 without the body in any log), the event is
stored once (a replay is a 200 that changes nothing), and no gateway identity or CSRF is asked."""

import json
import logging
import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from rooms.storage import get_storage
from tests.rooms import kaleyra_events
from tests.rooms.conftest import doctor, patient, stored
from tests.rooms.kaleyra_events import deliver, envelope, post, room_deleted

pytestmark = [pytest.mark.django_db]

# The docs' vector [DOC webhook-signature]: this key over `1554193902.{"event":"test"}`.
DOCS_KEY = "ak_live_123456"
DOCS_T = 1554193902
DOCS_BODY = b'{"event":"test"}'
DOCS_DIGEST = "6841e55cb12f2d9d1216c47097c75fd737a22a3a00c8d8f8d3d35fb2b613ce5b"
SECRET_MARKER = "patient-secret-in-the-body"


def events_of(teleconsultation_id: str) -> list:
    return get_storage().webhook_events(teleconsultation_id=teleconsultation_id)


def assert_error(response, status: int, message: str) -> None:
    assert response.status_code == status
    assert response.json() == {
        "statusCode": status,
        "error": {400: "Bad Request", 401: "Unauthorized", 503: "Service Unavailable"}[status],
        "message": message,
    }


def test_the_docs_signature_vector_is_accepted_through_the_endpoint(settings):
    settings.KALEYRA_WEBHOOK_KEY = DOCS_KEY
    with time_machine.travel(datetime.fromtimestamp(DOCS_T, UTC), tick=False):
        response = post(DOCS_BODY, signature=f"t={DOCS_T},v0={DOCS_DIGEST}")
    assert response.status_code == 200
    assert response.json() == {"event": "test", "duplicate": False}


def test_the_docs_vector_with_one_digit_changed_is_refused(settings):
    settings.KALEYRA_WEBHOOK_KEY = DOCS_KEY
    with time_machine.travel(datetime.fromtimestamp(DOCS_T, UTC), tick=False):
        response = post(DOCS_BODY, signature=f"t={DOCS_T},v0={DOCS_DIGEST[:-1]}a")
    assert_error(response, 401, "Webhook refused: signature does not match the body")


@pytest.mark.parametrize(
    "signature, reason",
    [
        (None, "signature header is missing"),
        ("", "signature header is missing"),
        ("garbled", "malformed signature header"),
        ("t=abc,v0=00", "signature header has no valid timestamp"),
        ("t=1554193902", "signature header has no v0 signature"),
    ],
)
def test_a_missing_or_garbled_signature_is_401_and_the_body_is_never_logged(
    caplog, signature, reason
):
    body = envelope("on_message_sent", {"text": SECRET_MARKER})
    with caplog.at_level(logging.DEBUG):
        response = post(body, signature=signature)
    assert_error(response, 401, f"Webhook refused: {reason}")
    assert any(reason in record.getMessage() for record in caplog.records)
    assert SECRET_MARKER not in caplog.text
    assert all(SECRET_MARKER not in str(record.__dict__) for record in caplog.records)


def test_a_body_changed_after_signing_is_refused_and_not_stored(create, caplog):
    visit = create([doctor(), patient()])
    body = room_deleted(stored(visit).kaleyra_room_id)
    signature = kaleyra_events.sign_now(body)
    tampered = body.replace(b'"deleted_links":[]', f'"deleted_links":["{SECRET_MARKER}"]'.encode())
    with caplog.at_level(logging.DEBUG):
        response = post(tampered, signature=signature)
    assert_error(response, 401, "Webhook refused: signature does not match the body")
    assert SECRET_MARKER not in caplog.text
    assert stored(visit).kaleyra_room_id is not None
    assert events_of(visit) == []


def test_a_signature_made_with_another_key_is_refused(create):
    visit = create([doctor(), patient()])
    body = room_deleted(stored(visit).kaleyra_room_id)
    assert_error(
        deliver(body, key="not-the-key"),
        401,
        "Webhook refused: signature does not match the body",
    )
    assert stored(visit).kaleyra_room_id is not None


def test_the_webhook_key_wins_over_the_api_key(settings):
    settings.BANDYER_API_SECRET_KEY = "ak_api"
    settings.KALEYRA_WEBHOOK_KEY = "wh_key"
    body = envelope("on_call_incoming", {"room_id": "room_1"})
    assert deliver(body, key="ak_api").status_code == 401
    assert deliver(body, key="wh_key").status_code == 200


def test_without_a_webhook_key_the_api_key_signs(settings):
    settings.BANDYER_API_SECRET_KEY = "ak_api"
    settings.KALEYRA_WEBHOOK_KEY = ""
    assert deliver(envelope("on_call_incoming"), key="ak_api").status_code == 200


def test_with_no_key_at_all_every_webhook_is_refused(settings):
    settings.KALEYRA_BACKEND = "http"
    settings.BANDYER_API_SECRET_KEY = ""
    settings.KALEYRA_WEBHOOK_KEY = ""
    response = deliver(envelope("on_call_incoming"), key="anything")
    assert_error(response, 401, "Webhook refused: no webhook key is configured")


@pytest.mark.parametrize("seconds, status", [(-299, 200), (299, 200), (-301, 401), (301, 401)])
def test_the_signature_time_must_be_within_the_tolerance(settings, seconds, status):
    settings.KALEYRA_WEBHOOK_TOLERANCE_SECONDS = 300
    body = envelope("on_call_incoming", {"room_id": "room_1"})
    response = deliver(body, t=int(time.time()) + seconds)
    assert response.status_code == status
    if status == 401:
        assert response.json()["message"] == (
            "Webhook refused: signature timestamp is outside the tolerance"
        )


def test_a_signature_time_in_milliseconds_is_read_as_such():
    body = envelope("on_call_incoming", {"room_id": "room_1"})
    assert deliver(body, t=int(time.time() * 1000)).status_code == 200


def test_a_replay_is_acknowledged_and_not_handled_twice(create, settings):
    visit = create([doctor(), patient()])
    room = stored(visit).kaleyra_room_id
    body = room_deleted(room)
    first = deliver(body)
    assert first.json() == {"event": "on_room_deleted", "duplicate": False}
    # Kaleyra's retry: the same envelope, signed again a little later.
    again = deliver(body, t=int(time.time()) + 5)
    assert again.status_code == 200
    assert again.json() == {"event": "on_room_deleted", "duplicate": True}
    assert [event.room_id for event in events_of(visit)] == [room]


def test_the_same_event_at_another_time_is_a_new_event():
    first = deliver(envelope("on_call_incoming", {"room_id": "room_1"}, timestamp=1000))
    second = deliver(envelope("on_call_incoming", {"room_id": "room_1"}, timestamp=2000))
    assert first.json()["duplicate"] is False
    assert second.json()["duplicate"] is False


def test_data_sent_as_a_json_string_is_read_as_the_object(create):
    visit = create([doctor(), patient()])
    room = stored(visit).kaleyra_room_id
    body = envelope("on_room_deleted", json.dumps({"room_id": room, "deleted_links": []}))
    assert deliver(body).status_code == 200
    assert stored(visit).kaleyra_room_id is None
    (event,) = events_of(visit)
    assert event.data == {"room_id": room, "deleted_links": []}


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"not json", "body is not JSON"),
        (b"[1, 2]", "body is not a JSON object"),
        (b'{"data": {}}', "event is missing"),
        (b'{"event": "on_room_deleted", "data": "{broken"}', "data is a string but not JSON"),
        (
            b'{"event": "on_room_deleted", "data": {"room_id": ["r"]}}',
            "data.room_id is not a string",
        ),
        (
            json.dumps({"event": "e" * 256}).encode(),
            "event is longer than 255 characters or not printable",
        ),
    ],
)
def test_a_signed_body_that_is_no_envelope_is_a_400(body, reason):
    assert_error(deliver(body), 400, f"Invalid webhook: {reason}")


def test_no_gateway_identity_and_no_csrf_token_are_needed(settings):
    body = envelope("on_call_incoming", {"room_id": "room_1"})
    browserless = Client(enforce_csrf_checks=True)
    response = browserless.post(
        kaleyra_events.PATH,
        body,
        content_type="application/json",
        HTTP_BANDYER_SIGNATURE=kaleyra_events.sign_now(body),
    )
    assert response.status_code == 200


def test_a_failure_while_handling_is_a_503_and_kaleyras_retry_is_handled(create, monkeypatch):
    from rooms.storage.base import StorageUnavailable
    from rooms.storage.django import DjangoStorage

    visit = create([doctor(), patient()])
    body = room_deleted(stored(visit).kaleyra_room_id)

    def unavailable(*args, **kwargs):
        raise StorageUnavailable("down")

    with monkeypatch.context() as patched:
        patched.setattr(DjangoStorage, "update", unavailable)
        failed = deliver(body)
    assert_error(failed, 503, "The event could not be stored now; Kaleyra will send it again")
    assert stored(visit).kaleyra_room_id is not None
    retried = deliver(body)
    assert retried.json() == {"event": "on_room_deleted", "duplicate": False}
    assert stored(visit).kaleyra_room_id is None
