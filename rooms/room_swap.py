"""The one place a teleconsultation's Kaleyra room is created, replaced or deleted.

A Kaleyra room and the record that holds it cannot change in one transaction, so every change
follows the same steps, and no failure half-way leaves a room that nobody will delete:
1. record the *intent* (a room job whose tag the room carries in its description), then ask
   Kaleyra for the room, outside any transaction;
2. under the backend's concurrency control, check the visit is still as read, attach the room,
   record the room being replaced as a pending deletion and forget the intent, in one write;
3. after that write, delete the replaced room; when the visit changed meanwhile, discard the new
   room instead. A deletion that fails stays recorded for `reconcile_rooms`, and so does an
   intent whose answer never came.
"""

import logging
import secrets
from collections.abc import Callable
from dataclasses import replace

from kaleyra.errors import KaleyraBadRequest, KaleyraError, KaleyraNotFound
from kaleyra.provider import get_video_provider
from kaleyra.types import Room
from rooms import room_details, video_rooms
from rooms.errors import TeleconsultationNotFound
from rooms.storage import get_storage
from rooms.storage.base import JobKind, RoomJob, Teleconsultation, Write

logger = logging.getLogger("teleconsultation.rooms")

WRITE_ATTEMPTS = 3


class Stale(Exception):
    """The visit changed between the read and the write in a way that invalidates the room."""


def room_tag() -> str:
    """What a room carries in its description, so it can be found again whatever is lost (a new
    visit has no id before it is stored, so the tag stands on its own)."""
    return f"teleconsultation-room:{secrets.token_hex(8)}"


def create_room(wanted: Teleconsultation, *, reason: str) -> tuple[Room, RoomJob]:
    """A room for `wanted`, its intent recorded first; the caller's write forgets the intent."""
    intent = RoomJob(
        kind=JobKind.ROOM_INTENT,
        key=room_tag(),
        teleconsultation_id=wanted.id,
        reason=reason,
    )
    storage = get_storage()
    storage.record_jobs([intent])
    try:
        room = video_rooms.create_room(
            wanted.participants, wanted.start, wanted.end, tag=intent.key
        )
    except KaleyraBadRequest:
        storage.forget_jobs([intent])  # refused outright: nothing was made
        raise
    except KaleyraError:
        # The provider may have acted before the answer was lost: reconcile looks for the room
        # by its tag now, without waiting for a dead request's grace period.
        storage.abandon_job(intent)
        raise
    return room, intent


def discard(room: Room, intent: RoomJob, *, teleconsultation_id: str, reason: str) -> None:
    """A room made for a write that did not happen: delete it, then forget its intent."""
    delete_room(room.id, teleconsultation_id=teleconsultation_id, reason=reason)
    get_storage().forget_jobs([intent])


def swap_room(
    teleconsultation_id: str,
    *,
    target: Callable[[Teleconsultation], Teleconsultation],
    actor: str,
    reason: str,
    new_room: bool = False,
    attempts: int = WRITE_ATTEMPTS,
) -> Teleconsultation:
    """Writes what `target` makes of the visit, giving it the room it needs.

    `target` maps the freshest record to what it must become (it may raise to refuse, or `Stale`).
    It runs once on the record as read, then again under the write's concurrency control: the
    room made from the first answer is attached only if the second needs the very same room.
    A complete visit keeps its room when its signature is unchanged, unless `new_room`.
    Raises `Stale` when every attempt lost a race.
    """
    for _attempt in range(attempts):
        after = _attempt_swap(
            teleconsultation_id, target=target, actor=actor, reason=reason, new_room=new_room
        )
        if after is not None:
            return after
    raise Stale(teleconsultation_id)


