"""What the service does with the events Kaleyra posts (`POST /webhooks/kaleyra`): each is stored
first, once (a replay of the same event, room and timestamp is acknowledged and left alone), then
handled. Handlers only write to storage, never call Kaleyra, so the answer goes back at once.

`on_room_deleted`: a live visit whose room Kaleyra deleted (expiry, its dashboard) loses the room
id and its links, so the next write or `reconcile_rooms` gives it a new room. Every other event,
`on_recording_available` (the visit's recordings: `rooms.services.recordings`), `on_call_incoming`,
`on_message_sent` and any unknown one, is only stored.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from kaleyra.webhooks import WebhookEnvelope, WebhookPayloadError
from rooms.domain import Teleconsultation, WebhookEvent, Write
from rooms.selectors import room_details
from rooms.services import audit
from rooms.storage import get_storage

logger = logging.getLogger("teleconsultation.webhooks")

ROOM_DELETED = "on_room_deleted"
RECORDING_AVAILABLE = "on_recording_available"
ACTOR = "kaleyra"  # who wrote, in the record and the audit trail
MAX_TEXT = 255  # the stored columns' size


@dataclass(frozen=True)
class Receipt:
    event: str
    duplicate: bool  # seen before: acknowledged, not handled again


def receive(envelope: WebhookEnvelope, *, now: datetime) -> Receipt:
    """Stores the event, linked to the visit holding its room (trashed ones too), and handles it
    unless it is a replay. WebhookPayloadError when a field cannot be stored."""
    storage = get_storage()
    event = webhook_event(envelope, received_at=now)
    visit = storage.find_by_room(event.room_id, include_trash=True) if event.room_id else None
    if visit is not None:
        event = replace(event, teleconsultation_id=visit.id)
    if not storage.record_webhook_event(event):
        logger.info("Kaleyra webhook %s for room %s seen before", event.event, event.room_id or "-")
        return Receipt(event.event, duplicate=True)
    handler = HANDLERS.get(event.event)
    if handler is not None:
        try:
            handler(event, visit, now)
        except BaseException:
            # Unhandled, so not seen: Kaleyra's retry (it gets no 200) must be handled.
            storage.forget_webhook_event(event)
            raise
    logger.info(
        "Kaleyra webhook %s for room %s stored",
        event.event,
        event.room_id or "-",
        extra={"teleconsultation": event.teleconsultation_id or None},
    )
    return Receipt(event.event, duplicate=False)


def webhook_event(envelope: WebhookEnvelope, *, received_at: datetime) -> WebhookEvent:
    """The envelope as stored; without a timestamp it is dated when it came."""
    moment = envelope.timestamp or received_at
    try:
        moment = moment.astimezone(UTC)
    except OverflowError as exc:
        raise WebhookPayloadError("timestamp is out of range") from exc
    return WebhookEvent(
        event=_text(envelope.event, "event"),
        room_id=_text(_room_id(envelope.data), "data.room_id"),
        timestamp=moment,
        data=envelope.data,
        event_version=_text(envelope.event_version or "", "event_version"),
        namespace=_text(envelope.namespace or "", "namespace"),
        received_at=received_at,
    )


def _room_id(data: Mapping[str, Any]) -> str:
    value = data.get("room_id")
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise WebhookPayloadError("data.room_id is not a string")
    return value


def _text(value: str, name: str) -> str:
    if len(value) > MAX_TEXT or not value.isprintable():
        raise WebhookPayloadError(f"{name} is longer than {MAX_TEXT} characters or not printable")
    return value


def _room_deleted(event: WebhookEvent, visit: Teleconsultation | None, now: datetime) -> None:
    """A live visit not over yet loses the room and its links; an ended or trashed one keeps its
    record as it is (the event stays linked to it)."""
    if visit is None:
        return

    def change(fresh: Teleconsultation | None) -> Write:
        # `fresh` is None when trashed; it may have been given another room since it was read.
        if fresh is None or fresh.end <= now or fresh.kaleyra_room_id != event.room_id:
            return Write(None)
        return Write(replace(fresh, kaleyra_room_id=None).with_links({}))

    _, after = get_storage().update(visit.id, change, actor=ACTOR)
    room_details.forget(event.room_id)
    if after is None:
        return
    audit.record(
        audit.ROOM_LOST,
        actor=ACTOR,
        teleconsultation_id=visit.id,
        outcome="done",
        detail={"room_id": event.room_id},
    )
    logger.info(
        "Teleconsultation %s lost room %s on Kaleyra's side; it needs a new one",
        visit.id,
        event.room_id,
        extra={"teleconsultation": visit.id},
    )


# The event as stored, the visit holding its room (None: none), and now.
Handler = Callable[[WebhookEvent, Teleconsultation | None, datetime], None]
HANDLERS: dict[str, Handler] = {ROOM_DELETED: _room_deleted}
