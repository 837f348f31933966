"""The audit trail: who did what to which teleconsultation, and how it ended, kept apart from the
logs and stored through `rooms.storage` (`record_audit`).

Every API write and every join-link hand-out (`api`), every support operation
(`rooms.services.support`) and every command run records one entry. An entry holds ids, counts and
outcomes, never personal data (no names, no links). The request id and the client type come from
the context: the request being served, or the `channel` an admin action or a command opened.
Recording never fails what it records: a storage failure is a logged warning.
"""

import contextvars
import functools
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from django.conf import settings
from django.utils import timezone

from rooms.domain import AuditEntry, is_teleconsultation_id
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


# --- API views ------------------------------------------------------------------------------------

Detail = Callable[[object, object], dict]


def api(action: str, *, detail: Detail | None = None, handouts_only: bool = False):
    """Decorates an API view method: once the answer is known (errors included, as the status the
    error handler gives them), records `action` with the HTTP status as outcome. With
    `handouts_only`, only answers that hand out a join link are recorded."""

    def decorate(method):
        @functools.wraps(method)
        def audited(view, request, *args, **kwargs):
            token = _client_type.set(_request_client_type(request))
            try:
                try:
                    response = method(view, request, *args, **kwargs)
                except Exception as exc:
                    try:
                        response = view.handle_exception(exc)
                    except Exception:
                        if not handouts_only:
                            _record_call(action, request, kwargs, None, detail)
                        raise
                if not handouts_only or _hands_out_link(response):
                    _record_call(action, request, kwargs, response, detail)
                return response
            finally:
                _client_type.reset(token)

        return audited

    return decorate


def link_handed_out(request, teleconsultation_id: str, caller_id: str) -> None:
    """The entry of a GET that handed out a join link, as `api(LINK_HANDED_OUT,
    handouts_only=True)` records it; for `rooms.api.poll`, which answers GETs ahead of the view."""
    token = _client_type.set(_request_client_type(request))
    try:
        record(
            LINK_HANDED_OUT,
            actor=caller_id,
            teleconsultation_id=teleconsultation_id,
            outcome="200",
            detail={},
        )
    finally:
        _client_type.reset(token)


def _request_client_type(request) -> str:
    return request.headers.get(settings.CLIENTTYPE_HEADER_KEY, "").strip()[:64]


def _hands_out_link(response) -> bool:
    return (
        response.status_code == 200
        and isinstance(response.data, dict)
        and bool(response.data.get("accessLinkURL"))
    )


def _record_call(action: str, request, kwargs: dict, response, detail: Detail | None) -> None:
    teleconsultation_id = kwargs.get("roomId")
    if teleconsultation_id is None and response is not None and isinstance(response.data, dict):
        teleconsultation_id = response.data.get("roomId")
    if not isinstance(teleconsultation_id, str) or not is_teleconsultation_id(teleconsultation_id):
        teleconsultation_id = None  # what the caller typed is not an id: kept out of the trail
    try:
        extra = detail(request, response) if detail else {}
    except Exception:  # a body the view refused may be anything
        extra = {}
    record(
        action,
        actor=request.user.id if request.user else "public",
        teleconsultation_id=teleconsultation_id,
        outcome=str(response.status_code if response is not None else 500),
        detail=extra,
    )


def _body(request) -> dict:
    data = request.data
    return data if isinstance(data, dict) else {}


def create_detail(request, response) -> dict:
    participants = _body(request).get("participants")
    if isinstance(participants, list):  # user ids (AUTH_SERVICE)
        return {"participantsNumber": len(participants)}
    if isinstance(participants, dict) and isinstance(participants.get("data"), list):
        return {
            "participantsNumber": participants.get("number"),
            "participantsKnown": len(participants["data"]),
        }
    return {}


UPDATABLE = ("participants", "start_date", "end_date", "duration_in_seconds")


def update_detail(request, response) -> dict:
    return {"fields": [name for name in UPDATABLE if name in _body(request)]}


def participant_detail(request, response) -> dict:
    user_id = _body(request).get("userExternalId")
    return {"userExternalId": user_id[:255]} if isinstance(user_id, str) else {}


def uploads_detail(request, response) -> dict:
    if response is not None and response.status_code == 200:
        return {"total": response.data["total"], "deleted": response.data["deleted"]}
    return {}
