"""Adding one participant (POST /teleconsultation/{id}/participants/data).

The participant that completes the teleconsultation makes its room. That addition stores the
participant and a *room claim* under the row lock, creates the room outside any transaction, then
attaches it only if the claim is still its own: two concurrent additions never create two rooms.
When the provider fails, the participant is taken out again, so the request can be repeated.
"""

import secrets

from kaleyra.errors import KaleyraError
from rooms import video_rooms
from rooms.errors import Conflict, TeleconsultationNotFound
from rooms.participants import ParticipantInput, get_participant_resolver
from rooms.selectors import is_complete
from rooms.services import actor_name, log_event, participant_rows, refuse_without_plus
from rooms.storage import get_storage
from rooms.users import kaleyra_users_for

# The contract's text names the route, not the id.
NO_PLUS_OPERATION = "POST /teleconsultation/{roomId}/participants/data"


def participant_add(
    *,
    teleconsultation_id: str,
    entry: ParticipantInput,
    actor: str | None,
    headers: dict | None = None,
) -> None:
    """Adds one participant; the one that completes the teleconsultation creates its room."""
    storage = get_storage()
    current = storage.find(teleconsultation_id)
    if current is None:
        raise TeleconsultationNotFound(teleconsultation_id)
    known = list(current.participants.all())
    _check_can_add(current, known, entry.external_id)
    resolved = get_participant_resolver().resolve(
        [entry], field="body", request_headers=headers or {}
    )
    # Refused before the newcomer gets a Kaleyra user: a refused request creates nothing.
    refuse_without_plus(
        [*known, *resolved], number=current.participants_number, operation=NO_PLUS_OPERATION
    )
    user_ids = kaleyra_users_for(resolved)
    claim = None
    with storage.locked(teleconsultation_id) as fresh:
        if fresh is None:
            raise TeleconsultationNotFound(teleconsultation_id)
        members = fresh.loaded_participants
        _check_can_add(fresh, members, entry.external_id)
        position = max((m.position for m in members), default=-1) + 1
        (newcomer,) = participant_rows(resolved, user_ids, first_position=position)
        newcomer.teleconsultation = fresh
        members = [*members, newcomer]
        completes = len(members) == fresh.participants_number
        refuse_without_plus(members, number=fresh.participants_number, operation=NO_PLUS_OPERATION)
        storage.add_participant(newcomer)
        if completes:
            claim = fresh.room_claim = secrets.token_hex(16)
        storage.save(fresh, actor=actor_name(actor), fields=["room_claim"])
    if claim:
        _create_claimed_room(
            fresh, members, claim, added=entry.external_id, actor=actor_name(actor)
        )
    log_event(
        teleconsultation_id,
        "has %d of %d participants%s",
        len(members),
        fresh.participants_number,
        ", room created" if claim else "",
    )


def _check_can_add(teleconsultation, members, external_id: str) -> None:
    # Only a complete teleconsultation can be locked, so "complete" covers "locked" here too.
    if is_complete(teleconsultation, members):
        raise Conflict(
            f"The teleconsultation already has all its {teleconsultation.participants_number} "
            "participants"
        )
    if any(member.external_id == external_id for member in members):
        raise Conflict(f"User {external_id} is already a participant")


def _create_claimed_room(teleconsultation, members, claim: str, *, added: str, actor: str) -> None:
    """Creates the room reserved by `claim`; on failure takes the added participant back out."""
    storage = get_storage()
    try:
        room = video_rooms.create_room(members, teleconsultation.start, teleconsultation.end)
    except KaleyraError:
        with storage.locked(teleconsultation.id) as fresh:
            if fresh is not None and fresh.room_claim == claim:
                storage.remove_participant(fresh, added)
                fresh.room_claim = None
                storage.save(fresh, actor=actor, fields=["room_claim"])
        raise
    with (
        video_rooms.discarded_unless_stored(room, teleconsultation_id=teleconsultation.id),
        storage.locked(teleconsultation.id) as fresh,
    ):
        owned = fresh is not None and fresh.room_claim == claim
        if owned:
            fresh.kaleyra_room_id, fresh.room_claim = room.id, None
            storage.save(fresh, actor=actor, fields=["kaleyra_room_id", "room_claim"])
            storage.set_access_links(fresh, video_rooms.links_by_user(room))
    if not owned:  # replaced or deleted meanwhile: this room belongs to no one
        video_rooms.delete_room(room.id, teleconsultation_id=teleconsultation.id, reason="stale")
