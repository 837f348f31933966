"""The domain objects: what a teleconsultation, a participant, a user mapping, a room job, an
audit entry, a webhook event and a visit's attendance are, as frozen dataclasses, and the shape
of an id.

Services, selectors, admin actions and commands see only these; the storage backends
(`rooms.storage.django`, `rooms.storage.crud`) map them to their records, and `rooms.storage.base`
says what a backend offers. Nothing here does I/O.
"""

import enum
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings


def new_id() -> str:
    """24 lowercase hex characters from a CSPRNG: the shape of a Mia `_id`, never guessable."""
    return secrets.token_hex(12)


class State(enum.StrEnum):
    """Mia's `__STATE__`. DRAFT records (written by Mia's CRUD tools) are read as not live."""

    PUBLIC = "PUBLIC"
    DRAFT = "DRAFT"
    TRASH = "TRASH"


class Lifecycle(enum.StrEnum):
    """Mia's `teleconsultationState`, derived from the record rather than stored twice."""

    WAITING = "WAITING_FOR_PARTICIPANTS"
    READY = "ROOM_READY"
    DELETED = "DELETED"


# The ids of a participant erased (`erase_person`) start with this: `erased-<24 hex>`.
ERASED_PREFIX = "erased-"


@dataclass(frozen=True)
class Participant:
    external_id: str
    groups: tuple[str, ...]
    full_name: str
    role: str  # "plus" | "basic"
    kaleyra_user_id: str
    language: str = ""
    access_link: str = ""


@dataclass(frozen=True)
class Teleconsultation:
    id: str
    participants_number: int
    start: datetime
    end: datetime
    participants: tuple[Participant, ...] = ()
    kaleyra_room_id: str | None = None
    state: State = State.PUBLIC
    # Bumped by every write, in both backends: the calendar feed's SEQUENCE, so a calendar app
    # sees each change (rooms/selectors/calendar.py). The CRUD backend's compare-and-set too: a
    # write applies only over the version it read (the Django backend holds the row lock).
    version: int = 1
    # Set while one request creates the room, so a concurrent one never creates a second.
    room_claim: str | None = None
    # Whether Kaleyra records its calls (none, manual, automatic): None follows KALEYRA_RECORDING.
    recording: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str = ""
    updated_by: str = ""

    @property
    def complete(self) -> bool:
        return len(self.participants) >= self.participants_number

    @property
    def immutable_from(self) -> datetime:
        """From this moment a complete teleconsultation is locked and its links are handed out."""
        return self.start - timedelta(milliseconds=settings.IMMUTABLE_PERIOD_MS)

    def locked(self, *, now: datetime) -> bool:
        return self.complete and now >= self.immutable_from

    @property
    def lifecycle(self) -> Lifecycle:
        if self.state == State.TRASH:
            return Lifecycle.DELETED
        return Lifecycle.READY if self.kaleyra_room_id else Lifecycle.WAITING

    def participant(self, external_id: str) -> Participant | None:
        return next((p for p in self.participants if p.external_id == external_id), None)

    def with_links(self, links: dict[str, str]) -> "Teleconsultation":
        """Each participant's join link by Kaleyra user id ("" for one the room does not know)."""
        members = tuple(
            replace(member, access_link=links.get(member.kaleyra_user_id, ""))
            for member in self.participants
        )
        return replace(self, participants=members)


@dataclass(frozen=True)
class UserMapping:
    """Mia's user id map: an external user id -> the Kaleyra user made for it, with its role."""

    external_id: str
    kaleyra_user_id: str
    role: str


class JobKind(enum.StrEnum):
    # A room that must be deleted on Kaleyra but could not be yet (provider down, crash).
    ROOM_DELETION = "room_deletion"
    # A room about to be created: recorded first, so a lost answer or a dead worker is found.
    ROOM_INTENT = "room_intent"
    # A request sent with an Idempotency-Key: its fingerprint, then the answer to replay.
    IDEMPOTENCY = "idempotency"
    # A support command's run under way (`rooms.services.run_lock`): one at a time, keyed by name.
    RUN_LOCK = "run_lock"
    # A visit's room being swapped (`room_swap.SwapSlot`): one at a time, keyed by id.
    ROOM_SWAP = "room_swap"


# How long an Idempotency-Key replays its first answer; cleanup_teleconsultations erases older ones.
IDEMPOTENCY_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class RoomJob:
    """Bookkeeping that keeps Kaleyra and storage in step: see `JobKind`. `key` is unique per
    kind (the room id for a deletion, the room's tag for an intent)."""

    kind: JobKind
    key: str
    teleconsultation_id: str = ""
    reason: str = ""
    attempts: int = 0
    last_error: str = ""
    # An intent whose request gave up (the provider failed) needs no grace period.
    abandoned: bool = False
    payload: dict | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class Write:
    """What a change function decides: the new record (None: leave it as it is), and the jobs
    to record and to forget with it, atomically where the backend can."""

    teleconsultation: Teleconsultation | None
    record: tuple[RoomJob, ...] = ()
    forget: tuple[RoomJob, ...] = ()


# A change function sees the freshest live record (None when gone or trashed) and returns the
# write to make, or raises to abort it. It may be called more than once (compare-and-set retries).
Change = Callable[[Teleconsultation | None], Write]

# What `update` gives back: the record before and after (None when nothing was written).
Updated = tuple[Teleconsultation | None, Teleconsultation | None]


@dataclass(frozen=True)
class AuditEntry:
    """Who did what, kept apart from the logs (`rooms.services.audit` records them). `detail` is a
    small JSON object of ids and counts, never personal data (no names, no links)."""

    action: str
    actor: str
    outcome: str  # the HTTP status ("201"), or a support outcome ("done", "failed", ...)
    teleconsultation_id: str = ""
    request_id: str = ""
    client_type: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class WebhookEvent:
    """One event Kaleyra posted to `POST /webhooks/kaleyra`, kept as it came (`data` is the
    envelope's `data` object). (`event`, `room_id`, `timestamp`) is unique: a replay is stored once.
    `teleconsultation_id` is the visit that held the room when it came ("" for none)."""

    event: str
    room_id: str
    # The envelope's timestamp; when it has none, the time it came (it then cannot be deduplicated).
    timestamp: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    event_version: str = ""
    namespace: str = ""
    teleconsultation_id: str = ""
    received_at: datetime | None = None
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class Attendee:
    """One participant's time in a visit's calls, from Kaleyra's sessions of its room: the first
    join, the last leave (None while still in a call), the seconds spent in calls and in how many
    sessions. `user_id` is the participant's external id ("" for a Kaleyra user the visit does not
    name any more)."""

    user_id: str
    kaleyra_user_id: str
    joined_at: datetime | None
    left_at: datetime | None
    seconds_in_call: int
    sessions: int


@dataclass(frozen=True)
class Attendance:
    """Who joined a visit's calls, collected after it ended (`rooms.services.attendance`). A
    visit is a no-show when fewer than two participants joined."""

    teleconsultation_id: str
    collected_at: datetime
    attendees: tuple[Attendee, ...] = ()

    @property
    def no_show(self) -> bool:
        return len(self.attendees) < 2


ID_SHAPE = re.compile(r"[0-9a-f]{24}")


def is_teleconsultation_id(value: str) -> bool:
    return bool(ID_SHAPE.fullmatch(value))


@dataclass(frozen=True)
class CalendarStamp:
    """What a calendar feed's ETag is made of, read in one query: the feed's owner, and over
    the visits it shows, how many, the sum of their sequences and the latest write."""

    owner: str
    visits: int
    sequences: int
    latest: datetime | None
