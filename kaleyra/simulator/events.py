"""Simulated webhooks: registrations (`POST`, `GET` and `DELETE /v2/webhooks`, kept in the state
file) and the events the simulator sends through its `WebhookSender` (none when it has no
sender)."""

import json
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from kaleyra.simulator import rules
from kaleyra.simulator.rules import bad_request, not_found
from kaleyra.simulator.store import Store, timestamp
from kaleyra.simulator.webhook_sender import WebhookSender

ROOM_DELETED = ("on_room_deleted", "room")  # event and namespace of the docs' sample [DOC]
RECORDING_AVAILABLE = ("on_recording_available", "recording")  # namespace UNCLEAR


def _event_names(filters: Any) -> list[str]:
    """`webhook_filters` as event names: names, or objects naming one (`{"event": name}`)."""
    refusal = bad_request("webhook_filters must be a list of event names or {event: name} objects")
    if not isinstance(filters, list):
        raise refusal
    names: list[Any] = [f.get("event") if isinstance(f, dict) else f for f in filters]
    if not all(isinstance(name, str) and name for name in names):
        raise refusal
    return names


class WebhookOperations:
    store: Store
    webhooks: WebhookSender | None

    def register_webhook(self, body: Any) -> dict[str, Any]:
        # Reads the names kaleyra.wire sends (UNCLEAR upstream, see wire.WEBHOOKS_PATH).
        body = rules.require_object(body)
        url = body.get("post_event_webhook_url")
        if not isinstance(url, str) or not url:
            raise bad_request("post_event_webhook_url must be a URL")
        events = _event_names(body.get("webhook_filters"))
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

    def list_webhooks(self, query: Mapping[str, str]) -> dict[str, Any]:
        offset, limit = rules.page(query)
        listed = [
            {
                "id": webhook["id"],
                "post_event_webhook_url": webhook["url"],
                "webhook_method": "POST",
                "webhook_filters": webhook["events"],
                "version": webhook["version"],
                "creation_date": webhook["creation_date"],
            }
            for webhook in self.registered_webhooks()
        ]
        page = listed[offset : offset + limit]
        has_more = offset + limit < len(listed)
        return {"offset": offset, "limit": limit, "has_more": has_more, "webhooks": page}

    def delete_webhook(self, webhook_id: str) -> None:
        with self.store.transaction() as connection:
            deleted = connection.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,))
        if deleted.rowcount == 0:
            raise not_found(f"webhook {webhook_id} not found")

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
