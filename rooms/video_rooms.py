"""The Kaleyra room of a teleconsultation: what it must look like, creating and deleting it.

A room is fixed at creation (participants, roles, tools, duration), so a change that alters any
of these means a new room. `room_signature` says whether two versions of a teleconsultation need
different rooms. Deleting a room never fails silently: when the provider does not answer, the room
is remembered in `PendingRoomDeletion` for `reconcile_rooms`.
"""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Protocol

from django.conf import settings

from kaleyra.errors import KaleyraError, KaleyraNotFound
from kaleyra.provider import get_video_provider
from kaleyra.types import ParticipantSpec, Role, Room
from rooms.storage import get_storage
from teleconsultation_project.service_config import get_service_config

logger = logging.getLogger("teleconsultation.rooms")


class RoomMember(Protocol):
    kaleyra_user_id: str
    role: str


def room_duration(start: datetime, end: datetime) -> int | None:
    """Seconds Kaleyra lets the call last, or None (unlimited) with UNLIMITED_TELECONSULTATION."""
    if settings.UNLIMITED_TELECONSULTATION:
        return None
    return int((end - start).total_seconds())


def participant_specs(members: Sequence[RoomMember]) -> list[ParticipantSpec]:
    config = get_service_config()
    specs = []
    for member in members:
        role = Role(member.role)
        specs.append(
            ParticipantSpec(
                user_id=member.kaleyra_user_id,
                is_admin=role is Role.PLUS,
                tools=dict(config.tools_for(role)),
            )
        )
    return specs


def room_signature(members: Sequence[RoomMember], start: datetime, end: datetime) -> tuple:
    """Everything a Kaleyra room is made of; equal signatures can share one room."""
    specs = participant_specs(members)
    people = sorted(
        (spec.user_id, spec.is_admin, tuple(sorted(spec.tools.items()))) for spec in specs
    )
    return (tuple(people), room_duration(start, end), settings.LIVE_TELECONSULTATION)


def has_plus(members: Sequence[RoomMember]) -> bool:
    return any(Role(member.role) is Role.PLUS for member in members)


def create_room(members: Sequence[RoomMember], start: datetime, end: datetime) -> Room:
    room = get_video_provider().create_room(
        participants=participant_specs(members),
        duration=room_duration(start, end),
        live=settings.LIVE_TELECONSULTATION,
    )
    logger.info("Created Kaleyra room %s for %d participants", room.id, len(members))
    return room


def links_by_user(room: Room) -> dict[str, str]:
    return {participant.user_id: participant.link for participant in room.participants}


def delete_room(room_id: str, *, teleconsultation_id: str, reason: str) -> bool:
    """Deletes a room on Kaleyra; on failure remembers it for reconcile. True when it is gone.

    Callers that must record the deletion atomically with their own write call
    `storage.remember_room_deletion` inside their transaction first; this then clears it.
    """
    storage = get_storage()
    try:
        get_video_provider().delete_room(room_id)
    except KaleyraNotFound:
        pass  # already gone: the goal is reached
    except KaleyraError as exc:
        logger.warning(
            "Could not delete Kaleyra room %s (%s); kept for reconcile", room_id, type(exc).__name__
        )
        storage.remember_room_deletion(
            room_id=room_id, teleconsultation_id=teleconsultation_id, reason=reason
        )
        storage.room_deletion_failed(room_id, f"{type(exc).__name__}: status {exc.status}")
        return False
    storage.forget_room_deletion(room_id)
    return True


@contextmanager
def discarded_unless_stored(room: Room | None, *, teleconsultation_id: str) -> Iterator[None]:
    """Deletes `room` when the block that stores it fails: an unrecorded room is an orphan."""
    try:
        yield
    except BaseException:
        if room is not None:
            delete_room(room.id, teleconsultation_id=teleconsultation_id, reason="not stored")
        raise
