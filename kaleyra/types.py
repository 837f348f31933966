"""Kaleyra's roles and tools, who is given them (`Privileges`), and the typed, immutable results
of Kaleyra calls; the wire module builds those at the boundary."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """Kaleyra user roles: only `plus` users may make a room exist (and consume a licence)."""

    BASIC = "basic"
    PLUS = "plus"


TOOL_KEYS = (
    "chat",
    "screen_sharing",
    "file_upload",
    "whiteboard",
    "snapshot",
    "live_edit",
    "live_pointer",
    "present_to_everyone",
)


@dataclass(frozen=True)
class Privilege:
    """One Kaleyra role as the service configuration gives it (Mia's `privileges.basic`, `.plus`):
    the groups that get it (plain names: where they come from is the caller's business) and the
    tools its participants may use in a room."""

    groups: frozenset[str]
    tools: Mapping[str, bool]


@dataclass(frozen=True)
class Privileges:
    basic: Privilege
    plus: Privilege

    def role_for(self, groups: Iterable[str]) -> Role | None:
        """Plus when any group is a plus group, else basic when any is basic, else None."""
        groups = set(groups)
        if groups & self.plus.groups:
            return Role.PLUS
        if groups & self.basic.groups:
            return Role.BASIC
        return None

    def tools_for(self, role: Role) -> Mapping[str, bool]:
        return (self.plus if role is Role.PLUS else self.basic).tools

    def allowed_groups(self) -> list[str]:
        return sorted(self.plus.groups | self.basic.groups)


@dataclass(frozen=True)
class ParticipantSpec:
    """One participant asked for when creating a room."""

    user_id: str
    is_admin: bool
    tools: Mapping[str, bool]


@dataclass(frozen=True)
class KaleyraUser:
    id: str
    role: Role | None


@dataclass(frozen=True)
class RoomParticipant:
    user_id: str
    is_admin: bool
    link: str


@dataclass(frozen=True)
class Room:
    id: str
    participants: tuple[RoomParticipant, ...]
    recording: str | None = None
    recording_status: str | None = None
    call_type: str | None = None
    description: str | None = None
    status: str | None = None
    disabled: bool | None = None
    creation_date: datetime | None = None
    duration: int | None = None
    duration_used: int | None = None
    live: bool | None = None

    def link_for(self, user_id: str) -> str | None:
        """The personal join link of `user_id`, or None when not a participant."""
        for participant in self.participants:
            if participant.user_id == user_id:
                return participant.link
        return None


@dataclass(frozen=True)
class Upload:
    key: str
    user_id: str | None
    room_id: str | None
    session_id: str | None
    upload_type: str | None
    creation_date: datetime | None


@dataclass(frozen=True)
class SessionParticipant:
    """Someone who was in a session: when they joined and left (None while still in it)."""

    user_id: str
    join_date: datetime | None
    leave_date: datetime | None


@dataclass(frozen=True)
class RoomSession:
    """One call held in a room (a room has a session each time people meet in it); recordings
    and uploads belong to sessions."""

    id: str
    room_id: str | None
    start_date: datetime | None
    end_date: datetime | None
    participants: tuple[SessionParticipant, ...] = ()


@dataclass(frozen=True)
class RecordingLink:
    """A temporary download link of a session's recording: a secret, shown, never logged."""

    session_id: str
    url: str
    room_id: str | None
    expires_in: int | None
    expiration_date: datetime | None


@dataclass(frozen=True)
class SdkCredentials:
    access_token: str
    expires_at: datetime
    user_id: str


@dataclass(frozen=True)
class Company:
    name: str | None
    default_language: str | None
    default_background: str | None
    end_call_redirect_url: str | None
    user_details_provider_url: str | None
    end_call_redirect_timeout_ms: int | None


@dataclass(frozen=True)
class VirtualBackground:
    background_alias: str
    url: str
    creation_date: datetime | None


@dataclass(frozen=True)
class Webhook:
    """A registered webhook: where Kaleyra posts events, and which ones."""

    id: str | None
    url: str | None
    events: tuple[str, ...]
