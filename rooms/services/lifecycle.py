"""The teleconsultation lifecycle: create, change, delete, and a fresh room for support work.

Each write reads and validates, makes sure every participant has a Kaleyra user (safe to repeat),
then lets `rooms.services.room_swap` create, replace or delete the Kaleyra room, so no failure
half-way leaves an orphaned room or a lost teleconsultation. Adding a participant is
`rooms.services.participant_add`.
"""

import logging
from collections.abc import Sequence
from dataclasses import replace

from django.utils import timezone

from rooms.domain import Participant, Teleconsultation
from rooms.errors import Conflict, InvalidRequest, Locked, TeleconsultationNotFound
from rooms.rules import permissions, room_spec
from rooms.rules.participants import ParticipantsInput, refuse_without_plus
from rooms.rules.permissions import Writer
from rooms.rules.schedule import ScheduleInput, changed_schedule, new_schedule
from rooms.services import room_swap
from rooms.services.participants import members_of, members_with, resolve, start_users
from rooms.storage import get_storage
from teleconsultation_project.errors import ApiError

logger = logging.getLogger("teleconsultation.rooms")

CHANGED_MEANWHILE = "The teleconsultation was changed by another request meanwhile; try again"


def log_event(teleconsultation_id: str, message: str, *args) -> None:
    """One line per lifecycle event, tagged with the id (never names: they are personal data)."""
    logger.info(
        "Teleconsultation %s " + message,
        teleconsultation_id,
        *args,
        extra={"teleconsultation": teleconsultation_id},
    )


def actor_name(actor: str | None) -> str:
    return actor or "public"  # as Mia's CRUD Service records anonymous writers


def teleconsultation_create(
    *,
    participants: ParticipantsInput,
    schedule: ScheduleInput,
    actor: str | None,
    headers: dict | None = None,
    writer: Writer | None = None,
    recording: str | None = None,
) -> Teleconsultation:
    """A new teleconsultation; its room is created now if every participant is already known.
    `recording` is the visit's own recording mode (None: KALEYRA_RECORDING)."""
    permissions.require_create(writer)
    start, end = new_schedule(schedule, now=timezone.now())
    resolved = resolve(participants, headers=headers or {})
    refuse_without_plus(resolved, number=participants.number, operation="POST /teleconsultation")
    # The users' calls and the room's each wait a provider round trip: the room's intent is
    # recorded while the users are made, and the user map written while the room is made.
    users = start_users(resolved)
    made = None
    with room_swap.Heartbeat() as heartbeat:
        intent = None
        try:
            if len(resolved) >= participants.number:  # complete: its room is made now
                intent = room_swap.record_intent("", reason="created", heartbeat=heartbeat)
            user_ids = users.wait()
        except BaseException:
            if intent is not None:  # no room was asked for
                get_storage().forget_jobs([intent])
            raise
        teleconsultation = Teleconsultation(
            id="",  # given by the storage backend
            participants_number=participants.number,
            start=start,
            end=end,
            participants=members_with(resolved, user_ids),
            recording=recording,
            created_by=actor_name(actor),
            updated_by=actor_name(actor),
        )
        if intent is None:
            users.record()
        else:
            meanwhile = users.record if users.news else None
            room = room_swap.create_room_while(teleconsultation, intent, meanwhile=meanwhile)
            made = room, intent
            teleconsultation = replace(teleconsultation, kaleyra_room_id=room.id).with_links(
                room_spec.links_by_user(room)
            )
        try:
            teleconsultation = get_storage().insert(
                teleconsultation, forget=[made[1]] if made else []
            )
        except BaseException:
            if made:  # an unrecorded room is an orphan
                room_swap.discard(*made, teleconsultation_id="", reason="not stored")
            raise
    log_event(
        teleconsultation.id,
        "scheduled with %d of %d participants, room %s",
        len(teleconsultation.participants),
        participants.number,
        teleconsultation.kaleyra_room_id or "not yet",
    )
    return teleconsultation


