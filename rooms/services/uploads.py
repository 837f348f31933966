"""Files shared during a call (File Share and Snapshot tools), and the calls' recordings,
deleted from Kaleyra on request.

Kaleyra has no bulk delete: the room's uploads are listed (every page), then deleted one by one,
KALEYRA_PARALLEL_CALLS at a time; then the recordings of the visit's sessions
(`rooms.services.recordings`). A failure on one file does not stop the others; a later run
deletes what is left. On the API the request's deadline (KALEYRA_REQUEST_DEADLINE_SECONDS) ends
the work early: the answer counts what was deleted by then, and calling again carries on.

The counts are Mia's `{total, deleted}`: the uploads, plus each recording deleted or left (a
session without one counts for nothing, so a visit that never recorded counts as in Mia).
"""

import logging
from dataclasses import dataclass
from functools import partial

from django.conf import settings

from common.http import deadline
from kaleyra.errors import KaleyraDeadlineExceeded, KaleyraError, KaleyraNotFound
from kaleyra.provider import get_video_provider
from rooms.errors import TeleconsultationNotFound
from rooms.rules import permissions
from rooms.rules.permissions import Writer
from rooms.services import concurrency, recordings
from rooms.storage import get_storage

logger = logging.getLogger("teleconsultation.uploads")


@dataclass(frozen=True)
class UploadsDeletion:
    """Files found and deleted, recordings included (also counted apart, for support's message)."""

    total: int
    deleted: int
    recordings_total: int = 0
    recordings_deleted: int = 0

    @property
    def failed(self) -> int:
        return self.total - self.deleted


def uploads_delete(
    *,
    teleconsultation_id: str,
    include_trash: bool = False,
    force: bool = False,
    writer: Writer | None = None,
) -> UploadsDeletion | None:
    """Deletes every upload of the teleconsultation's room and its sessions' recordings; None
    when deletion is disabled (the contract answers before any lookup then)."""
    if not (settings.TELECONSULTATION_DELETE_UPLOADS or force):
        return None
    permissions.require_identity(writer)
    teleconsultation = get_storage().find(teleconsultation_id, include_trash=include_trash)
    if teleconsultation is None:
        raise TeleconsultationNotFound(teleconsultation_id)
    permissions.require_write(writer, teleconsultation)
    provider = get_video_provider()
    room_id = teleconsultation.kaleyra_room_id
    # Listed in full first: deleting while paging by offset would skip files.
    keys = [upload.key for upload in provider.iter_room_uploads(room_id)] if room_id else []
    sessions = recordings.sessions_to_clear(teleconsultation)

    def delete(key: str) -> bool:
        if _deadline_passed():
            return False  # left for the next call, not tried and reported as failed
        try:
            provider.delete_upload(key)
        except KaleyraNotFound:
            pass  # gone already, so it is not there any more: counts as deleted
        except KaleyraDeadlineExceeded:
            return False
        except KaleyraError as exc:
            logger.warning("Could not delete upload of %s: %s", teleconsultation_id, exc.status)
            return False
        return True

    size = settings.KALEYRA_PARALLEL_CALLS
    deleted = sum(concurrency.each(delete, keys, size=size, name="kaleyra-uploads"))
    delete_recording = partial(
        recordings.delete_one, teleconsultation_id=teleconsultation_id, stop=_deadline_passed
    )
    outcomes = concurrency.each(delete_recording, sessions, size=size, name="kaleyra-recordings")
    recorded = sum(1 for outcome in outcomes if outcome)  # deleted (1) or left (-1)
    recordings_deleted = outcomes.count(1)
    total = len(keys) + recorded
    if deleted + recordings_deleted < total and _deadline_passed():
        logger.info(
            "Deleted %d of %d uploads (recordings included) of %s before the request's deadline",
            deleted + recordings_deleted,
            total,
            teleconsultation_id,
        )
    return UploadsDeletion(
        total=total,
        deleted=deleted + recordings_deleted,
        recordings_total=recorded,
        recordings_deleted=recordings_deleted,
    )


def _deadline_passed() -> bool:
    """The request's deadline has passed (never outside a request): stop, answer what is done."""
    time_left = deadline.time_left()
    return time_left is not None and time_left <= 0
