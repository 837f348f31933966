"""The participants of a write, as rules: what a participant is before and after resolution, the
Kaleyra role their groups grant, how many a visit takes, and who they are when the body says it.

`rooms.services.participants` resolves them (from the body here, or from the user directory,
`rooms.directory.lookup`) and gives them their Kaleyra users.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from kaleyra.types import Role
from rooms.errors import InvalidRequest, NoPlusUser
from rooms.rules import room_spec
from teleconsultation_project.service_config import get_service_config

MIN_PARTICIPANTS, MAX_PARTICIPANTS = 2, 25


@dataclass(frozen=True)
class ParticipantInput:
    """A participant as the request gives it; groups and full name may come later."""

    external_id: str
    groups: tuple[str, ...] | None = None
    full_name: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class ParticipantsInput:
    number: int
    entries: tuple[ParticipantInput, ...]
    # Where the entries were in the body, so errors name the field the caller actually sent.
    field: str = "participants.data"


@dataclass(frozen=True)
class ResolvedParticipant:
    external_id: str
    groups: tuple[str, ...]
    full_name: str
    language: str | None
    role: Role


def role_for(*, external_id: str, groups: Sequence[str], field: str) -> Role:
    """The role the groups grant, or a 400 naming the user and the groups that are allowed."""
    config = get_service_config()
    role = config.privileges.role_for(groups)
    if role is None:
        shown = ", ".join(groups) if groups else "none"
        raise InvalidRequest(
            field,
            f"user {external_id} has groups ({shown}) that grant no role; "
            f"allowed groups: {', '.join(config.privileges.allowed_groups())}",
        )
    return role


def check_participants(participants: ParticipantsInput) -> None:
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


def from_body(inputs: Sequence[ParticipantInput], *, field: str) -> list[ResolvedParticipant]:
    """Without AUTH_SERVICE: groups and full name are in the body, required for every entry."""
    resolved = []
    for index, entry in enumerate(inputs):
        where = f"{field}[{index}]"
        if entry.groups is None:
            raise InvalidRequest(f"{where}.groups", "is required when AUTH_SERVICE is not set")
        if not entry.full_name:
            raise InvalidRequest(f"{where}.fullName", "is required when AUTH_SERVICE is not set")
        resolved.append(
            ResolvedParticipant(
                external_id=entry.external_id,
                groups=entry.groups,
                full_name=entry.full_name,
                language=entry.language,
                role=role_for(external_id=entry.external_id, groups=entry.groups, field=where),
            )
        )
    return resolved


def refuse_without_plus(people: Sequence, *, number: int, operation: str) -> None:
    """A complete teleconsultation needs a plus user; checked before anything is created."""
    if len(people) == number and not room_spec.has_plus(people):
        raise NoPlusUser(operation)
