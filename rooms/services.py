"""The teleconsultation lifecycle: create, change, add a participant, delete.

Every write follows one pattern, so that no failure half-way leaves an orphaned Kaleyra room or a
lost teleconsultation:
1. read and validate; make sure every participant has a Kaleyra user (safe to repeat);
2. create the new Kaleyra room, if one is needed, outside any database transaction;
3. write under the row lock, checking nothing changed since step 1 (else undo step 2, start over);
4. delete the room that was replaced; a failure there is remembered for `reconcile_rooms`.
Adding the last participant reserves the room creation with a claim instead, so two concurrent
additions never create two rooms (`rooms/additions.py`).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from rooms import video_rooms
from rooms.errors import Conflict, InvalidRequest, Locked, NoPlusUser, TeleconsultationNotFound
from rooms.models import Participant, Teleconsultation
from rooms.participants import ParticipantInput, ResolvedParticipant, get_participant_resolver
from rooms.schedule import ScheduleInput, changed_schedule, new_schedule
from rooms.selectors import is_complete, is_locked
from rooms.storage import get_storage
from rooms.users import kaleyra_users_for

logger = logging.getLogger("teleconsultation.rooms")

MIN_PARTICIPANTS, MAX_PARTICIPANTS = 2, 25
WRITE_ATTEMPTS = 3


@dataclass(frozen=True)
class ParticipantsInput:
    number: int
    entries: tuple[ParticipantInput, ...]
    # Where the entries were in the body, so errors name the field the caller actually sent.
    field: str = "participants.data"


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


def _check_participants(participants: ParticipantsInput) -> None:
    as_ids = participants.field == "participants"  # the AUTH_SERVICE array of user ids
    if not MIN_PARTICIPANTS <= participants.number <= MAX_PARTICIPANTS:
        raise InvalidRequest(
            "participants" if as_ids else "participants.number",
            f"must be between {MIN_PARTICIPANTS} and {MAX_PARTICIPANTS}, got {participants.number}",
        )
    if len(participants.entries) > participants.number:
        raise InvalidRequest(
            participants.field,
            f"has {len(participants.entries)} participants but number is {participants.number}",
        )
    seen = set()
    for index, entry in enumerate(participants.entries):
        if entry.external_id in seen:
            raise InvalidRequest(
                f"{participants.field}[{index}]" + ("" if as_ids else ".userExternalId"),
                f"user {entry.external_id} is listed more than once",
            )
        seen.add(entry.external_id)


def participant_rows(
    resolved: Sequence[ResolvedParticipant], user_ids: dict[str, str], *, first_position: int = 0
) -> list[Participant]:
    return [
        Participant(
            position=first_position + index,
            external_id=person.external_id,
            groups=list(person.groups),
            full_name=person.full_name,
            language=person.language or "",
            role=person.role.value,
            kaleyra_user_id=user_ids[person.external_id],
        )
        for index, person in enumerate(resolved)
    ]


def _resolve(participants: ParticipantsInput, *, headers: dict) -> list[ResolvedParticipant]:
    return get_participant_resolver().resolve(
        participants.entries, field=participants.field, request_headers=headers
    )


def refuse_without_plus(people: Sequence, *, number: int, operation: str) -> None:
    """A complete teleconsultation needs a plus user; checked before anything is created."""
    if len(people) == number and not video_rooms.has_plus(people):
        raise NoPlusUser(operation)


def _apply_links(members: Sequence[Participant], room) -> None:
    links = video_rooms.links_by_user(room) if room else {}
    for member in members:
        member.access_link = links.get(member.kaleyra_user_id, "")


def teleconsultation_create(
    *,
    participants: ParticipantsInput,
    schedule: ScheduleInput,
    actor: str | None,
    headers: dict | None = None,
) -> Teleconsultation:
    """A new teleconsultation; its room is created now if every participant is already known."""
    _check_participants(participants)
    start, end = new_schedule(schedule, now=timezone.now())
    resolved = _resolve(participants, headers=headers or {})
    refuse_without_plus(resolved, number=participants.number, operation="POST /teleconsultation")
    members = participant_rows(resolved, kaleyra_users_for(resolved))
    complete = len(members) == participants.number
    room = video_rooms.create_room(members, start, end) if complete else None
    _apply_links(members, room)
    teleconsultation = Teleconsultation(
        participants_number=participants.number,
        start=start,
        end=end,
        kaleyra_room_id=room.id if room else None,
        created_by=actor_name(actor),
        updated_by=actor_name(actor),
    )
    with video_rooms.discarded_unless_stored(room, teleconsultation_id=teleconsultation.id):
        get_storage().insert(teleconsultation, members)
    log_event(
        teleconsultation.id,
        "scheduled with %d of %d participants, room %s",
        len(members),
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
) -> None:
    """Applies a PATCH; replaces the Kaleyra room only when the change alters it."""
    resolved = None
    if participants is not None:
        _check_participants(participants)
        # Once per request: a retry after a concurrent change must not ask the directory again.
        resolved = _resolve(participants, headers=headers or {})
        refuse_without_plus(
            resolved, number=participants.number, operation="PATCH /teleconsultation"
        )
    for _attempt in range(WRITE_ATTEMPTS):
        if _try_update(teleconsultation_id, participants, resolved, schedule, actor):
            return
    raise Conflict("The teleconsultation was changed by another request meanwhile; try again")


def _try_update(teleconsultation_id, participants, resolved, schedule, actor) -> bool:
    storage = get_storage()
    now = timezone.now()
    current = storage.find(teleconsultation_id)
    if current is None:
        raise TeleconsultationNotFound(teleconsultation_id)
    current_members = list(current.participants.all())
    if is_locked(current, current_members, now=now):
        raise Locked(current.immutable_from)
    start, end = changed_schedule(schedule, start=current.start, end=current.end, now=now)
    if participants is None:
        number, members = current.participants_number, current_members
    else:
        number = participants.number
        members = participant_rows(resolved, kaleyra_users_for(resolved))
    complete = len(members) == number
    if complete and not video_rooms.has_plus(members):
        raise NoPlusUser("PATCH /teleconsultation")
    old_room = current.kaleyra_room_id
    same_room = old_room and video_rooms.room_signature(
        members, start, end
    ) == video_rooms.room_signature(current_members, current.start, current.end)
    new_room = None
    if complete and not same_room:
        new_room = video_rooms.create_room(members, start, end)
    with (
        video_rooms.discarded_unless_stored(new_room, teleconsultation_id=teleconsultation_id),
        storage.locked(teleconsultation_id) as fresh,
    ):
        if fresh is None or fresh.version != current.version:
            stale = True
        else:
            stale = False
            keep_room = bool(complete and same_room)
            if participants is not None:
                if keep_room:
                    links = {m.kaleyra_user_id: m.access_link for m in current_members}
                else:
                    links = video_rooms.links_by_user(new_room) if new_room else {}
                for member in members:
                    member.access_link = links.get(member.kaleyra_user_id, "")
                storage.replace_participants(fresh, members)
            elif new_room:
                storage.set_access_links(fresh, video_rooms.links_by_user(new_room))
            fresh.start, fresh.end, fresh.participants_number = start, end, number
            fresh.kaleyra_room_id = old_room if keep_room else (new_room.id if new_room else None)
            fresh.room_claim = None
            if old_room and not keep_room:
                storage.remember_room_deletion(
                    room_id=old_room, teleconsultation_id=fresh.id, reason="replaced by PATCH"
                )
            storage.save(
                fresh,
                actor=actor_name(actor),
                fields=["start", "end", "participants_number", "kaleyra_room_id", "room_claim"],
            )
    if stale:
        if new_room:
            video_rooms.delete_room(
                new_room.id, teleconsultation_id=teleconsultation_id, reason="concurrent change"
            )
        if fresh is None:
            raise TeleconsultationNotFound(teleconsultation_id)
        return False
    if old_room and old_room != fresh.kaleyra_room_id:
        video_rooms.delete_room(old_room, teleconsultation_id=fresh.id, reason="replaced by PATCH")
    room_now = "kept" if keep_room else (fresh.kaleyra_room_id or "none")
    log_event(fresh.id, "changed, room %s", room_now)
    return True


def teleconsultation_delete(*, teleconsultation_id: str, actor: str | None) -> None:
    """Moves the teleconsultation to TRASH (kept) and deletes its Kaleyra room."""
    storage = get_storage()
    with storage.locked(teleconsultation_id) as teleconsultation:
        if teleconsultation is None:
            raise TeleconsultationNotFound(teleconsultation_id)
        room_id = teleconsultation.kaleyra_room_id
        teleconsultation.state = Teleconsultation.State.TRASH
        teleconsultation.room_claim = None
        if room_id:
            # Recorded in the same transaction: even a crash right after leaves the room known.
            storage.remember_room_deletion(
                room_id=room_id, teleconsultation_id=teleconsultation_id, reason="deleted"
            )
        storage.save(teleconsultation, actor=actor_name(actor), fields=["state", "room_claim"])
    if room_id:
        video_rooms.delete_room(room_id, teleconsultation_id=teleconsultation_id, reason="deleted")
    log_event(teleconsultation_id, "moved to trash")


def recreate_room(*, teleconsultation_id: str, actor: str | None) -> str | None:
    """Gives a complete teleconsultation a fresh Kaleyra room (support and reconcile use it)."""
    storage = get_storage()
    current = storage.find(teleconsultation_id)
    if current is None:
        raise TeleconsultationNotFound(teleconsultation_id)
    members = list(current.participants.all())
    if not is_complete(current, members):
        raise InvalidRequest("participants", "the teleconsultation is not complete yet")
    room = video_rooms.create_room(members, current.start, current.end)
    with (
        video_rooms.discarded_unless_stored(room, teleconsultation_id=teleconsultation_id),
        storage.locked(teleconsultation_id) as fresh,
    ):
        owned = fresh is not None and fresh.version == current.version
        if owned:
            old_room = fresh.kaleyra_room_id
            if old_room:
                storage.remember_room_deletion(
                    room_id=old_room, teleconsultation_id=fresh.id, reason="recreated"
                )
            fresh.kaleyra_room_id, fresh.room_claim = room.id, None
            storage.save(fresh, actor=actor_name(actor), fields=["kaleyra_room_id", "room_claim"])
            storage.set_access_links(fresh, video_rooms.links_by_user(room))
    if not owned:
        video_rooms.delete_room(room.id, teleconsultation_id=teleconsultation_id, reason="stale")
        raise Conflict("The teleconsultation was changed by another request meanwhile; try again")
    if old_room:
        video_rooms.delete_room(
            old_room, teleconsultation_id=teleconsultation_id, reason="recreated"
        )
    log_event(teleconsultation_id, "given a new room %s", room.id)
    return room.id