def _attempt_swap(teleconsultation_id: str, *, target, actor: str, reason: str, new_room: bool):
    """One try of `swap_room`: the written record, or None when the visit changed meanwhile."""
    storage = get_storage()
    current = storage.find(teleconsultation_id)
    if current is None:
        raise TeleconsultationNotFound(teleconsultation_id)
    wanted = target(current)
    old_room = current.kaleyra_room_id
    keep = bool(old_room and not new_room and _same_room(wanted, current))
    made = create_room(wanted, reason=reason) if wanted.complete and not keep else None

    def change(fresh: Teleconsultation | None) -> Write:
        if fresh is None:
            raise TeleconsultationNotFound(teleconsultation_id)
        try:
            again = target(fresh)
        except Stale:
            return Write(None)
        if fresh.kaleyra_room_id != old_room or not _fits(again, wanted, made, keep):
            return Write(None)
        if keep:
            links = {member.kaleyra_user_id: member.access_link for member in fresh.participants}
        else:
            links = video_rooms.links_by_user(made[0]) if made else {}
        room_id = old_room if keep else (made[0].id if made else None)
        after = replace(again, kaleyra_room_id=room_id, room_claim=None).with_links(links)
        replaced = old_room and not keep
        return Write(
            after,
            record=(_deletion(old_room, teleconsultation_id, reason),) if replaced else (),
            forget=(made[1],) if made else (),
        )

    try:
        _, after = storage.update(teleconsultation_id, change, actor=actor)
    except BaseException:
        if made:  # an unrecorded room is an orphan
            discard(*made, teleconsultation_id=teleconsultation_id, reason="not stored")
        raise
    if after is None:
        if made:
            discard(*made, teleconsultation_id=teleconsultation_id, reason="concurrent change")
        return None
    if old_room and not keep:
        delete_room(old_room, teleconsultation_id=teleconsultation_id, reason=reason)
    return after


def _same_room(one: Teleconsultation, other: Teleconsultation) -> bool:
    return one.complete and video_rooms.room_signature(
        one.participants, one.start, one.end
    ) == video_rooms.room_signature(other.participants, other.start, other.end)


def _fits(again: Teleconsultation, wanted: Teleconsultation, made, keep: bool) -> bool:
    """Whether the room decided from the first read is the one the fresh record needs."""
    if made:
        return again.complete and _same_room(again, wanted)
    if keep:
        return True  # the room id is unchanged, and `keep` implies the same signature
    return not again.complete


def remove_room(teleconsultation_id: str, *, target, actor: str, reason: str):
    """Writes `target`'s change (e.g. to TRASH) and deletes the visit's room after it; the
    deletion is recorded in the same write, so even a crash right after leaves it known."""
    room_ids = []

    def change(fresh: Teleconsultation | None) -> Write:
        if fresh is None:
            raise TeleconsultationNotFound(teleconsultation_id)
        room_ids[:] = [fresh.kaleyra_room_id] if fresh.kaleyra_room_id else []
        after = replace(target(fresh), kaleyra_room_id=fresh.kaleyra_room_id, room_claim=None)
        return Write(after, record=tuple(_deletion(r, fresh.id, reason) for r in room_ids))

    _, after = get_storage().update(teleconsultation_id, change, actor=actor)
    deleted = all(
        delete_room(room_id, teleconsultation_id=teleconsultation_id, reason=reason)
        for room_id in room_ids
    )
    return after, (room_ids[0] if room_ids else None), deleted


def _deletion(room_id: str, teleconsultation_id: str, reason: str) -> RoomJob:
    return RoomJob(
        kind=JobKind.ROOM_DELETION,
        key=room_id,
        teleconsultation_id=teleconsultation_id,
        reason=reason,
    )


def delete_room(room_id: str, *, teleconsultation_id: str, reason: str) -> bool:
    """Deletes a room on Kaleyra and forgets its pending deletion; on failure records it for
    reconcile. True when the room is gone."""
    storage = get_storage()
    job = _deletion(room_id, teleconsultation_id, reason)
    room_details.forget(room_id)
    try:
        get_video_provider().delete_room(room_id)
    except KaleyraNotFound:
        pass  # already gone: the goal is reached
    except KaleyraError as exc:
        logger.warning(
            "Could not delete Kaleyra room %s (%s); kept for reconcile", room_id, type(exc).__name__
        )
        storage.record_jobs([job])
        storage.job_failed(job, f"{type(exc).__name__}: status {exc.status}")
        return False
    storage.forget_jobs([job])
    return True


def finish_room_deletion(job: RoomJob) -> bool | None:
    """Deletes a room a failure left behind; None when a live visit holds it after all (a write
    that recorded the deletion before its compare-and-set lost), and the job is only forgotten."""
    storage = get_storage()
    if storage.room_in_use(job.key):
        storage.forget_jobs([job])
        return None
    return delete_room(job.key, teleconsultation_id=job.teleconsultation_id, reason=job.reason)
