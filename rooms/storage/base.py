"""The storage contract: what a backend offers, one Protocol per concern, and `Storage`, all of
them together.

A write is a *change function* applied to the freshest record under the backend's concurrency
control (a row lock, or compare-and-set on `version`), so it can re-check what it read. Reads and
writes take and return `rooms.domain`'s objects.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from rooms.domain import (
    Attendance,
    AuditEntry,
    CalendarStamp,
    Change,
    JobKind,
    Participant,
    RoomJob,
    Teleconsultation,
    Updated,
    UserMapping,
    WebhookEvent,
)
from teleconsultation_project.errors import ApiError


class StorageUnavailable(ApiError):
    """The backend could not be reached or answered badly: a 503 for API callers, in the error
    shape, naming the storage and never echoing its answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"The teleconsultation storage is unavailable ({reason}); try again later", status=503
        )


class Visits(Protocol):
    """The teleconsultations: Mia's `teleconsultations` collection."""

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

    def find_by_room(self, room_id: str, *, include_trash: bool = False) -> Teleconsultation | None:
        """The live teleconsultation holding this Kaleyra room (any, with `include_trash`)."""
        ...

    def display_names(self, kaleyra_user_ids: Sequence[str]) -> dict[str, str]:
        """Kaleyra user id -> the full name that user has in the live teleconsultation last
        written among those they take part in; users in none (trashed ones do not count), or
        nameless there, are left out. One query (the Django backend), one list call (CRUD) unless
        a page of records leaves some users unnamed."""
        ...


class UserMap(Protocol):
    """External user id -> Kaleyra user: Mia's user id map collection."""

    def mappings_for(self, external_ids: Iterable[str]) -> dict[str, UserMapping]: ...

    def save_mappings(
        self, *, created: Sequence[UserMapping], role_changed: Sequence[UserMapping]
    ) -> None: ...


class Jobs(Protocol):
    """The room bookkeeping that keeps Kaleyra and the records in step (`JobKind`)."""

    def record_jobs(self, jobs: Sequence[RoomJob]) -> None: ...

    def record_job_once(self, job: RoomJob) -> RoomJob | None:
        """Records `job` unless one with its kind and key exists: None when recorded, else the
        job already there."""
        ...

    def find_job(self, kind: JobKind, key: str) -> RoomJob | None:
        """The job of that kind and key, if there is one."""
        ...

    def forget_stale_job(self, job: RoomJob, *, stale_before: datetime) -> bool:
        """Forgets the job of `job`'s kind and key only if it was last written before
        `stale_before` (a dead run's lock); whether it did. Two runs taking over the same stale
        job never both succeed."""
        ...

    def set_job_payload(self, job: RoomJob, payload: dict) -> None: ...

    def renew_held_job(self, job: RoomJob) -> bool:
        """Marks a held job (a run lock, a swap slot, a room intent) alive, its update time now,
        while the run that took it holds it (the same `payload["run"]`); False when another run
        has taken it over."""
        ...

    def release_held_job(self, job: RoomJob) -> None:
        """Forgets a held job, unless another run has taken it over meanwhile."""
        ...

    def purge_jobs(self, kind: JobKind, *, created_before: datetime) -> int: ...

    def forget_jobs(self, jobs: Sequence[RoomJob]) -> None: ...

    def job_failed(self, job: RoomJob, error: str) -> None: ...

    def abandon_job(self, job: RoomJob) -> None: ...

    def count_jobs(self, kind: JobKind) -> int: ...

    def job_batches(
        self,
        kind: JobKind,
        *,
        created_before: datetime | None = None,
        renewed_before: datetime | None = None,
        batch_size: int = 100,
    ) -> Iterator[list[RoomJob]]:
        """Jobs of a kind, fewest attempts first. With `created_before`, only the abandoned ones
        and those created before it; with `renewed_before` too, a held job (`payload["run"]`) is
        chosen by its last renewal instead: before `renewed_before`."""
        ...


class SupportQueries(Protocol):
    """What the support commands select and erase, a batch at a time."""

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


class AuditTrail(Protocol):
    """Who did what, kept apart from the logs."""

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


class Agenda(Protocol):
    """A participant's own visits, a page at a time."""

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


