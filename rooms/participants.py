"""Who the participants are: from the request body, or (AUTH_SERVICE mode) from the user directory.

A resolver turns what the caller sent into `ResolvedParticipant`s with groups, full name and the
Kaleyra role their groups grant. The endpoints never know which resolver is in use.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from kaleyra.types import Role
from rooms.errors import InvalidRequest
from teleconsultation_project.service_config import get_service_config

LANGUAGES = ("en", "it", "pl", "fr", "de")


@dataclass(frozen=True)
class ParticipantInput:
    """A participant as the request gives it; groups and full name may come later."""

    external_id: str
    groups: tuple[str, ...] | None = None
    full_name: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class ResolvedParticipant:
    external_id: str
    groups: tuple[str, ...]
    full_name: str
    language: str | None
    role: Role


class ParticipantResolver(Protocol):
    def resolve(
        self, inputs: Sequence[ParticipantInput], *, field: str, request_headers: dict
    ) -> list[ResolvedParticipant]: ...


def role_for(*, external_id: str, groups: Sequence[str], field: str) -> Role:
    """The role the groups grant, or a 400 naming the user and the groups that are allowed."""
    config = get_service_config()
    role = config.role_for(groups)
    if role is None:
        shown = ", ".join(groups) if groups else "none"
        raise InvalidRequest(
            field,
            f"user {external_id} has groups ({shown}) that grant no role; "
            f"allowed groups: {', '.join(config.allowed_groups())}",
        )
    return role


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
        from rooms.directory import DirectoryResolver

        return DirectoryResolver()
    return BodyResolver()
