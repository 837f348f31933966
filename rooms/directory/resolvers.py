"""Who the participants are: from the request body, or (AUTH_SERVICE mode) from the user directory.

A resolver turns what the caller sent into `ResolvedParticipant`s with groups, full name and the
Kaleyra role their groups grant. The endpoints never know which resolver is in use.
"""

from collections.abc import Sequence
from typing import Protocol

from django.conf import settings

from rooms.directory.lookup import DirectoryResolver
from rooms.errors import InvalidRequest
from rooms.rules.participants import ParticipantInput, ResolvedParticipant, role_for

__all__ = [
    "BodyResolver",
    "ParticipantInput",
    "ParticipantResolver",
    "ResolvedParticipant",
    "get_participant_resolver",
    "role_for",
]


class ParticipantResolver(Protocol):
    def resolve(
        self, inputs: Sequence[ParticipantInput], *, field: str, request_headers: dict
    ) -> list[ResolvedParticipant]: ...


class BodyResolver:
    """Without AUTH_SERVICE: groups and full name are in the body, required for every entry."""

    def resolve(
        self, inputs: Sequence[ParticipantInput], *, field: str, request_headers: dict
    ) -> list[ResolvedParticipant]:
        resolved = []
        for index, entry in enumerate(inputs):
            where = f"{field}[{index}]"
            if entry.groups is None:
                raise InvalidRequest(f"{where}.groups", "is required when AUTH_SERVICE is not set")
            if not entry.full_name:
                raise InvalidRequest(
                    f"{where}.fullName", "is required when AUTH_SERVICE is not set"
                )
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


def get_participant_resolver() -> ParticipantResolver:
    if settings.AUTH_SERVICE:
        return DirectoryResolver()
    return BodyResolver()