class CalendarFeeds(Protocol):
    """Each person's calendar feed, known by its secret's SHA-256 (rooms/selectors/calendar.py)."""

    def save_calendar_feed(self, external_id: str, secret_hash: str) -> None:
        """Gives `external_id` the feed of this secret, replacing the one they had."""
        ...

    def revoke_calendar_feed(self, external_id: str) -> bool:
        """Forgets the feed of `external_id`; whether there was one."""
        ...

    def calendar_feed_made(self, external_id: str) -> datetime | None:
        """When the feed `external_id` has now was made; None when they have none."""
        ...

    def calendar_stamp(self, secret_hash: str, *, ends_after: datetime) -> CalendarStamp | None:
        """The feed of this secret's owner and what its visits (live or trashed, ending after
        `ends_after`) add up to; None when no feed has this secret. One query on a database."""
        ...

    def calendar_visits(
        self, external_id: str, *, ends_after: datetime, limit: int
    ) -> list[Teleconsultation]:
        """Up to `limit` visits of one participant, live or trashed, ending after `ends_after`,
        in (start, id) order."""
        ...


class WebhookEvents(Protocol):
    """The events Kaleyra posts, stored once each."""

    def record_webhook_event(self, event: WebhookEvent) -> bool:
        """Stores `event`; False, and nothing stored, when one with the same (event, room_id,
        timestamp) is there already."""
        ...

    def forget_webhook_event(self, event: WebhookEvent) -> None:
        """Erases a recorded event (its handling failed: the sender's retry must be handled)."""
        ...

    def webhook_events(
        self,
        *,
        teleconsultation_id: str,
        event: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> list[WebhookEvent]:
        """Up to `limit` events linked to a teleconsultation (of one kind with `event`), oldest
        first (with `newest_first`, the latest `limit`, newest first)."""
        ...

    def purge_webhook_events(self, older_than: datetime) -> int:
        """Erases the events received before `older_than`; how many. (A replay that old is
        refused by its signature's timestamp before any lookup, so nothing relies on them.)"""
        ...


class Attendances(Protocol):
    """Who joined each visit's calls, one record per visit (`rooms.services.attendance`)."""

    def save_attendance(self, attendance: Attendance) -> Attendance | None:
        """Stores the visit's attendance in place of any collected before; the one it replaced
        (None the first time)."""
        ...

    def attendance(self, teleconsultation_id: str) -> Attendance | None:
        """The visit's attendance, None until collected."""
        ...

    def without_attendance(self, teleconsultation_ids: Sequence[str]) -> list[str]:
        """Those of the visits whose attendance was never collected, in the order given."""


class PersonalData(Protocol):
    """One person's records, for `export_person` and `erase_person` (`rooms.services.person`)."""

    def visits_of(self, external_id: str) -> list[Teleconsultation]:
        """Every teleconsultation the person takes part in, trashed ones included, by id."""
        ...

    def erase_participant(
        self, teleconsultation_id: str, external_id: str, erased: Participant, *, actor: str
    ) -> bool:
        """Puts `erased` in place of the person's participant record in that teleconsultation,
        whatever its state, and their id where the record names them as its author; whether
        there was one."""
        ...

    def forget_mappings(self, external_ids: Sequence[str]) -> int:
        """Erases the user map entries of these external ids; how many."""
        ...

    def replace_audit_entries(self, entries: Sequence[AuditEntry]) -> None:
        """Writes these entries in place of the stored ones with their ids (same time and action;
        actor and detail rewritten). The CRUD backend gives them new ids."""
        ...

    def replace_webhook_event_data(self, events: Sequence[WebhookEvent]) -> None:
        """Writes the `data` of these events in place of the stored events' with their ids."""
        ...


class Upkeep(Protocol):
    def refresh_statistics(self) -> None:
        """Has the backend plan its queries for rows just bulk-loaded (a no-op where it plans
        for itself)."""
        ...


class Storage(
    Visits,
    UserMap,
    Jobs,
    SupportQueries,
    AuditTrail,
    Agenda,
    CalendarFeeds,
    WebhookEvents,
    Attendances,
    PersonalData,
    Upkeep,
    Protocol,
):
    """Everything a backend offers; `get_storage()` returns the one `STORAGE_BACKEND` names."""


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