def teleconsultation_update(
    *,
    teleconsultation_id: str,
    participants: ParticipantsInput | None,
    schedule: ScheduleInput,
    actor: str | None,
    headers: dict | None = None,
    writer: Writer | None = None,
    known: Teleconsultation | None = None,
    recording: str | None = None,
) -> Teleconsultation:
    """Applies a PATCH; replaces the Kaleyra room only when the change alters it (a new
    `recording` mode does: a room records as it was made to; None leaves it as it is). `known`:
    the visit as the API read it to check the caller, not read again."""
    permissions.require_identity(writer)
    # Set when the PATCH brings participants: `found` at once, `members` once the request is
    # known to be acceptable.
    found: Teleconsultation | None = None
    members: tuple[Participant, ...] | None = None
    if participants is not None:
        # Who may write is known before the directory is asked or any Kaleyra user is made.
        found = known or get_storage().find(teleconsultation_id)
        if found is None:
            raise TeleconsultationNotFound(teleconsultation_id)
        permissions.require_write(writer, found)
        # Once per request: a retry after a concurrent change must not ask the directory again.
        resolved = resolve(participants, headers=headers or {})
        refuse_without_plus(
            resolved, number=participants.number, operation="PATCH /teleconsultation"
        )

    def target(current: Teleconsultation) -> Teleconsultation:
        permissions.require_write(writer, current)
        now = timezone.now()
        if current.locked(now=now):
            raise Locked(current.immutable_from)
        start, end = changed_schedule(schedule, start=current.start, end=current.end, now=now)
        changed = replace(current, start=start, end=end)
        if recording is not None:
            changed = replace(changed, recording=recording)
        if participants is not None and members is not None:
            changed = replace(
                changed, participants=members, participants_number=participants.number
            )
        return changed

    if found is not None:
        # Kaleyra users are made only once the request is known to be acceptable.
        target(found)
        members = members_of(resolved)
    try:
        after = room_swap.swap_room(
            teleconsultation_id, target=target, actor=actor_name(actor), reason="replaced by PATCH"
        )
    except room_swap.Stale:
        raise Conflict(CHANGED_MEANWHILE) from None
    log_event(teleconsultation_id, "changed, room %s", after.kaleyra_room_id or "none")
    return after


def teleconsultation_delete(
    *, teleconsultation_id: str, actor: str | None, writer: Writer | None = None
) -> bool | None:
    """Moves the teleconsultation to TRASH (kept) and deletes its Kaleyra room: True when the room
    is gone, False when it could not be deleted now (recorded for `reconcile_rooms`), None when
    there was no room."""
    permissions.require_identity(writer)
    _, room_id, deleted = room_swap.remove_room(
        teleconsultation_id, writer=writer, actor=actor_name(actor), reason="deleted"
    )
    log_event(teleconsultation_id, "moved to trash")
    return deleted if room_id else None


def teleconsultations_delete(*, teleconsultation_ids: Sequence[str], actor: str | None, pool):
    """`teleconsultation_delete` of a chunk, for support work (no writer to check): every visit
    moved to TRASH in one write with its room's deletion, then the rooms deleted on `pool`
    while the caller goes on (`room_swap.RoomDeletions.settle` says how it went). Each visit's
    room id (None: it had none), or why it was refused."""
    removed, deletions = room_swap.remove_rooms(
        teleconsultation_ids, actor=actor_name(actor), reason="deleted", pool=pool
    )
    for teleconsultation_id, room_id in removed.items():
        if not isinstance(room_id, ApiError):
            log_event(teleconsultation_id, "moved to trash")
    return removed, deletions


def recreate_room(*, teleconsultation_id: str, actor: str | None) -> str | None:
    """Gives a complete teleconsultation a fresh Kaleyra room (support and reconcile use it)."""

    def target(current: Teleconsultation) -> Teleconsultation:
        if not current.complete:
            raise InvalidRequest("participants", "the teleconsultation is not complete yet")
        return current

    try:
        after = room_swap.swap_room(
            teleconsultation_id,
            target=target,
            actor=actor_name(actor),
            reason="recreated",
            new_room=True,
            attempts=1,
        )
    except room_swap.Stale:
        raise Conflict(CHANGED_MEANWHILE) from None
    log_event(teleconsultation_id, "given a new room %s", after.kaleyra_room_id)
    return after.kaleyra_room_id
