"""Simulated webhooks: registrations (`POST /v2/webhooks`, kept in the state file) and the events
the simulator sends through its `WebhookSender` (none when it has no sender)."""

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


def event_names(filters: Any) -> list[str]:
    """The event names of `webhook_filters`: a list of names (v1 configure webhook [DOC]) or of
    objects naming one in `event` (or `name`); the v2 shape is UNCLEAR upstream."""
    if not isinstance(filters, list) or not filters:
        raise bad_request("webhook_filters must be a non-empty list of events")
    names = []
    for item in filters:
        name = item.get("event", item.get("name")) if isinstance(item, Mapping) else item
        if not isinstance(name, str) or not name:
            raise bad_request(
                "each of webhook_filters must be an event name or an object with an 'event'"
            )
        names.append(name)
    return names


class WebhookOperations:
    store: Store
    webhooks: WebhookSender | None

    def register_webhook(self, body: Any) -> dict[str, Any]:
        # Reads the names kaleyra.wire sends (UNCLEAR upstream, see wire.WEBHOOKS_PATH).
        body = rules.require_object(body)
        url, filters = body.get("post_event_webhook_url"), body.get("webhook_filters")
        if not isinstance(url, str) or not url:
            raise bad_request("post_event_webhook_url must be a URL")
        events = event_names(filters)
        version = body.get("version")
        if not isinstance(version, str | None):
            raise bad_request("version must be a string")
        webhook = {
            "id": "wh_" + secrets.token_hex(6),
            "post_event_webhook_url": url,
            "webhook_method": "POST",
            "webhook_filters": filters,  # answered in the shape it was given
            "version": version,
            "creation_date": timestamp(),
        }
        with self.store.transaction() as connection:
            connection.execute(
                "INSERT INTO webhooks (id, url, events, version, creation_date, filters) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    webhook["id"],
                    url,
                    json.dumps(events),
                    version,
                    webhook["creation_date"],
                    json.dumps(filters),
                ),
            )
        return webhook

    def list_webhooks(self) -> dict[str, Any]:
        webhooks = [
            {
                "id": row["id"],
                "post_event_webhook_url": row["url"],
                "webhook_method": "POST",
                "webhook_filters": json.loads(row["filters"] or row["events"]),
                "version": row["version"],
                "creation_date": row["creation_date"],
            }
            for row in self._webhook_rows()
        ]
        return {"count": len(webhooks), "webhooks": webhooks}

    def delete_webhook(self, webhook_id: str) -> None:
        with self.store.transaction() as connection:
            deleted = connection.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,))
            if deleted.rowcount == 0:
                raise not_found(f"webhook {webhook_id} not found")

    def registered_webhooks(self) -> list[dict[str, Any]]:
        return [
            {
                "id": row["id"],
                "url": row["url"],
                "events": json.loads(row["events"]),
                "version": row["version"],
                "creation_date": row["creation_date"],
            }
            for row in self._webhook_rows()
        ]

    def _webhook_rows(self) -> list[Any]:
        with self.store.transaction() as connection:
            return connection.execute("SELECT * FROM webhooks ORDER BY rowid").fetchall()

    def notify(self, event: tuple[str, str], data: Mapping[str, Any]) -> threading.Thread | None:
        """Sends `event` (name, namespace) to every registered URL whose filters name it; with
        no registration at all, to the sender's own URL (a webhook set up in Kaleyra's dashboard,
        for every event). The delivery thread; None when nothing is sent or there is no sender."""
        if self.webhooks is None:
            return None
        name, namespace = event
        registered = self.registered_webhooks()
        if not registered:
            return self.webhooks.send(name, namespace, data)
        urls = [webhook["url"] for webhook in registered if name in webhook["events"]]
        return self.webhooks.send(name, namespace, data, urls=urls)

    def recording_available(self, room_id: str, session_id: str) -> threading.Thread | None:
        """As if Kaleyra had finished processing the recording of a session (`data.room_id`,
        `data.session_id`, the fields 3P kaleyra-laravel reads)."""
        return self.notify(RECORDING_AVAILABLE, {"room_id": room_id, "session_id": session_id})
