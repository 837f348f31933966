"""Kaleyra's events for a visit on its admin page: the webhook events stored against it
(`rooms.services.webhook_events`), newest first, read through storage as the audit trail is. The
whole list, with filters, is the "Kaleyra webhook events" page."""

import json

from django.utils import timezone

from rooms.storage import get_storage

SHOWN = 50  # a visit's latest events; the events page has them all
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S %Z"


def rows(object_id: str) -> tuple[list[dict], bool]:
    """The panel's rows, newest first, and whether older events were left out."""
    events = get_storage().webhook_events(
        teleconsultation_id=object_id, limit=SHOWN + 1, newest_first=True
    )
    shown = [
        {
            "time": timezone.localtime(event.timestamp).strftime(LOCAL_FORMAT),
            "event": event.event,
            "room_id": event.room_id,
            "data": json.dumps(dict(event.data), sort_keys=True),
        }
        for event in events[:SHOWN]
    ]
    return shown, len(events) > SHOWN
