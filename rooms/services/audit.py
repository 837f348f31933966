"""The audit trail: who did what to which teleconsultation, and how it ended, kept apart from the
logs and stored through `rooms.storage` (`record_audit`).

Every API write and every join-link hand-out (`rooms.api.decorators`), every support operation
(`rooms.services.support`) and every command run records one entry. An entry holds ids, counts and
outcomes, never personal data (no names, no links). The request id and the client type come from
the context: the request being served, or the `channel` an admin action or a command opened.
Recording never fails what it records: a storage failure is a logged warning.
"""

import contextvars
import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.utils import timezone

from rooms.domain import AuditEntry
from rooms.storage import get_storage
from teleconsultation_project.logs import request_id_var

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
EXPORT = "audit.export"
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
        logger.warning(
            "Audit entry not recorded: %s on %s (%s)",
            action,
            teleconsultation_id or "-",
            type(exc).__name__,
            extra={"teleconsultation": teleconsultation_id},
        )


def record_many(
    action: str, *, actor: str, outcomes: Sequence[tuple[str | None, str, dict]]
) -> None:
    """The entries `record` would make, one per (teleconsultation id, outcome, detail), in one
    write: a support command's chunk of items."""
    entries = [_entry(action, actor, *outcome) for outcome in outcomes]
    try:
        get_storage().record_audits(entries)
    except Exception as exc:  # the audit trail must never fail the work it records
        logger.warning(
            "%d audit entries not recorded: %s (%s)", len(entries), action, type(exc).__name__
        )


def _entry(
    action: str, actor: str, teleconsultation_id: str | None, outcome: str, detail: dict | None
) -> AuditEntry:
    """An entry carrying the context's request id and client type."""
    return AuditEntry(
        action=action,
        actor=actor,
        outcome=str(outcome),
        teleconsultation_id=teleconsultation_id or "",
        request_id=request_id_var.get() or "",
        client_type=_client_type.get(),
        detail=detail or {},
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
