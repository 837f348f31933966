"""The storage contract: the domain objects every backend takes and returns, and the interface.

Services, selectors, admin actions and commands see only these frozen dataclasses; the Django
backend (`rooms.storage.django`) and the CRUD Service backend (`rooms.storage.crud`) map them to
their records. A write is a *change function* applied to the freshest record under the backend's
concurrency control (a row lock, or compare-and-set on `version`), so it can re-check what it read.
"""

import enum
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings

from teleconsultation_project.errors import ApiError


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
    # The CRUD backend's compare-and-set: each write bumps it and applies only over the version
    # it read. The Django backend holds the row lock instead and keeps none (always 1).
    version: int = 1
    # Set while one request creates the room, so a concurrent one never creates a second.
    room_claim: str | None = None
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
    # An item a support command is working on, so another host's run skips it meanwhile.
    LEASE = "lease"


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


class StorageUnavailable(ApiError):
    """The backend could not be reached or answered badly: a 503 for API callers, in the error
    shape, naming the storage and never echoing its answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"The teleconsultation storage is unavailable ({reason}); try again later", status=503
        )


class Storage(Protocol):
    # Whether the bulk methods (`update_many`, `take_leases`, ...) write a chunk in a few
    # statements; when not, they loop, and the support commands handle items one at a time.
    bulk_writes: bool

    # --- teleconsultations -----------------------------------------------------------------
    def find(
        self, teleconsultation_id: str, *, include_trash: bool = False
    ) -> Teleconsultation | None: ...

    def insert(
        self, teleconsultation: Teleconsultation, *, forget: Sequence[RoomJob] = ()
    ) -> Teleconsultation: ...

    def update(
        self, teleconsultation_id: str, change: Change, *, actor: str
    ) -> tuple[Teleconsultation | None, Teleconsultation | None]:
        """Applies `change` to the freshest record; (before, after) — after is None when the
        change wrote nothing."""
        ...

    def update_many(
        self, changes: Mapping[str, Change], *, actor: str
    ) -> dict[str, Updated | ApiError]:
        """`update` of each teleconsultation with its own change function, in one transaction
        where the backend has them (support commands write a chunk of items at once). A change
        that refuses (raises an ApiError) leaves its record alone and is given back as its
        result; the others are written."""
        ...

    # --- user map ----------------------------------------------------------------------------
    def mappings_for(self, external_ids: Iterable[str]) -> dict[str, UserMapping]: ...

    def save_mappings(
        self, *, created: Sequence[UserMapping], role_changed: Sequence[UserMapping]
    ) -> None: ...

    # --- room jobs ---------------------------------------------------------------------------
    def record_jobs(self, jobs: Sequence[RoomJob]) -> None: ...

    def record_job_once(self, job: RoomJob) -> RoomJob | None:
        """Records `job` unless one with its kind and key exists: None when recorded, else the
        job already there."""
        ...

    def take_leases(self, names: Sequence[str], *, stale_before: datetime) -> set[str]:
        """Records a lease job for each name no other run holds (a lease recorded before
        `stale_before` is a dead run's, and is taken over); the names now held by the caller.
        Released with `forget_jobs`."""
        ...

    def recorded_job_keys(self, kind: JobKind, keys: Sequence[str]) -> set[str]:
        """Those of `keys` still recorded as jobs of `kind`."""
        ...

    def set_job_payload(self, job: RoomJob, payload: dict) -> None: ...

    def purge_jobs(self, kind: JobKind, *, created_before: datetime) -> int: ...

    def forget_jobs(self, jobs: Sequence[RoomJob]) -> None: ...

    def job_failed(self, job: RoomJob, error: str) -> None: ...

    def abandon_job(self, job: RoomJob) -> None: ...

    def jobs_of(self, teleconsultation_id: str, kind: JobKind) -> list[RoomJob]: ...

    def count_jobs(self, kind: JobKind) -> int: ...

    def job_batches(
        self, kind: JobKind, *, created_before: datetime | None = None, batch_size: int = 100
    ) -> Iterator[list[RoomJob]]: ...

    # --- support work --------------------------------------------------------------------------
    def count_teleconsultations(self, **selection) -> int: ...

    def teleconsultation_id_batches(
        self, *, batch_size: int = 100, **selection
    ) -> Iterator[list[str]]: ...

    def erase_trashed(self, teleconsultation_ids: Sequence[str]) -> list[str]: ...

    def complete_without_room_batches(
        self, *, claimed_before: datetime, ends_after: datetime, batch_size: int = 100
    ) -> Iterator[list[str]]: ...

    def count_complete_without_room(
        self, *, claimed_before: datetime, ends_after: datetime
    ) -> int: ...

    def room_in_use(self, room_id: str) -> bool:
        """Whether a live teleconsultation holds this room (a deletion must then not happen)."""
        ...

    def rooms_in_use(self, room_ids: Sequence[str]) -> set[str]:
        """Those of the rooms a live teleconsultation holds (`room_in_use` of many at once)."""
        ...

    # --- audit trail and agenda (issue #13) --------------------------------------------------
    def record_audit(self, entry: AuditEntry) -> None: ...

    def record_audits(self, entries: Sequence[AuditEntry]) -> None:
        """`record_audit` of many entries, in one write where the backend can."""
        ...

    def audit_entries(
        self,
        *,
        since: datetime,
        until: datetime | None = None,
        teleconsultation_id: str | None = None,
        batch_size: int = 500,
    ) -> Iterator[list[AuditEntry]]:
        """Entries recorded in [since, until), oldest first, keyset-paged on (at, id)."""
        ...

    def purge_audit(self, older_than: datetime) -> int:
        """Erases the entries recorded before `older_than`; how many."""
        ...

    def agenda_page(
        self,
        external_id: str,
        *,
        ends_after: datetime,
        starts_before: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Teleconsultation]:
        """Up to `limit` live teleconsultations of one participant, still running at
        `ends_after` and starting before `starts_before`, in (start, id) order after `after`."""
        ...

    # --- Kaleyra webhooks (issue #13) --------------------------------------------------------
    def find_by_room(self, room_id: str, *, include_trash: bool = False) -> Teleconsultation | None:
        """The live teleconsultation holding this Kaleyra room (any, with `include_trash`)."""
        ...

    def record_webhook_event(self, event: WebhookEvent) -> bool:
        """Stores `event`; False, and nothing stored, when one with the same (event, room_id,
        timestamp) is there already."""
        ...

    def forget_webhook_event(self, event: WebhookEvent) -> None:
        """Erases a recorded event (its handling failed: the sender's retry must be handled)."""
        ...

    def webhook_events(
        self, *, teleconsultation_id: str, event: str | None = None, limit: int = 100
    ) -> list[WebhookEvent]:
        """Up to `limit` events linked to a teleconsultation (of one kind with `event`), oldest
        first."""
        ...

    def purge_webhook_events(self, older_than: datetime) -> int:
        """Erases the events received before `older_than`; how many. (A replay that old is
        refused by its signature's timestamp before any lookup, so nothing relies on them.)"""
        ...


# --- one at a time: what a backend without multi-row writes does for the bulk methods ---------


def update_each(
    storage: Storage, changes: Mapping[str, Change], *, actor: str
) -> dict[str, Updated | ApiError]:
    """`update_many` as one `update` per record."""
    results: dict[str, Updated | ApiError] = {}
    for teleconsultation_id, change in changes.items():
        try:
            results[teleconsultation_id] = storage.update(teleconsultation_id, change, actor=actor)
        except ApiError as refusal:
            results[teleconsultation_id] = refusal
    return results


def take_leases_each(storage: Storage, names: Sequence[str], *, stale_before: datetime) -> set[str]:
    """`take_leases` as one `record_job_once` per name."""
    held = set()
    for name in names:
        lease = RoomJob(kind=JobKind.LEASE, key=name[:128])
        other = storage.record_job_once(lease)
        if other is not None and other.created_at < stale_before:
            storage.forget_jobs([other])  # its run died
            other = storage.record_job_once(lease)
        if other is None:
            held.add(name)
    return held
