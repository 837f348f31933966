"""Simulated webhooks: registrations (`POST /v2/webhooks`, kept in the state file) and the events
the simulator sends through its `WebhookSender` (none when it has no sender)."""

import json
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from kaleyra.simulator import rules
from kaleyra.simulator.rules import bad_request
from kaleyra.simulator.store import Store, timestamp
from kaleyra.simulator.webhook_sender import WebhookSender

ROOM_DELETED = ("on_room_deleted", "room")  # event and namespace of the docs' sample [DOC]
RECORDING_AVAILABLE = ("on_recording_available", "recording")  # namespace UNCLEAR


class WebhookOperations:
    store: Store
    webhooks: WebhookSender | None

    def register_webhook(self, body: Any) -> dict[str, Any]:
        # Reads the names kaleyra.wire sends (UNCLEAR upstream, see wire.WEBHOOKS_PATH).
        body = rules.require_object(body)
        url, events = body.get("post_event_webhook_url"), body.get("webhook_filters")
        if not isinstance(url, str) or not url:
            raise bad_request("post_event_webhook_url must be a URL")
        if not isinstance(events, list) or not all(isinstance(e, str) and e for e in events):
            raise bad_request("webhook_filters must be a list of event names")
        version = body.get("version")
        if not isinstance(version, str | None):
            raise bad_request("version must be a string")
        webhook = {
            "id": "wh_" + secrets.token_hex(6),
            "post_event_webhook_url": url,
            "webhook_method": "POST",
            "webhook_filters": events,
            "version": version,
            "creation_date": timestamp(),
        }
        with self.store.transaction() as connection:
            connection.execute(
                "INSERT INTO webhooks (id, url, events, version, creation_date) "
                "VALUES (?, ?, ?, ?, ?)",
                (webhook["id"], url, json.dumps(events), version, webhook["creation_date"]),
            )
        return webhook

    def registered_webhooks(self) -> list[dict[str, Any]]:
        with self.store.transaction() as connection:
            rows = connection.execute("SELECT * FROM webhooks ORDER BY rowid").fetchall()
        return [{**dict(row), "events": json.loads(row["events"])} for row in rows]

    def notify(self, event: tuple[str, str], data: Mapping[str, Any]) -> threading.Thread | None:
        """Sends `event` (name, namespace) when the simulator has a sender; the delivery thread."""
        if self.webhooks is None:
            return None
        name, namespace = event
        return self.webhooks.send(name, namespace, data)

    def recording_available(self, room_id: str, session_id: str) -> threading.Thread | None:
        """As if Kaleyra had finished processing the recording of a session (`data.room_id`,
        `data.session_id`, the fields 3P kaleyra-laravel reads)."""
        return self.notify(RECORDING_AVAILABLE, {"room_id": room_id, "session_id": session_id})
