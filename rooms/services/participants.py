"""The participants a write brings: checked, resolved (from the body, or from the user directory
in AUTH_SERVICE mode) and given their Kaleyra users (`members_of` makes the missing ones)."""

from collections.abc import Sequence

from django.conf import settings

from rooms.domain import Participant
from rooms.rules.participants import (
    ParticipantInput,
    ParticipantsInput,
    ResolvedParticipant,
    check_participants,
    from_body,
)
from rooms.services.kaleyra_users import kaleyra_users_for


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
    check_participants(participants)
    return resolve_entries(participants.entries, field=participants.field, headers=headers)


def resolve_entries(
    entries: Sequence[ParticipantInput], *, field: str, headers: dict
) -> list[ResolvedParticipant]:
    """Who each entry is: from the body, or from the user directory with AUTH_SERVICE."""
    if not settings.AUTH_SERVICE:
        return from_body(entries, field=field)
    from rooms.directory.lookup import DirectoryResolver  # only AUTH_SERVICE reads the directory

    return DirectoryResolver().resolve(entries, field=field, request_headers=headers)
