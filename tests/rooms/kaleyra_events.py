"""Posting Kaleyra's webhooks to the service as Kaleyra does: an envelope, signed over its bytes."""

import json
import time

from django.test import Client

from kaleyra.webhooks import configured_key, sign

PATH = "/webhooks/kaleyra"


def envelope(event: str, data=None, *, timestamp: int | None = None, **fields) -> bytes:
    """The docs' envelope (epoch milliseconds); `data` as given, a dict or a JSON string."""
    payload = {
        "event": event,
        "event_version": "1.0",
        "namespace": "room",
        "timestamp": int(time.time() * 1000) if timestamp is None else timestamp,
        "data": {} if data is None else data,
        **fields,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def post(body: bytes, *, signature: str | None):
    """POSTs `body` with this `bandyer-signature` header (none when None), as Kaleyra does: no
    gateway identity headers, no cookies."""
    headers = {} if signature is None else {"HTTP_BANDYER_SIGNATURE": signature}
    return Client().post(PATH, body, content_type="application/json", **headers)


def sign_now(body: bytes, *, key: str | None = None, t: int | None = None) -> str:
    """The header Kaleyra would send now (or at `t`), with `key` (default: the service's)."""
    return sign(key or configured_key(), int(time.time()) if t is None else t, body)


def deliver(body: bytes, *, key: str | None = None, t: int | None = None):
    """POSTs `body` signed now (or at `t`) with `key` (by default the one the service expects)."""
    return post(body, signature=sign_now(body, key=key, t=t))


def room_deleted(room_id: str, **kwargs) -> bytes:
    return envelope("on_room_deleted", {"room_id": room_id, "deleted_links": []}, **kwargs)
