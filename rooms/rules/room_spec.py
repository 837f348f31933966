"""The Kaleyra room of a teleconsultation: what it must look like (`rooms.services.room_swap`
makes, replaces and deletes it).

A room is fixed at creation (participants, roles, tools, duration, recording), so a change that
alters any of these means a new room. `room_signature` says whether two versions of a
teleconsultation need different rooms.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from django.conf import settings

from kaleyra.types import ParticipantSpec, Role, Room
from rooms.domain import ERASED_PREFIX
from teleconsultation_project.service_config import get_service_config


class RoomMember(Protocol):
    @property
    def kaleyra_user_id(self) -> str: ...

    @property
    def role(self) -> str: ...


def room_duration(start: datetime, end: datetime) -> int | None:
    """Seconds Kaleyra lets the call last, or None (unlimited) with UNLIMITED_TELECONSULTATION."""
    if settings.UNLIMITED_TELECONSULTATION:
        return None
    return int((end - start).total_seconds())


def participant_specs(members: Sequence[RoomMember]) -> list[ParticipantSpec]:
    config = get_service_config()
    specs = []
    for member in members:
        if member.kaleyra_user_id.startswith(ERASED_PREFIX):
            continue  # erased (`erase_person`): no Kaleyra user, never in a room again
        role = Role(member.role)
        specs.append(
            ParticipantSpec(
                user_id=member.kaleyra_user_id,
                is_admin=role is Role.PLUS,
                tools=dict(config.privileges.tools_for(role)),
            )
        )
    return specs


def recording_mode(recording: str | None) -> str:
    """How the room records its calls: the visit's own choice, else KALEYRA_RECORDING."""
    return recording or settings.KALEYRA_RECORDING


def room_signature(
    members: Sequence[RoomMember], start: datetime, end: datetime, *, recording: str | None
) -> tuple:
    """Everything a Kaleyra room is made of; equal signatures can share one room."""
    specs = participant_specs(members)
    people = sorted(
        (spec.user_id, spec.is_admin, tuple(sorted(spec.tools.items()))) for spec in specs
    )
    return (
        tuple(people),
        room_duration(start, end),
        settings.LIVE_TELECONSULTATION,
        recording_mode(recording),
    )


def has_plus(members: Sequence[RoomMember]) -> bool:
    return any(Role(member.role) is Role.PLUS for member in members)


def links_by_user(room: Room) -> dict[str, str]:
    return {participant.user_id: participant.link for participant in room.participants}
