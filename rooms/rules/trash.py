"""What moving a teleconsultation to the trash writes, as change functions of the storage contract
(`rooms.domain.Change`): the visit in TRASH, its room kept on the record (and its claim let go)
until the room's deletion, recorded in the same write, is done.

Pure: a storage backend calls them under its concurrency control with the freshest record, so
they can refuse (404, 403) on what they see. `rooms.services.room_swap` writes them and then
deletes the rooms.
"""

from dataclasses import replace

from rooms.domain import JobKind, RoomJob, State, Teleconsultation, Write
from rooms.errors import TeleconsultationNotFound
from rooms.rules import permissions
from rooms.rules.permissions import Writer


def room_deletion(room_id: str, teleconsultation_id: str, reason: str) -> RoomJob:
    """The pending deletion of a room on Kaleyra, recorded until Kaleyra confirms it."""
    return RoomJob(
        kind=JobKind.ROOM_DELETION,
        key=room_id,
        teleconsultation_id=teleconsultation_id,
        reason=reason,
    )


def to_trash(fresh: Teleconsultation | None, *, teleconsultation_id: str, reason: str) -> Write:
    """Support work's removal: no writer to check."""
    if fresh is None:
        raise TeleconsultationNotFound(teleconsultation_id)
    room_id = fresh.kaleyra_room_id or None
    after = replace(fresh, state=State.TRASH, room_claim=None)
    return Write(after, record=(room_deletion(room_id, fresh.id, reason),) if room_id else ())


def to_trash_by(
    fresh: Teleconsultation | None, *, writer: Writer | None, teleconsultation_id: str, reason: str
) -> Write:
    """The API's DELETE: `to_trash`, once `writer` may write to this visit."""
    if fresh is not None:
        permissions.require_write(writer, fresh)
    return to_trash(fresh, teleconsultation_id=teleconsultation_id, reason=reason)
