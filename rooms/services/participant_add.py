"""Adding one participant (POST /teleconsultation/{id}/participants/data).

The participant that completes the teleconsultation makes its room. That addition stores the
participant and a *room claim* in one write, then has `rooms.services.room_swap` create the room and
attach it only while the claim is still its own: two concurrent additions never create two rooms.
When the provider fails, the participant is taken out again, so the request can be repeated.
"""

import secrets
from dataclasses import replace

from kaleyra.errors import KaleyraError
from rooms.domain import Teleconsultation, Write
from rooms.errors import Conflict, TeleconsultationNotFound
from rooms.rules import permissions
from rooms.rules.participants import ParticipantInput, refuse_without_plus
from rooms.rules.permissions import Writer
from rooms.services import room_swap
from rooms.services.lifecycle import actor_name, log_event
from rooms.services.participants import members_of, resolve_entries
from rooms.storage import get_storage


def no_plus_operation(teleconsultation_id: str) -> str:
    """The contract's refusal names the teleconsultation's actual id (Mia's text, issue #9)."""
    return f"POST /teleconsultation/{teleconsultation_id}/participants/data"


def participant_add(
    *,
    teleconsultation_id: str,
    entry: ParticipantInput,
    actor: str | None,
    headers: dict | None = None,
    writer: Writer | None = None,
    known: Teleconsultation | None = None,
) -> Teleconsultation:
    """Adds one participant; the one that completes the teleconsultation creates its room.
    `known`: the visit as the API read it to check the caller, not read again."""
    permissions.require_identity(writer)
    storage = get_storage()
    current = known or storage.find(teleconsultation_id)
    if current is None:
        raise TeleconsultationNotFound(teleconsultation_id)
    permissions.require_write(writer, current)
    _check_can_add(current, entry.external_id)
    resolved = resolve_entries([entry], field="body", headers=headers or {})
    # Refused before the newcomer gets a Kaleyra user: a refused request creates nothing.
    refuse_without_plus(
        [*current.participants, *resolved],
        number=current.participants_number,
        operation=no_plus_operation(teleconsultation_id),
    )
    (newcomer,) = members_of(resolved)
    claim = secrets.token_hex(16)

    def add(fresh: Teleconsultation | None) -> Write:
        if fresh is None:
            raise TeleconsultationNotFound(teleconsultation_id)
        permissions.require_write(writer, fresh)
        _check_can_add(fresh, newcomer.external_id)
        members = (*fresh.participants, newcomer)
        refuse_without_plus(
            members,
            number=fresh.participants_number,
            operation=no_plus_operation(teleconsultation_id),
        )
        completes = len(members) == fresh.participants_number
        return Write(replace(fresh, participants=members, room_claim=claim if completes else None))

    _, after = storage.update(teleconsultation_id, add, actor=actor_name(actor))
    if after is None:  # `add` writes the visit or raises: never taken
        raise TeleconsultationNotFound(teleconsultation_id)
    if after.room_claim == claim:
        after = _create_claimed_room(
            teleconsultation_id, claim, added=newcomer.external_id, actor=actor_name(actor)
        )
    log_event(
        teleconsultation_id,
        "has %d of %d participants%s",
        len(after.participants),
        after.participants_number,
        ", room created" if after.kaleyra_room_id else "",
    )
    return after


def _check_can_add(teleconsultation: Teleconsultation, external_id: str) -> None:
    # Only a complete teleconsultation can be locked, so "complete" covers "locked" here too.
    if teleconsultation.complete:
        raise Conflict(
            f"The teleconsultation already has all its {teleconsultation.participants_number} "
            "participants"
        )
    if teleconsultation.participant(external_id) is not None:
        raise Conflict(f"User {external_id} is already a participant")


def _create_claimed_room(
    teleconsultation_id: str, claim: str, *, added: str, actor: str
) -> Teleconsultation:
    """Creates the room reserved by `claim`; on failure takes the added participant back out."""

    def still_claimed(current: Teleconsultation) -> Teleconsultation:
        if current.room_claim != claim:
            raise room_swap.Stale(teleconsultation_id)  # replaced or recreated meanwhile
        return current

    try:
        return room_swap.swap_room(
            teleconsultation_id,
            target=still_claimed,
            actor=actor,
            reason="completed",
            new_room=True,
            attempts=1,
        )
    except (room_swap.Stale, TeleconsultationNotFound):
        current = get_storage().find(teleconsultation_id, include_trash=True)
        if current is None:  # purged meanwhile
            raise TeleconsultationNotFound(teleconsultation_id) from None
        return current
    except KaleyraError:

        def take_back(fresh: Teleconsultation | None) -> Write:
            if fresh is None or fresh.room_claim != claim:
                return Write(None)
            members = tuple(p for p in fresh.participants if p.external_id != added)
            return Write(replace(fresh, participants=members, room_claim=None))

        get_storage().update(teleconsultation_id, take_back, actor=actor)
        raise
