"""A visit's call recordings on Kaleyra (opt-in: KALEYRA_RECORDING, or the visit's `recording`):
the ones Kaleyra announced, a temporary download link for support, and their deletion with the
visit's uploads (`rooms.services.uploads`).

Kaleyra keeps a recording per session (call) of a room. The sessions known to have one are those
announced by `on_recording_available` (stored against the visit by `rooms.services.webhook_events`)
and, while the visit's room records, those its room lists. A download link is a secret: it goes to
the one who asked, never to a log or the audit trail.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kaleyra.errors import KaleyraDeadlineExceeded, KaleyraError, KaleyraNotFound
from kaleyra.provider import get_video_provider
from kaleyra.types import RecordingLink
from rooms.domain import Teleconsultation
from rooms.errors import TeleconsultationNotFound
from rooms.rules import room_spec
from rooms.services import audit
from rooms.services.webhook_events import RECORDING_AVAILABLE
from rooms.storage import get_storage
from teleconsultation_project.errors import ApiError

logger = logging.getLogger("teleconsultation.recordings")

LINK_SECONDS = 300  # how long a link handed to support stays valid (Kaleyra allows 30 to 3600)
ANNOUNCED_KEPT = 1000  # the announced recordings read per visit: more than a visit ever has


class RecordingNotFound(ApiError):
    def __init__(self, teleconsultation_id: str, session_id: str) -> None:
        text = (
            f"Kaleyra has no recording of session {session_id} of teleconsultation "
            f"{teleconsultation_id} (never announced for it, or deleted)"
        )
        super().__init__(text, status=404, error=text)


@dataclass(frozen=True)
class Announced:
    """A recording Kaleyra announced with `on_recording_available`."""

    session_id: str
    room_id: str
    announced_at: datetime


def announced(teleconsultation_id: str, *, limit: int = ANNOUNCED_KEPT) -> list[Announced]:
    """The recordings Kaleyra announced for the visit, oldest first, one per session."""
    events = get_storage().webhook_events(
        teleconsultation_id=teleconsultation_id, event=RECORDING_AVAILABLE, limit=limit
    )
    found: dict[str, Announced] = {}
    for event in events:
        session_id = event.data.get("session_id")
        if isinstance(session_id, str) and session_id and session_id not in found:
            found[session_id] = Announced(session_id, event.room_id, event.timestamp)
    return list(found.values())


def download_link(*, teleconsultation_id: str, session_id: str, actor: str) -> RecordingLink:
    """A link to download the recording of one of the visit's sessions, valid LINK_SECONDS;
    audited (who, which visit and session), never logged. RecordingNotFound when Kaleyra never
    announced it for this visit or no longer has it."""
    visit = get_storage().find(teleconsultation_id, include_trash=True)
    if visit is None:
        raise TeleconsultationNotFound(teleconsultation_id)
    if session_id not in {recording.session_id for recording in announced(teleconsultation_id)}:
        raise RecordingNotFound(teleconsultation_id, session_id)
    detail = {"session_id": session_id, "expires_in": LINK_SECONDS}
    try:
        link = get_video_provider().recording_link(session_id, expires_in=LINK_SECONDS)
    except KaleyraNotFound:
        audit.record(
            audit.RECORDING_LINK,
            actor=actor,
            teleconsultation_id=teleconsultation_id,
            outcome="not_found",
            detail=detail,
        )
        raise RecordingNotFound(teleconsultation_id, session_id) from None
    audit.record(
        audit.RECORDING_LINK,
        actor=actor,
        teleconsultation_id=teleconsultation_id,
        outcome="done",
        detail=detail,
    )
    return link


def sessions_to_clear(teleconsultation: Teleconsultation) -> list[str]:
    """The sessions whose recordings go with the visit's uploads: those announced for it (its
    earlier rooms' too), and, while its room records, every session that room lists."""
    sessions = {recording.session_id: None for recording in announced(teleconsultation.id)}
    room_id = teleconsultation.kaleyra_room_id
    if room_id and room_spec.recording_mode(teleconsultation.recording) != "none":
        for session in get_video_provider().iter_room_sessions(room_id):
            sessions.setdefault(session.id, None)
    return list(sessions)


def delete_one(session_id: str, *, teleconsultation_id: str, stop: Callable[[], bool]) -> int:
    """Deletes one session's recording: 1 when one was deleted, 0 when the session has none (or
    it is gone already), -1 when it is left (failed, or `stop()` said to leave it for the next
    call)."""
    if stop():
        return -1
    try:
        get_video_provider().delete_recording(session_id)
    except KaleyraNotFound:
        return 0  # nothing recorded, or gone already: nothing is left either way
    except KaleyraDeadlineExceeded:
        return -1
    except KaleyraError as exc:
        logger.warning(
            "Could not delete recording of a session of %s: %s",
            teleconsultation_id,
            exc.status,
            extra={"teleconsultation": teleconsultation_id},
        )
        return -1
    return 1
