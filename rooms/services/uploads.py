"""Files shared during a call (File Share and Snapshot tools), deleted from Kaleyra on request.

Kaleyra has no bulk delete: the room's uploads are listed (every page), then deleted one by one,
KALEYRA_PARALLEL_CALLS at a time. A failure on one file does not stop the others; a later run
deletes what is left. On the API the request's deadline (KALEYRA_REQUEST_DEADLINE_SECONDS) ends
the work early: the answer counts what was deleted by then, and calling again carries on.
"""

import logging
from dataclasses import dataclass

from django.conf import settings

from common.http import deadline
from kaleyra.errors import KaleyraDeadlineExceeded, KaleyraError, KaleyraNotFound
from kaleyra.provider import get_video_provider
from rooms.errors import TeleconsultationNotFound
from rooms.rules import permissions
from rooms.rules.permissions import Writer
from rooms.services import concurrency
from rooms.storage import get_storage

logger = logging.getLogger("teleconsultation.uploads")


@dataclass(frozen=True)
class UploadsDeletion:
    total: int
    deleted: int

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
    """Deletes every upload of the teleconsultation's room; None when deletion is disabled (the
    contract answers before any lookup then)."""
    if not (settings.TELECONSULTATION_DELETE_UPLOADS or force):
        return None
    permissions.require_identity(writer)
    teleconsultation = get_storage().find(teleconsultation_id, include_trash=include_trash)
    if teleconsultation is None:
        raise TeleconsultationNotFound(teleconsultation_id)
    permissions.require_write(writer, teleconsultation)
    if not teleconsultation.kaleyra_room_id:
        return UploadsDeletion(total=0, deleted=0)
    provider = get_video_provider()
    # Listed in full first: deleting while paging by offset would skip files.
    keys = [upload.key for upload in provider.iter_room_uploads(teleconsultation.kaleyra_room_id)]

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
    if deleted < len(keys) and _deadline_passed():
        logger.info(
            "Deleted %d of %d uploads of %s before the request's deadline",
            deleted,
            len(keys),
            teleconsultation_id,
        )
    return UploadsDeletion(total=len(keys), deleted=deleted)


def _deadline_passed() -> bool:
    """The request's deadline has passed (never outside a request): stop, answer what is done."""
    time_left = deadline.time_left()
    return time_left is not None and time_left <= 0
