"""The audit trail: who did what to which teleconsultation, and how it ended, kept apart from the
logs and stored through `rooms.storage` (`record_audit`).

Every API write, every join-link hand-out and every lookup of names by Kaleyra
(`rooms.api.decorators`), every support operation
(`rooms.services.support`) and every command run records one entry. An entry holds ids, counts and
outcomes, never personal data (no names, no links). The request id and the client type come from
the context: the request being served, or the `channel` an admin action or a command opened.
Whatever a caller sent, the entry can be stored (`storable`): characters a backend refuses are
written as `\\uXXXX` text and long values are cut. Recording never fails what it records, and
never fails silently: a storage failure is an error log and `teleconsultation_audit_write_failures`.
"""

import contextvars
import logging
import math
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.utils import timezone

from rooms.domain import AuditEntry
from rooms.storage import get_storage
from teleconsultation_project.logs import request_id_var
from teleconsultation_project.metrics import AUDIT_WRITE_FAILURES

logger = logging.getLogger("teleconsultation.audit")

CREATE = "teleconsultation.create"
UPDATE = "teleconsultation.update"
DELETE = "teleconsultation.delete"  # moved to TRASH, its room deleted
ERASE = "teleconsultation.erase"  # erased for good from the trash
PARTICIPANT_ADD = "participant.add"
UPLOADS_DELETE = "uploads.delete"
LINK_HANDED_OUT = "link.handed_out"
RECORDING_LINK = "recording.link"  # a recording's download link fetched for support
ROOM_RECREATE = "room.recreate"
ROOM_DELETION_FINISHED = "room.pending_deletion"
ROOM_LOST = "room.deleted_by_kaleyra"  # on_room_deleted took a live visit's room away
CALENDAR_FEED_CREATE = "calendar_feed.create"  # a new secret address (never the secret)
CALENDAR_FEED_REVOKE = "calendar_feed.revoke"
USER_DETAILS = "kaleyra.user_details"  # Kaleyra asked for the names shown in a call
EXPORT = "audit.export"
ATTENDANCE_COLLECT = "attendance.collect"  # who joined a visit's calls, fetched from Kaleyra
PERSON_EXPORT = "person.export"  # everything held about one person written out (export_person)
COMMAND = "command.{}"  # one entry per run of a management command, with its summary counts

# The `client-type` header of the request; "admin" or "command" for support work.
_client_type: contextvars.ContextVar[str] = contextvars.ContextVar("audit_client_type", default="")


def record(
    action: str,
    *,
    actor: str,
    teleconsultation_id: str | None = None,
    outcome: str,
    detail: dict | None = None,
) -> None:
    entry = _entry(action, actor, teleconsultation_id, outcome, detail)
    try:
        get_storage().record_audit(entry)
    except Exception as exc:  # the audit trail must never fail the work it records
        _not_recorded(exc, 1, entry.action, entry.teleconsultation_id)


def record_many(
    action: str, *, actor: str, outcomes: Sequence[tuple[str | None, str, dict]]
) -> None:
    """The entries `record` would make, one per (teleconsultation id, outcome, detail), in one
    write: a support command's chunk of items."""
    entries = [_entry(action, actor, *outcome) for outcome in outcomes]
    try:
        get_storage().record_audits(entries)
    except Exception as exc:  # the audit trail must never fail the work it records
        _not_recorded(exc, len(entries), storable(action, limit=64), None)


def _not_recorded(exc: Exception, count: int, action: str, teleconsultation_id: str | None) -> None:
    """A lost entry is an error to alert on, counted by the exception's class (a handful of
    values); the log line names the action and the visit, nothing the caller sent."""
    reason = type(exc).__name__
    AUDIT_WRITE_FAILURES.labels(reason=reason).inc(count)
    logger.error(
        "Audit entry not recorded: %s on %s (%s)%s",
        action,
        teleconsultation_id or "-",
        reason,
        f", {count} entries" if count > 1 else "",
        extra={"teleconsultation": teleconsultation_id},
    )


# --- what every backend can store -----------------------------------------------------------------

# The columns' lengths (rooms.models.AuditEntry); a value in `detail` is cut at DETAIL_LIMIT.
LIMITS = {"action": 64, "actor": 255, "outcome": 32, "request_id": 128, "client_type": 64}
DETAIL_LIMIT = 512
DETAIL_ITEMS = 100  # entries of a list or an object in `detail`; the rest is left out
# NUL (PostgreSQL's text and jsonb refuse it), the other C0 controls and DEL (storable, but not
# harmless to a terminal, a log or a CSV reader), and lone surrogates (no backend encodes them).
UNSTORABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def storable(text: str, *, limit: int = DETAIL_LIMIT) -> str:
    """`text` as every backend stores it: each unstorable character written as `\\uXXXX` text,
    and a value longer than `limit` cut, ending with how long it was (`…[10240 chars]`)."""
    text = UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
    if len(text) <= limit:
        return text
    marker = f"…[{len(text)} chars]"
    return text[: max(limit - len(marker), 0)] + marker


def storable_detail(value: Any) -> Any:
    """`detail` (or a value in it) as every backend stores it: strings through `storable`, keys
    too; numbers JSON cannot write (NaN, infinities) and other objects as text."""
    if isinstance(value, str):
        return storable(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        items = list(value.items())[:DETAIL_ITEMS]
        return {storable(str(key)): storable_detail(item) for key, item in items}
    if isinstance(value, list | tuple):
        return [storable_detail(item) for item in value[:DETAIL_ITEMS]]
    return storable(str(value))


def _entry(
    action: str, actor: str, teleconsultation_id: str | None, outcome: str, detail: dict | None
) -> AuditEntry:
    """An entry carrying the context's request id and client type, storable whatever it holds."""
    return AuditEntry(
        action=storable(action, limit=LIMITS["action"]),
        actor=storable(actor, limit=LIMITS["actor"]),
        outcome=storable(str(outcome), limit=LIMITS["outcome"]),
        # Only a well-formed id is given (rooms.api.decorators keeps what a caller typed out).
        teleconsultation_id=storable(teleconsultation_id or "", limit=24),
        request_id=storable(request_id_var.get() or "", limit=LIMITS["request_id"]),
        client_type=storable(_client_type.get(), limit=LIMITS["client_type"]),
        detail=storable_detail(detail or {}),
        at=timezone.now(),
    )


@contextmanager
def channel(client_type: str, *, request_id: str | None = None) -> Iterator[str]:
    """Support work outside the API: entries recorded inside carry this client type, and the
    request id given (a command run's own id) or the current request's."""
    client = _client_type.set(client_type)
    request = request_id_var.set(request_id) if request_id else None
    try:
        yield request_id_var.get() or ""
    finally:
        if request is not None:
            request_id_var.reset(request)
        _client_type.reset(client)


def run_id(name: str) -> str:
    """A request id for a command run: every entry (and log line) of the run carries it."""
    return f"{name}-{uuid.uuid4().hex}"
