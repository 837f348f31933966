"""What a participant is before and after resolution, and the Kaleyra role their groups grant.

The bottom of the participant modules: `rooms.directory.resolvers` (body) and
`rooms.directory.lookup` (user directory) both build on it, and it imports neither.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from kaleyra.types import Role
from rooms.errors import InvalidRequest
from teleconsultation_project.service_config import get_service_config


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
