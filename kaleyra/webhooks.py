"""Kaleyra's signed requests: `sign`, `verify_signature`, and for webhooks `verify` and
`parse_envelope`, pure functions the receiving endpoints call (the webhooks and the user details
provider), and `configured_key()` / `configured_tolerance()` read from the settings.

Scheme [DOC webhook-signature], v1 and later webhooks: header
`bandyer-signature: t=<timestamp>,v0=<hex>`, where hex is HMAC-SHA256 keyed with the company API
key over `"<t>." + raw body`, lower-case. UNCLEAR: the docs show `t` in seconds and in
milliseconds; a value above 10^11 is read as milliseconds. No tolerance is documented; ours is
KALEYRA_WEBHOOK_TOLERANCE_SECONDS either side of now.
"""

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SIGNATURE_HEADER = "bandyer-signature"
MILLISECONDS_ABOVE = 10**11  # 10^11 s is the year 5138; 10^11 ms is 1973
MAX_TIMESTAMP_DIGITS = 16


class WebhookError(ValueError):
    """A webhook we must not act on; `reason` says why, in words safe to log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class WebhookSignatureError(WebhookError):
    """The signature header is missing, malformed, stale or does not match the body."""


class WebhookPayloadError(WebhookError):
    """The body is signed correctly but is not a webhook envelope."""


@dataclass(frozen=True)
class WebhookEnvelope:
    event: str
    event_version: str | None
    namespace: str | None
    timestamp: datetime | None
    data: Mapping[str, Any] = field(default_factory=dict)


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _digest(key: str, t: str, body: bytes) -> str:
    message = t.encode("ascii") + b"." + body
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(key: str, t: int, body: bytes | str) -> str:
    """The `bandyer-signature` header value for `body` sent at `t` (seconds or milliseconds)."""
    return f"t={t},v0={_digest(key, str(t), _as_bytes(body))}"


def _epoch_seconds(value: int) -> float:
    return value / 1000 if value > MILLISECONDS_ABOVE else float(value)


def _parse_header(header: str) -> tuple[str, list[str]]:
    """The `t` text (exactly as sent: it is what was signed) and every `v0` digest."""
    t, digests = None, []
    for part in header.split(","):
        name, equals, value = part.strip().partition("=")
        if not equals:
            raise WebhookSignatureError("malformed signature header")
        if name == "t":
            t = value
        elif name == "v0":
            digests.append(value)
    if t is None or not t.isascii() or not t.isdigit() or len(t) > MAX_TIMESTAMP_DIGITS:
        raise WebhookSignatureError("signature header has no valid timestamp")
    if not digests:
        raise WebhookSignatureError("signature header has no v0 signature")
    return t, digests


def verify(
    header: str | None, body: bytes | str, *, key: str, now: float, tolerance: float
) -> WebhookEnvelope:
    """The envelope of a webhook whose `bandyer-signature` `header` signs `body` with `key`, sent
    within `tolerance` seconds of `now` (epoch seconds); WebhookSignatureError otherwise, and
    WebhookPayloadError when the signed body is not an envelope."""
    return parse_envelope(verify_signature(header, body, key=key, now=now, tolerance=tolerance))


def verify_signature(
    header: str | None, body: bytes | str, *, key: str, now: float, tolerance: float
) -> bytes:
    """The raw `body` when the `bandyer-signature` `header` signs it with `key`, sent within
    `tolerance` seconds of `now` (epoch seconds); WebhookSignatureError otherwise. Every request
    Kaleyra signs goes through it: the webhooks and the user details provider's lookups."""
    if not key:
        raise WebhookSignatureError("no webhook key is configured")
    if not header:
        raise WebhookSignatureError("signature header is missing")
    t, digests = _parse_header(header)
    if abs(now - _epoch_seconds(int(t))) > tolerance:
        raise WebhookSignatureError("signature timestamp is outside the tolerance")
    raw = _as_bytes(body)
    expected = _digest(key, t, raw)
    # Every candidate is compared, so the time taken does not tell which one came close.
    matches = [hmac.compare_digest(expected, digest.lower()) for digest in digests]
    if not any(matches):
        raise WebhookSignatureError("signature does not match the body")
    return raw


def _timestamp(value: Any) -> datetime | None:
    """Epoch seconds or milliseconds (the docs' sample has milliseconds), or ISO 8601."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(_epoch_seconds(int(value)), UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise WebhookPayloadError("timestamp is out of range") from exc
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise WebhookPayloadError("timestamp is not a date") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise WebhookPayloadError("timestamp is not a date")


def _data(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):  # some senders double-encode `data` as a JSON string
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise WebhookPayloadError("data is a string but not JSON") from exc
    if not isinstance(value, dict):
        raise WebhookPayloadError("data is not an object")
    return value


def _optional_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # `event_version` may come as a number
    raise WebhookPayloadError(f"{name} is not a string")


def parse_envelope(body: bytes | str) -> WebhookEnvelope:
    """`{"event", "event_version", "namespace", "timestamp", "data"}` [DOC signature page]."""
    try:
        payload = json.loads(_as_bytes(body))
    except ValueError as exc:
        raise WebhookPayloadError("body is not JSON") from exc
    if not isinstance(payload, dict):
        raise WebhookPayloadError("body is not a JSON object")
    event = payload.get("event")
    if not isinstance(event, str) or not event:
        raise WebhookPayloadError("event is missing")
    return WebhookEnvelope(
        event=event,
        event_version=_optional_text(payload.get("event_version"), "event_version"),
        namespace=_optional_text(payload.get("namespace"), "namespace"),
        timestamp=_timestamp(payload.get("timestamp")),
        data=_data(payload.get("data")),
    )


def configured_key() -> str:
    """KALEYRA_WEBHOOK_KEY, else the API key Kaleyra signs with; the in-process simulator's key
    when that backend runs without one. Empty means no webhook can be accepted."""
    from django.conf import settings

    if settings.KALEYRA_WEBHOOK_KEY:
        return settings.KALEYRA_WEBHOOK_KEY
    if settings.BANDYER_API_SECRET_KEY:
        return settings.BANDYER_API_SECRET_KEY
    if settings.KALEYRA_BACKEND == "simulator":
        return settings.KALEYRA_SIMULATOR_API_KEY
    return ""


def configured_tolerance() -> float:
    from django.conf import settings

    return settings.KALEYRA_WEBHOOK_TOLERANCE_SECONDS
