"""The participants a write brings: counted and checked, resolved (body or user directory),
refused when a complete visit would have no plus user, and given their Kaleyra users."""

from collections.abc import Sequence
from dataclasses import dataclass

from rooms.directory.resolvers import (
    ParticipantInput,
    ResolvedParticipant,
    get_participant_resolver,
)
from rooms.domain import Participant
from rooms.errors import InvalidRequest, NoPlusUser
from rooms.rules import room_spec
from rooms.services.kaleyra_users import kaleyra_users_for

MIN_PARTICIPANTS, MAX_PARTICIPANTS = 2, 25


@dataclass(frozen=True)
class ParticipantsInput:
    number: int
    entries: tuple[ParticipantInput, ...]
    # Where the entries were in the body, so errors name the field the caller actually sent.
    field: str = "participants.data"


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


def members_of(resolved: Sequence[ResolvedParticipant]) -> tuple[Participant, ...]:
    """The participants as stored, each with its Kaleyra user (made now when missing)."""
    user_ids = kaleyra_users_for(resolved)
    return tuple(
        Participant(
            external_id=person.external_id,
            groups=tuple(person.groups),
            full_name=person.full_name,
            language=person.language or "",
            role=person.role.value,
            kaleyra_user_id=user_ids[person.external_id],
        )
        for person in resolved
    )


def resolve(participants: ParticipantsInput, *, headers: dict) -> list[ResolvedParticipant]:
    _check_participants(participants)
    return get_participant_resolver().resolve(
        participants.entries, field=participants.field, request_headers=headers
    )


def refuse_without_plus(people: Sequence, *, number: int, operation: str) -> None:
    """A complete teleconsultation needs a plus user; checked before anything is created."""
    if len(people) == number and not room_spec.has_plus(people):
        raise NoPlusUser(operation)
