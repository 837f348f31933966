"""The Django backend: teleconsultations, the user map and room jobs in the service's database.

The only module (with the read-only admin) that uses the ORM. A write runs its change function
inside one transaction holding the teleconsultation's row lock (SELECT ... FOR UPDATE on
PostgreSQL; SQLite's IMMEDIATE transactions serialise writers), so the jobs it records or forgets
commit with it. No provider call may be made while it is open.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, OuterRef, Q, Subquery, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from rooms import models
from rooms.domain import (
    Attendance,
    AuditEntry,
    CalendarStamp,
    Change,
    JobKind,
    Participant,
    RoomJob,
    State,
    Teleconsultation,
    Updated,
    UserMapping,
    WebhookEvent,
    Write,
    is_teleconsultation_id,
    new_id,
)
from rooms.storage import visit_events
from rooms.storage.mia_records import attendee_from_record, attendee_record
from rooms.storage.prepared import PreparedRead
from teleconsultation_project.errors import ApiError

# No visit lasts longer (rooms.rules.schedule.MAX_DURATION, which storage may not import): the
# agenda's visits not ended by a moment started less than this before it.
LONGEST_VISIT = timedelta(hours=24)

# A calendar feed shows trashed visits too, as cancelled events.
CALENDAR_STATES = (State.PUBLIC, State.TRASH)
VISIT_COLUMNS = (
    "id",
    "participants_number",
    "start",
    "end",
    "kaleyra_room_id",
    "state",
    "room_claim",
    "recording",
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
)
MEMBER_COLUMNS = (
    "external_id",
    "groups",
    "full_name",
    "role",
    "kaleyra_user_id",
    "language",
    "access_link",
)
# One query for a visit and its participants: a LEFT JOIN read as plain tuples, no model
# instances and no prefetch machinery (the GET endpoint's budget is one query).
FIND_COLUMNS = (*VISIT_COLUMNS, *(f"participants__{name}" for name in MEMBER_COLUMNS))
# The visit's own columns a write may change (`update_many` writes only those that did).
WRITTEN_COLUMNS = (
    "participants_number",
    "start",
    "end",
    "kaleyra_room_id",
    "state",
    "room_claim",
    "recording",
)
# The columns of a participant, a user map entry and a room job, in the order `_insert` takes them.
PARTICIPANT_COLUMNS = ("teleconsultation_id", "visit_start", "position", *MEMBER_COLUMNS)
MAPPING_COLUMNS = ("external_id", "kaleyra_user_id", "role", "created_at", "updated_at")
JOB_COLUMNS = (
    "id",
    "kind",
    "key",
    "teleconsultation_id",
    "reason",
    "attempts",
    "last_error",
    "abandoned",
    "payload",
    "created_at",
    "updated_at",
)
# Keyset order first: a page's last row gives the next page's (at, id).
AUDIT_COLUMNS = (
    "at",
    "id",
    "action",
    "actor",
    "outcome",
    "teleconsultation_id",
    "request_id",
    "client_type",
    "detail",
)
WEBHOOK_EVENT_COLUMNS = (
    "id",
    "event",
    "room_id",
    "timestamp",
    "event_version",
    "namespace",
    "teleconsultation_id",
    "data",
    "received_at",
)


def _visits_by_start(page) -> list[Teleconsultation]:
    """The visits whose ids `page` (a subquery) selects, with their participants, by start: one
    query."""
    rows = (
        models.Teleconsultation.objects.filter(id__in=page)
        .order_by("start", "id", "participants__position")
        .values_list(*FIND_COLUMNS)
    )
    return [
        _teleconsultation(list(visit_rows)) for _, visit_rows in groupby(rows, key=itemgetter(0))
    ]


def _teleconsultation(rows: Sequence[Sequence]) -> Teleconsultation:
    visit = dict(zip(VISIT_COLUMNS, rows[0][: len(VISIT_COLUMNS)], strict=True))
    members = []
    for row in rows:
        member = dict(zip(MEMBER_COLUMNS, row[len(VISIT_COLUMNS) :], strict=True))
        if member["external_id"] is None:  # the LEFT JOIN of a visit with nobody known yet
            continue
        member["groups"] = tuple(member["groups"] or ())
        members.append(Participant(**member))
    visit["state"] = State(visit["state"])
    return Teleconsultation(**visit, participants=tuple(members))


def _live(query, *, include_trash: bool = False):
    return query if include_trash else query.filter(state=State.PUBLIC)


def _visit_with_participants(include_trash: bool) -> PreparedRead:
    def build(teleconsultation_id: str):
        visit = models.Teleconsultation.objects.filter(id=teleconsultation_id)
        query = _live(visit, include_trash=include_trash).order_by("participants__position")
        return query.values_list(*FIND_COLUMNS)

    return PreparedRead(build, placeholder="0" * 24)


_FIND = {include_trash: _visit_with_participants(include_trash) for include_trash in (False, True)}


class DjangoStorage:
    name = "django"
    # update_many and the other bulk methods are a few statements per chunk.

    # --- teleconsultations -------------------------------------------------------------------
    def find(
        self, teleconsultation_id: str, *, include_trash: bool = False
    ) -> Teleconsultation | None:
        if not is_teleconsultation_id(teleconsultation_id):
            return None
        rows = _FIND[include_trash].rows(teleconsultation_id)
        return _teleconsultation(rows) if rows else None

    def insert(
        self, teleconsultation: Teleconsultation, *, forget: Sequence[RoomJob] = ()
    ) -> Teleconsultation:
        """Stores a new teleconsultation (a new id unless it has one: imported records keep
        theirs, and their created/updated dates) with the jobs it settles; the stored
        teleconsultation."""
        teleconsultation = replace(teleconsultation, id=teleconsultation.id or new_id())
        with transaction.atomic():
            record = models.Teleconsultation(
                id=teleconsultation.id,
                participants_number=teleconsultation.participants_number,
                start=teleconsultation.start,
                end=teleconsultation.end,
                kaleyra_room_id=teleconsultation.kaleyra_room_id,
                state=teleconsultation.state,
                recording=teleconsultation.recording,
                created_by=teleconsultation.created_by,
                updated_by=teleconsultation.updated_by,
            )
            record.save(force_insert=True)
            stamps = {
                name: moment
                for name, moment in (
                    ("created_at", teleconsultation.created_at),
                    ("updated_at", teleconsultation.updated_at),
                )
                if moment is not None
            }
            if stamps:  # an imported record keeps its dates (save() stamps now on every insert)
                models.Teleconsultation.objects.filter(id=teleconsultation.id).update(**stamps)
            self._insert_participants(
                teleconsultation.id, teleconsultation.participants, start=teleconsultation.start
            )
            self.forget_jobs(forget)
            if not teleconsultation.created_at:  # an imported record is no news
                _record_visit_events([(None, teleconsultation)])
        return teleconsultation

    def update(
        self, teleconsultation_id: str, change: Change, *, actor: str
    ) -> tuple[Teleconsultation | None, Teleconsultation | None]:
        if not is_teleconsultation_id(teleconsultation_id):
            _applied(change(None))
            return None, None
        with transaction.atomic():
            locked = (
                models.Teleconsultation.objects.select_for_update()
                .filter(id=teleconsultation_id, state=State.PUBLIC)
                .values_list("id", flat=True)
            )
            before = self.find(teleconsultation_id) if list(locked) else None
            write = change(before)
            after = write.teleconsultation
            if before is None:
                _applied(write)
            elif after is not None:
                after = self._save(before, after, actor=actor)
                _record_visit_events([(before, after)])
            self.record_jobs(write.record)
            self.forget_jobs(write.forget)
        return before, after

    def update_many(
        self, changes: Mapping[str, Change], *, actor: str
    ) -> dict[str, Updated | ApiError]:
        """One transaction for the whole chunk, whatever its size: lock and read the live rows
        with their participants (one SELECT), write the rows the changes made alike in one
        UPDATE, then the jobs (one INSERT, one DELETE per kind)."""
        ids = [
            teleconsultation_id
            for teleconsultation_id in changes
            if is_teleconsultation_id(teleconsultation_id)
        ]
        results: dict[str, Updated | ApiError] = {}
        with transaction.atomic():
            found = self._lock_many(ids)
            writes: dict[str, tuple[Teleconsultation, Teleconsultation]] = {}
            record: list[RoomJob] = []
            forget: list[RoomJob] = []
            for teleconsultation_id, change in changes.items():
                before = found.get(teleconsultation_id)
                try:
                    write = change(before)
                except ApiError as refusal:
                    results[teleconsultation_id] = refusal
                    continue
                if before is None:
                    _applied(write)
                elif write.teleconsultation is not None:
                    writes[teleconsultation_id] = (before, write.teleconsultation)
                results[teleconsultation_id] = (before, None)
                record.extend(write.record)
                forget.extend(write.forget)
            saved = self._save_many(writes, actor=actor)
            for teleconsultation_id, after in saved.items():
                results[teleconsultation_id] = (writes[teleconsultation_id][0], after)
            _record_visit_events(
                (writes[teleconsultation_id][0], after)
                for teleconsultation_id, after in saved.items()
            )
            self.record_jobs(record)
            self.forget_jobs(forget)
        return results

    def _lock_many(self, teleconsultation_ids: Sequence[str]) -> dict[str, Teleconsultation]:
        """The live ones among the visits, with their participants, locked: one statement (the
        visit rows locked, not the participants' side of the join)."""
        if not teleconsultation_ids:
            return {}
        rows = (
            models.Teleconsultation.objects.select_for_update(of=("self",))
            .filter(id__in=teleconsultation_ids, state=State.PUBLIC)
            .order_by("id", "participants__position")
            .values_list(*FIND_COLUMNS)
        )
        return {
            teleconsultation_id: _teleconsultation(list(visit_rows))
            for teleconsultation_id, visit_rows in groupby(rows, key=itemgetter(0))
        }

    def _save_many(
        self, writes: Mapping[str, tuple[Teleconsultation, Teleconsultation]], *, actor: str
    ) -> dict[str, Teleconsultation]:
        """Each record as `_save` writes it, in one UPDATE per set of changed values (a chunk
        moved to TRASH is one), and the changed participants in one DELETE and one INSERT."""
        now = timezone.now()
        alike: dict[tuple, list[str]] = defaultdict(list)
        for teleconsultation_id, (before, after) in writes.items():
            changed = tuple(
                (column, getattr(after, column))
                for column in WRITTEN_COLUMNS
                if getattr(after, column) != getattr(before, column)
            )
            alike[changed].append(teleconsultation_id)
        for changed, teleconsultation_ids in alike.items():
            models.Teleconsultation.objects.filter(id__in=teleconsultation_ids).update(
                **dict(changed), version=F("version") + 1, updated_at=now, updated_by=actor
            )
        members_changed = [
            after for before, after in writes.values() if after.participants != before.participants
        ]
        if members_changed:
            models.Participant.objects.filter(
                teleconsultation_id__in=[after.id for after in members_changed]
            ).delete()
            for after in members_changed:
                self._insert_participants(after.id, after.participants, start=after.start)
        for before, after in writes.values():
            if after.participants == before.participants and after.start != before.start:
                _move_participants(after.id, after.start)
        return {
            teleconsultation_id: replace(
                after, version=before.version + 1, updated_at=now, updated_by=actor
            )
            for teleconsultation_id, (before, after) in writes.items()
        }

    def _save(self, before: Teleconsultation, after: Teleconsultation, *, actor: str):
        now = timezone.now()
        models.Teleconsultation.objects.filter(id=before.id).update(
            participants_number=after.participants_number,
            start=after.start,
            end=after.end,
            kaleyra_room_id=after.kaleyra_room_id,
            state=after.state,
            room_claim=after.room_claim,
            recording=after.recording,
            version=F("version") + 1,
            updated_at=now,
            updated_by=actor,
        )
        if after.participants != before.participants:
            models.Participant.objects.filter(teleconsultation_id=before.id).delete()
            self._insert_participants(before.id, after.participants, start=after.start)
        elif after.start != before.start:
            _move_participants(before.id, after.start)
        return replace(after, version=before.version + 1, updated_at=now, updated_by=actor)

    def _insert_participants(
        self, teleconsultation_id: str, participants, *, start: datetime
    ) -> None:
        # Written out (`_insert`): bulk_create's model instances and field preparation were most
        # of a 25-person visit's insert.
        visit_start = connection.ops.adapt_datetimefield_value(start)
        rows = [
            (
                teleconsultation_id,
                visit_start,
                position,
                member.external_id,
                _json(list(member.groups)),
                member.full_name,
                member.role,
                member.kaleyra_user_id,
                member.language,
                member.access_link,
            )
            for position, member in enumerate(participants)
        ]
        _insert(models.Participant, PARTICIPANT_COLUMNS, rows, ignore_conflicts=False)

    # --- user map ----------------------------------------------------------------------------
    def mappings_for(self, external_ids: Iterable[str]) -> dict[str, UserMapping]:
        rows = models.UserMapping.objects.filter(external_id__in=set(external_ids)).values_list(
            "external_id", "kaleyra_user_id", "role"
        )
        return {row[0]: UserMapping(*row) for row in rows}

    def save_mappings(
        self, *, created: Sequence[UserMapping], role_changed: Sequence[UserMapping]
    ) -> None:
        if created:
            # Two requests may map the same new user at once; ids are deterministic, so the
            # second insert carries the same row and can be dropped.
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            rows = [
                (mapping.external_id, mapping.kaleyra_user_id, mapping.role, now, now)
                for mapping in created
            ]
            _insert(models.UserMapping, MAPPING_COLUMNS, rows)
        for mapping in role_changed:
            models.UserMapping.objects.filter(external_id=mapping.external_id).update(
                role=mapping.role, updated_at=timezone.now()
            )

    def forget_mappings(self, external_ids: Sequence[str]) -> int:
        deleted, _ = models.UserMapping.objects.filter(external_id__in=set(external_ids)).delete()
        return deleted

    # --- one person's records ------------------------------------------------------------------
    def visits_of(self, external_id: str) -> list[Teleconsultation]:
        ids = (
            models.Participant.objects.filter(external_id=external_id)
            .order_by("teleconsultation_id")
            .values_list("teleconsultation_id", flat=True)
        )
        visits = (self.find(visit_id, include_trash=True) for visit_id in list(ids))
        return [visit for visit in visits if visit is not None]

    def erase_participant(
        self, teleconsultation_id: str, external_id: str, erased: Participant, *, actor: str
    ) -> bool:
        with transaction.atomic():
            found = models.Participant.objects.filter(
                teleconsultation_id=teleconsultation_id, external_id=external_id
            ).update(
                external_id=erased.external_id,
                groups=list(erased.groups),
                full_name=erased.full_name,
                language=erased.language,
                role=erased.role,
                kaleyra_user_id=erased.kaleyra_user_id,
                access_link=erased.access_link,
            )
            visit = models.Teleconsultation.objects.filter(id=teleconsultation_id)
            visit.filter(created_by=external_id).update(created_by=erased.external_id)
            if found:
                visit.update(updated_by=actor, updated_at=timezone.now())
            else:
                visit.filter(updated_by=external_id).update(updated_by=erased.external_id)
        return bool(found)

    # --- room jobs -----------------------------------------------------------------------------
    def record_jobs(self, jobs: Sequence[RoomJob]) -> None:
        if not jobs:
            return
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        rows = [_job_values(job, now) for job in jobs]
        _insert(models.RoomJob, JOB_COLUMNS, rows)  # a room already recorded stays recorded once

    def record_job_once(self, job: RoomJob) -> RoomJob | None:
        try:
            with transaction.atomic():
                models.RoomJob.objects.create(
                    id=job.id,
                    kind=job.kind,
                    key=job.key,
                    teleconsultation_id=job.teleconsultation_id,
                    reason=job.reason[:255],
                    payload=job.payload,
                )
        except IntegrityError:
            existing = models.RoomJob.objects.filter(kind=job.kind, key=job.key).first()
            return _job(existing) if existing else self.record_job_once(job)
        return None

    def find_job(self, kind: JobKind, key: str) -> RoomJob | None:
        row = models.RoomJob.objects.filter(kind=kind, key=key).first()
        return _job(row) if row else None

    def forget_stale_job(self, job: RoomJob, *, stale_before: datetime) -> bool:
        stale = models.RoomJob.objects.filter(
            kind=job.kind, key=job.key, updated_at__lt=stale_before
        )
        return stale.delete()[0] > 0

    def set_job_payload(self, job: RoomJob, payload: dict) -> None:
        models.RoomJob.objects.filter(kind=job.kind, key=job.key).update(
            payload=payload, updated_at=timezone.now()
        )

    def renew_held_job(self, job: RoomJob) -> bool:
        held = _held(job).update(updated_at=timezone.now())
        return held > 0

    def release_held_job(self, job: RoomJob) -> None:
        _held(job).delete()

    def purge_jobs(self, kind: JobKind, *, created_before: datetime) -> int:
        doomed = models.RoomJob.objects.filter(kind=kind, created_at__lt=created_before)
        return doomed.delete()[0]

    def forget_jobs(self, jobs: Sequence[RoomJob]) -> None:
        # Room jobs have no relations and no signals: one DELETE per kind, written out (the ORM's
        # collector opened a transaction, and compiling the query cost more than running it).
        table, kind_column, key_column = map(
            connection.ops.quote_name, (models.RoomJob._meta.db_table, "kind", "key")
        )
        for kind in {job.kind for job in jobs}:
            keys = list({job.key: None for job in jobs if job.kind == kind})
            listed = ", ".join(["%s"] * len(keys))
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {table} WHERE {kind_column} = %s "  # noqa: S608
                    f"AND {key_column} IN ({listed})",
                    [kind.value, *keys],
                )

    def job_failed(self, job: RoomJob, error: str) -> None:
        models.RoomJob.objects.filter(kind=job.kind, key=job.key).update(
            attempts=F("attempts") + 1, last_error=error[:255], updated_at=timezone.now()
        )

    def abandon_job(self, job: RoomJob) -> None:
        models.RoomJob.objects.filter(kind=job.kind, key=job.key).update(
            abandoned=True, updated_at=timezone.now()
        )

    def count_jobs(self, kind: JobKind) -> int:
        return models.RoomJob.objects.filter(kind=kind).count()

    def job_batches(
        self,
        kind: JobKind,
        *,
        created_before: datetime | None = None,
        renewed_before: datetime | None = None,
        batch_size: int = 100,
    ) -> Iterator[list[RoomJob]]:
        """Jobs of a kind, fewest attempts first (one that keeps failing goes last), keyset-paged;
        with `created_before`, only those older than that or abandoned (`Jobs.job_batches`)."""
        last = None
        while True:
            page = models.RoomJob.objects.filter(kind=kind).order_by("attempts", "id")
            if created_before is not None:
                page = page.filter(_settled_by(created_before, renewed_before))
            if last is not None:
                attempts, pk = last
                page = page.filter(Q(attempts__gt=attempts) | Q(attempts=attempts, id__gt=pk))
            rows = [_job(row) for row in page[:batch_size]]
            if not rows:
                return
            yield rows
            last = (rows[-1].attempts, rows[-1].id)

    # --- support work ----------------------------------------------------------------------------
    # Walks are keyset-paginated on the primary key: one batch in memory however many rows, and
    # rows that change or vanish meanwhile (moved to TRASH, room attached) make none be skipped.

    def count_teleconsultations(self, **selection) -> int:
        """Live teleconsultations (all with `include_trash`) ended in [`ended_after`,
        `ended_before`), or the trashed ones last written before `trashed_before`; only those
        holding a room with `with_room`."""
        return _selected(**selection).count()

    def teleconsultation_id_batches(
        self, *, batch_size: int = 100, **selection
    ) -> Iterator[list[str]]:
        query = _selected(**selection)
        if selection.get("ended_before") is not None and _live_only(selection):
            return _end_batches(query, batch_size)
        return _id_batches(query, batch_size)

    def erase_trashed(self, teleconsultation_ids: Sequence[str]) -> list[str]:
        """Erases for good those of the given teleconsultations still in TRASH; their ids."""
        with transaction.atomic():
            doomed = models.Teleconsultation.objects.filter(
                pk__in=list(teleconsultation_ids), state=State.TRASH
            )
            erased = list(doomed.values_list("pk", flat=True))
            models.Teleconsultation.objects.filter(pk__in=erased).delete()
        return erased

    def complete_without_room_batches(
        self, *, claimed_before: datetime, ends_after: datetime, batch_size: int = 100
    ) -> Iterator[list[str]]:
        """Live teleconsultations not over yet that are complete but have no room (what a failure
        or a crash left behind; claims younger than `claimed_before` are still being served)."""
        query = _complete_without_room(claimed_before=claimed_before, ends_after=ends_after)
        return _id_batches(query, batch_size)

    def count_complete_without_room(self, *, claimed_before: datetime, ends_after: datetime) -> int:
        return _complete_without_room(claimed_before=claimed_before, ends_after=ends_after).count()

    def room_in_use(self, room_id: str) -> bool:
        return models.Teleconsultation.objects.filter(
            kaleyra_room_id=room_id, state=State.PUBLIC
        ).exists()

    def rooms_in_use(self, room_ids: Sequence[str]) -> set[str]:
        if not room_ids:
            return set()
        rows = models.Teleconsultation.objects.filter(
            kaleyra_room_id__in=list(room_ids), state=State.PUBLIC
        ).values_list("kaleyra_room_id", flat=True)
        return {room_id for room_id in rows if room_id}

    def refresh_statistics(self) -> None:
        """Has the database gather the planner's statistics on the visit tables, after a bulk
        load. Until autovacuum does (a minute or so later), the planner takes the rows just loaded
        for a handful: cleanup's batch query then sorted every ended visit for each batch of 100
        (34 ms against 0.1 ms at 100k visits, docs/performance.md)."""
        tables = (models.Teleconsultation, models.Participant, models.UserMapping)
        with connection.cursor() as cursor:
            for model in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    # --- audit trail and agenda (issue #13) --------------------------------------------------
    def record_audit(self, entry: AuditEntry) -> None:
        _audit_row(entry).save(force_insert=True)

    def record_audits(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        adapt = connection.ops.adapt_datetimefield_value
        rows = []
        for entry in entries:
            values = _audit_values(entry)
            values.update(at=adapt(values["at"]), detail=_json(values["detail"]))
            rows.append(tuple(values[column] for column in AUDIT_COLUMNS))
        _insert(models.AuditEntry, AUDIT_COLUMNS, rows)

    def audit_entries(
        self,
        *,
        since: datetime,
        until: datetime | None = None,
        teleconsultation_id: str | None = None,
        batch_size: int = 500,
    ) -> Iterator[list[AuditEntry]]:
        query = models.AuditEntry.objects.filter(at__gte=since)
        if until is not None:
            query = query.filter(at__lt=until)
        if teleconsultation_id is not None:
            query = query.filter(teleconsultation_id=teleconsultation_id)
        last = None
        while True:
            page = query.order_by("at", "id")
            if last is not None:
                at, pk = last
                page = page.filter(Q(at__gt=at) | Q(at=at, id__gt=pk))
            rows = list(page.values_list(*AUDIT_COLUMNS)[:batch_size])
            if not rows:
                return
            yield [AuditEntry(**dict(zip(AUDIT_COLUMNS, row, strict=True))) for row in rows]
            last = (rows[-1][0], rows[-1][1])

    def replace_audit_entries(self, entries: Sequence[AuditEntry]) -> None:
        with transaction.atomic():
            for entry in entries:
                models.AuditEntry.objects.filter(id=entry.id).update(
                    actor=entry.actor, detail=dict(entry.detail)
                )

    def replace_webhook_event_data(self, events: Sequence[WebhookEvent]) -> None:
        with transaction.atomic():
            for event in events:
                models.WebhookEvent.objects.filter(id=event.id).update(data=dict(event.data))

    def purge_audit(self, older_than: datetime) -> int:
        # No signal or relation points at audit rows, so this is one DELETE, no rows loaded.
        deleted, _ = models.AuditEntry.objects.filter(at__lt=older_than).delete()
        return deleted

    def agenda_page(
        self,
        external_id: str,
        *,
        ends_after: datetime,
        starts_before: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Teleconsultation]:
        """One query: the page's visit ids as a limited subquery, joined to every participant of
        those visits. The ids are a range of the participant_agenda index (the person's rows by
        their visit's start, `visit_start`), from the cursor or from a day before `ends_after`
        (no visit is longer): a page reads its own rows, however many visits the person or the
        table holds (docs/performance.md, "Cost flat with data")."""
        mine = models.Participant.objects.filter(
            external_id=external_id,
            visit_start__gt=ends_after - LONGEST_VISIT,
            teleconsultation__state=State.PUBLIC,
            teleconsultation__end__gt=ends_after,
        )
        if starts_before is not None:
            mine = mine.filter(visit_start__lt=starts_before)
        if after is not None:
            start, pk = after
            mine = mine.filter(visit_start__gte=start).exclude(
                visit_start=start, teleconsultation_id__lte=pk
            )
        page = mine.order_by("visit_start", "teleconsultation_id").values("teleconsultation_id")
        return _visits_by_start(page[:limit])

    # --- calendar feeds (issue #25) -------------------------------------------------------------
    def save_calendar_feed(self, external_id: str, secret_hash: str) -> None:
        models.CalendarFeed.objects.update_or_create(
            external_id=external_id,
            defaults={"secret_hash": secret_hash, "created_at": timezone.now()},
        )

    def revoke_calendar_feed(self, external_id: str) -> bool:
        deleted, _ = models.CalendarFeed.objects.filter(external_id=external_id).delete()
        return bool(deleted)

    def calendar_feed_made(self, external_id: str) -> datetime | None:
        return (
            models.CalendarFeed.objects.filter(external_id=external_id)
            .values_list("created_at", flat=True)
            .first()
        )

    def calendar_stamp(self, secret_hash: str, *, ends_after: datetime) -> CalendarStamp | None:
        """One query: the feed's row, with its visits' count, sum of sequences and latest write
        as correlated subqueries over the owner's participant rows."""
        visits = (
            models.Participant.objects.filter(
                external_id=OuterRef("external_id"),
                teleconsultation__end__gt=ends_after,
                teleconsultation__state__in=CALENDAR_STATES,
            )
            .order_by()
            .values("external_id")
        )

        def over_visits(aggregate):
            return Subquery(visits.annotate(value=aggregate).values("value")[:1])

        row = (
            models.CalendarFeed.objects.filter(secret_hash=secret_hash)
            .annotate(
                visits=over_visits(Count("pk")),
                sequences=over_visits(Sum("teleconsultation__version")),
                latest=over_visits(Max("teleconsultation__updated_at")),
            )
            .values_list("external_id", "visits", "sequences", "latest")
            .first()
        )
        if row is None:
            return None
        owner, count, sequences, latest = row
        return CalendarStamp(
            owner=owner, visits=count or 0, sequences=sequences or 0, latest=latest
        )

    def calendar_visits(
        self, external_id: str, *, ends_after: datetime, limit: int
    ) -> list[Teleconsultation]:
        """One query, as `agenda_page`'s, trashed visits included."""
        mine = models.Teleconsultation.objects.filter(
            state__in=CALENDAR_STATES, participants__external_id=external_id, end__gt=ends_after
        )
        return _visits_by_start(mine.order_by("start", "id").values("id")[:limit])

    # --- Kaleyra webhooks (issue #13) --------------------------------------------------------
    def find_by_room(self, room_id: str, *, include_trash: bool = False) -> Teleconsultation | None:
        query = _live(
            models.Teleconsultation.objects.filter(kaleyra_room_id=room_id),
            include_trash=include_trash,
        )
        rows = list(query.order_by("participants__position").values_list(*FIND_COLUMNS))
        return _teleconsultation(rows) if rows else None

    # --- the names Kaleyra shows in a call (issue #22) ----------------------------------------
    def display_names(self, kaleyra_user_ids: Sequence[str]) -> dict[str, str]:
        """One query: each user's participant rows in live visits, ranked newest write first
        per user, only the first kept (a window function, so a doctor's thousand visits are not
        all read back)."""
        if not kaleyra_user_ids:
            return {}
        newest_first = Window(
            RowNumber(),
            partition_by=F("kaleyra_user_id"),
            order_by=[F("teleconsultation__updated_at").desc(), F("teleconsultation_id").desc()],
        )
        rows = (
            models.Participant.objects.filter(
                kaleyra_user_id__in=list(kaleyra_user_ids), teleconsultation__state=State.PUBLIC
            )
            .annotate(rank=newest_first)
            .filter(rank=1)
            .order_by()  # the answer is a mapping: the model's ordering would be a sort for nothing
            .values_list("kaleyra_user_id", "full_name")
        )
        return {user_id: name for user_id, name in rows if name}

    def record_webhook_event(self, event: WebhookEvent) -> bool:
        try:
            with transaction.atomic():
                models.WebhookEvent.objects.create(
                    id=event.id,
                    event=event.event,
                    room_id=event.room_id,
                    timestamp=event.timestamp,
                    event_version=event.event_version,
                    namespace=event.namespace,
                    teleconsultation_id=event.teleconsultation_id,
                    data=dict(event.data),
                    received_at=event.received_at or timezone.now(),
                )
        except IntegrityError:
            return False  # webhook_event_once: a replay
        return True

    def forget_webhook_event(self, event: WebhookEvent) -> None:
        models.WebhookEvent.objects.filter(id=event.id).delete()

    def webhook_events(
        self,
        *,
        teleconsultation_id: str,
        event: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> list[WebhookEvent]:
        query = models.WebhookEvent.objects.filter(teleconsultation_id=teleconsultation_id)
        if event is not None:
            query = query.filter(event=event)
        order = ["-timestamp", "-id"] if newest_first else ["timestamp", "id"]
        rows = query.order_by(*order).values_list(*WEBHOOK_EVENT_COLUMNS)[:limit]
        return [WebhookEvent(**dict(zip(WEBHOOK_EVENT_COLUMNS, row, strict=True))) for row in rows]

    def purge_webhook_events(self, older_than: datetime) -> int:
        # Nothing points at the events: one DELETE, no rows loaded (as purge_audit).
        deleted, _ = models.WebhookEvent.objects.filter(received_at__lt=older_than).delete()
        return deleted

    # --- attendance (issue #25) ------------------------------------------------------------------
    def save_attendance(self, attendance: Attendance) -> Attendance | None:
        with transaction.atomic():
            before = (
                models.Attendance.objects.select_for_update()
                .filter(teleconsultation_id=attendance.teleconsultation_id)
                .first()
            )
            models.Attendance.objects.update_or_create(
                teleconsultation_id=attendance.teleconsultation_id,
                defaults={
                    "collected_at": attendance.collected_at,
                    "no_show": attendance.no_show,
                    "attendees": [attendee_record(each) for each in attendance.attendees],
                },
            )
        return _attendance(before) if before is not None else None

    def attendance(self, teleconsultation_id: str) -> Attendance | None:
        row = models.Attendance.objects.filter(teleconsultation_id=teleconsultation_id).first()
        return _attendance(row) if row is not None else None

    def without_attendance(self, teleconsultation_ids: Sequence[str]) -> list[str]:
        collected = set(
            models.Attendance.objects.filter(
                teleconsultation_id__in=list(teleconsultation_ids)
            ).values_list("teleconsultation_id", flat=True)
        )
        return [each for each in teleconsultation_ids if each not in collected]


def _settled_by(created_before: datetime, renewed_before: datetime | None) -> Q:
    """The jobs `job_batches` selects with `created_before` (and `renewed_before`)."""
    if renewed_before is None:
        return Q(created_at__lt=created_before) | Q(abandoned=True)
    held = Q(payload__has_key="run")
    return (
        Q(abandoned=True)
        | (held & Q(updated_at__lt=renewed_before))
        | ((Q(payload__isnull=True) | ~held) & Q(created_at__lt=created_before))
    )


def _held(job: RoomJob):
    """A held job's row (a run lock, a swap slot, an intent) while the run that took it holds it."""
    run = (job.payload or {}).get("run")
    return models.RoomJob.objects.filter(kind=job.kind, key=job.key, payload__run=run)


def _applied(write: Write) -> None:
    """What a change made of a visit that does not exist (or is trashed): nothing to store."""
    if write.teleconsultation is not None:
        raise AssertionError("a change cannot write a teleconsultation that does not exist")
    return None


def _insert(
    model,
    columns: Sequence[str],
    rows: Sequence[tuple],
    *,
    returning: str = "",
    ignore_conflicts: bool = True,
) -> list:
    """One INSERT of many rows, conflicts ignored unless told otherwise (a job's unique key:
    recorded once), with the `returning` column of the rows it made. Values come adapted for the
    database (dates, JSON).

    Written out, for a support command's chunk: `bulk_create` builds a model instance and
    prepares every field of every row, and each parameter costs the driver ~4 us to quote, so
    a column with the same value in every row is passed once (INSERT ... SELECT from a VALUES
    list of the others), and one that is NULL in every row is left to its NULL default."""
    if not rows:
        return []
    constant = {
        index
        for index in range(len(columns))
        if all(values[index] == rows[0][index] for values in rows)
    }
    varying = [index for index in range(len(columns)) if index not in constant]
    same = [index for index in sorted(constant) if rows[0][index] is not None]
    if not varying:  # a single row: the VALUES list needs a column
        varying, same = same[:1], same[1:]
    quote = connection.ops.quote_name
    names = ", ".join(quote(columns[index]) for index in varying + same)
    picked = [f"column{number}" for number in range(1, len(varying) + 1)] + ["%s"] * len(same)
    row = "(" + ", ".join(["%s"] * len(varying)) + ")"
    # Names from the models, every value a parameter. WHERE true: SQLite's upsert after a SELECT.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({names}) "  # noqa: S608
        f"SELECT {', '.join(picked)} FROM (VALUES {', '.join([row] * len(rows))}) AS new_rows "
        "WHERE true" + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    )
    if returning:
        sql += f" RETURNING {quote(returning)}"
    params = [rows[0][index] for index in same]  # the SELECT list's, before the VALUES list
    params.extend(values[index] for values in rows for index in varying)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


def _record_visit_events(pairs: Iterable[tuple[Teleconsultation | None, Teleconsultation]]):
    """The events of a transaction's writes into the outbox (`visit_events.record_changes`).
    With visit events off (no VISIT_EVENTS_URLS, the default) the outbox is left alone."""
    if settings.VISIT_EVENTS_URLS:
        visit_events.record_changes(pairs)


def _json(value):
    """A JSON column's value as the database takes it (NULL stays NULL)."""
    return None if value is None else connection.ops.adapt_json_value(value, None)


def _audit_row(entry: AuditEntry) -> models.AuditEntry:
    return models.AuditEntry(**_audit_values(entry))


def _audit_values(entry: AuditEntry) -> dict:
    """An audit row's columns, cut to their lengths (AUDIT_COLUMNS, unadapted)."""
    return {
        "at": entry.at or timezone.now(),
        "id": entry.id,
        "action": entry.action[:64],
        "actor": entry.actor[:255],
        "outcome": entry.outcome[:32],
        "teleconsultation_id": entry.teleconsultation_id[:24],
        "request_id": entry.request_id[:128],
        "client_type": entry.client_type[:64],
        "detail": dict(entry.detail),
    }


def _job_values(job: RoomJob, now) -> tuple:
    """A new room job's row in JOB_COLUMNS order, `now` already adapted for the database."""
    return (
        job.id,
        job.kind.value,
        job.key,
        job.teleconsultation_id,
        job.reason[:255],
        0,
        "",
        job.abandoned,
        _json(job.payload),
        now,
        now,
    )


def _job(row: models.RoomJob) -> RoomJob:
    return RoomJob(
        kind=JobKind(row.kind),
        key=row.key,
        teleconsultation_id=row.teleconsultation_id,
        reason=row.reason,
        attempts=row.attempts,
        last_error=row.last_error,
        abandoned=row.abandoned,
        payload=row.payload,
        created_at=row.created_at,
        updated_at=row.updated_at,
        id=row.id,
    )


def _selected(
    *,
    ended_before: datetime | None = None,
    ended_after: datetime | None = None,
    include_trash: bool = False,
    trashed_before: datetime | None = None,
    with_room: bool = False,
):
    query = models.Teleconsultation.objects.all()
    if with_room:
        query = query.filter(kaleyra_room_id__isnull=False)
    if trashed_before is not None:
        query = query.filter(state=State.TRASH, updated_at__lt=trashed_before)
    elif not include_trash:
        query = query.filter(state=State.PUBLIC)
    if ended_before is not None:
        query = query.filter(end__lt=ended_before)
    if ended_after is not None:
        query = query.filter(end__gte=ended_after)
    return query


def _complete_without_room(*, claimed_before: datetime, ends_after: datetime):
    return (
        models.Teleconsultation.objects.filter(state=State.PUBLIC, end__gt=ends_after)
        .filter(kaleyra_room_id__isnull=True)
        .exclude(room_claim__isnull=False, updated_at__gte=claimed_before)
        .annotate(known=Count("participants"))
        .filter(known=F("participants_number"))
    )


def _attendance(row: models.Attendance) -> Attendance:
    return Attendance(
        teleconsultation_id=row.teleconsultation_id,
        collected_at=row.collected_at,
        attendees=tuple(attendee_from_record(each) for each in row.attendees or ()),
    )


def _move_participants(teleconsultation_id: str, start: datetime) -> None:
    """A visit's participants carry its start (the agenda's index): moved with it."""
    models.Participant.objects.filter(teleconsultation_id=teleconsultation_id).update(
        visit_start=start
    )


def _live_only(selection: dict) -> bool:
    return not selection.get("include_trash") and selection.get("trashed_before") is None


def _end_batches(query, batch_size: int) -> Iterator[list]:
    """Live visits ended in a window, in (end, id) order: each batch is the next range of the
    tc_state_end index, so it reads its own rows however many other visits the table holds. (In
    id order, the primary key was read through every visit not in the window, most of the table
    at a million visits: docs/performance.md, "Cost flat with data".)"""
    last = None
    while True:
        page = query.order_by("end", "pk")
        if last is not None:
            end, pk = last
            page = page.filter(end__gte=end).exclude(end=end, pk__lte=pk)
        rows = list(page.values_list("end", "pk")[:batch_size])
        if not rows:
            return
        yield [pk for _end, pk in rows]
        last = rows[-1]


def _id_batches(query, batch_size: int) -> Iterator[list]:
    last = None
    while True:
        page = query.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        ids = list(page.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        yield ids
        last = ids[-1]
