"""The CRUD Service backend: the same records as Mia's service, kept in Mia's CRUD Service.

Teleconsultations and the user map use Mia's collections and field names (`bandyerRoomId`,
`participantsNumber`, `participants[{userBandyerId, accessLinkURL, groups, fullName, language}]`,
`startDate`, `endDate`, `__STATE__`; `receivedUserId`, `bandyerId`), so records the original
service wrote are read unchanged and it reads ours. The service's own bookkeeping (room jobs) is one
more collection. A write is compare-and-set: `PATCH /<id>` filtered on `version`; no match means
another writer came first, and the change function runs again on the fresher record.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from crud.client import CrudClient
from crud.errors import CrudConflict, CrudError
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
    is_teleconsultation_id,
)
from rooms.storage.base import StorageUnavailable, update_each
from rooms.storage.mia_records import (
    attendee_from_record,
    attendee_record,
    iso,
    parse_date,
    record_fields,
    required_date,
    teleconsultation_from_record,
    user_mapping_fields,
    user_mapping_from_record,
)
from teleconsultation_project.errors import ApiError

CAS_ATTEMPTS = 50  # a write that loses this many races in a row gives up with a 503
LIVE = ("PUBLIC",)
ANY_STATE = ("PUBLIC", "DRAFT", "TRASH")
PAGE = 200  # the CRUD Service's maximum `_l`


class CrudStorage:
    name = "crud"
    # Every write is its own HTTP call: the bulk methods loop (`update_each`).

    def __init__(self, client: CrudClient, *, teleconsultations: str, users: str, jobs: str):
        self.client = client
        self.teleconsultations = teleconsultations
        self.users = users
        self.jobs = jobs

    @classmethod
    def from_settings(cls) -> "CrudStorage":
        return cls(
            CrudClient.from_settings(),
            teleconsultations=settings.TELECONSULTATIONS_CRUD_NAME,
            users=settings.USER_ID_MAP_CRUD_NAME,
            jobs=settings.ROOM_JOBS_CRUD_NAME,
        )

    def _call(self, method, *args, **kwargs):
        """Every CRUD request: a CRUD failure becomes `StorageUnavailable` (a 503 for clients)."""
        try:
            return method(*args, **kwargs)
        except CrudConflict:
            raise
        except CrudError as exc:
            raise StorageUnavailable(f"the CRUD Service failed: {type(exc).__name__}") from exc

    # --- teleconsultations -------------------------------------------------------------------
    def find(
        self, teleconsultation_id: str, *, include_trash: bool = False
    ) -> Teleconsultation | None:
        if not is_teleconsultation_id(teleconsultation_id):
            return None
        states = ANY_STATE if include_trash else LIVE
        record = self._call(
            self.client.get, self.teleconsultations, teleconsultation_id, states=states
        )
        if record is None or record.get("__STATE__") == "DRAFT" and not include_trash:
            return None
        return self._teleconsultations([record])[0]

    def insert(
        self, teleconsultation: Teleconsultation, *, forget: Sequence[RoomJob] = ()
    ) -> Teleconsultation:
        fields = {**record_fields(teleconsultation), "version": 1}
        record = {name: value for name, value in fields.items() if value is not None}
        record["__STATE__"] = teleconsultation.state.value
        new_id = self._call(
            self.client.as_user(teleconsultation.created_by).create, self.teleconsultations, record
        )
        self.forget_jobs(forget)
        return replace(teleconsultation, id=new_id, version=1)

    def update(
        self, teleconsultation_id: str, change: Change, *, actor: str
    ) -> tuple[Teleconsultation | None, Teleconsultation | None]:
        if not is_teleconsultation_id(teleconsultation_id):
            change(None)
            return None, None
        for _attempt in range(CAS_ATTEMPTS):
            before = self.find(teleconsultation_id)
            write = change(before)
            after = write.teleconsultation
            # Recorded before the compare-and-set: a crash in between leaves the room known, and
            # reconcile keeps a room a live visit still holds (`room_in_use`).
            self.record_jobs(write.record)
            if after is None:
                self.forget_jobs(write.forget)
                return before, None
            written = self._compare_and_set(before, after, actor=actor)
            if written is None:
                continue  # another writer came first: decide again on what it wrote
            self.forget_jobs(write.forget)
            return before, written
        raise StorageUnavailable(
            f"teleconsultation {teleconsultation_id} kept changing; gave up after "
            f"{CAS_ATTEMPTS} attempts"
        )

    def update_many(
        self, changes: Mapping[str, Change], *, actor: str
    ) -> dict[str, Updated | ApiError]:
        return update_each(self, changes, actor=actor)

    def _compare_and_set(self, before, after, *, actor: str) -> Teleconsultation | None:
        fields = {**record_fields(after), "version": before.version + 1}
        unset = [name for name, value in fields.items() if value is None]
        fields = {name: value for name, value in fields.items() if value is not None}
        version = {"version": before.version} if before.version else {"version": {"$exists": False}}
        record = self._call(
            self.client.as_user(actor).patch,
            self.teleconsultations,
            before.id,
            query=version,
            states=LIVE,
            set=fields,
            unset=unset or None,
        )
        if record is None:
            return None
        if after.state != before.state:
            self._call(
                self.client.as_user(actor).change_state,
                self.teleconsultations,
                before.id,
                after.state.value,
            )
            record = {**record, "__STATE__": after.state.value}
        return self._teleconsultations([record])[0]

    def _teleconsultations(self, records: Sequence[dict]) -> list[Teleconsultation]:
        """Domain objects; participants written by Mia's service (no `userExternalId`) are named
        through the user map, one query for the whole batch."""
        unnamed = {
            member.get("userBandyerId")
            for record in records
            for member in record.get("participants") or ()
            if not member.get("userExternalId")
        }
        by_kaleyra_id = self._external_ids(unnamed) if unnamed else {}
        return [teleconsultation_from_record(record, by_kaleyra_id) for record in records]

    def _external_ids(self, kaleyra_ids: Iterable[str]) -> dict[str, str]:
        query = {"bandyerId": {"$in": sorted(kaleyra_ids)}}
        rows = self._walk(self.users, query=query, states=None)
        return {row["bandyerId"]: row["receivedUserId"] for row in rows}

    # --- user map ----------------------------------------------------------------------------
    def mappings_for(self, external_ids: Iterable[str]) -> dict[str, UserMapping]:
        wanted = sorted(set(external_ids))
        if not wanted:
            return {}
        rows = self._walk(self.users, query={"receivedUserId": {"$in": wanted}}, states=None)
        return {row["receivedUserId"]: user_mapping_from_record(row) for row in rows}

    def save_mappings(
        self, *, created: Sequence[UserMapping], role_changed: Sequence[UserMapping]
    ) -> None:
        for mapping in created:
            record = {**user_mapping_fields(mapping), "__STATE__": "PUBLIC"}
            try:
                self._call(self.client.create, self.users, record)
            except CrudConflict:
                pass  # mapped by a concurrent request: ids are deterministic, same row
        for mapping in role_changed:
            self._call(
                self.client.patch_many,
                self.users,
                query={"receivedUserId": mapping.external_id},
                set={"role": mapping.role},
            )

    def forget_mappings(self, external_ids: Sequence[str]) -> int:
        wanted = sorted(set(external_ids))
        if not wanted:
            return 0
        return self._erase(self.users, {"receivedUserId": {"$in": wanted}})

    # --- one person's records ------------------------------------------------------------------
    def _mine(self, external_id: str) -> dict:
        """The records naming the person: by external id, or (Mia wrote them) by Kaleyra user."""
        mapping = self.mappings_for([external_id]).get(external_id)
        mine: list[dict] = [{"participants.userExternalId": external_id}]
        if mapping is not None:
            mine.append({"participants.userBandyerId": mapping.kaleyra_user_id})
        return {"$or": mine}

    def visits_of(self, external_id: str) -> list[Teleconsultation]:
        rows = self._walk(self.teleconsultations, query=self._mine(external_id), states=ANY_STATE)
        visits = self._teleconsultations(rows)
        return [
            visit
            for visit in visits
            if any(member.external_id == external_id for member in visit.participants)
        ]

    def erase_participant(
        self, teleconsultation_id: str, external_id: str, erased: Participant, *, actor: str
    ) -> bool:
        for _attempt in range(CAS_ATTEMPTS):
            before = self.find(teleconsultation_id, include_trash=True)
            if before is None:
                return False
            members = [
                erased if member.external_id == external_id else member
                for member in before.participants
            ]
            if tuple(members) == before.participants:
                return False
            fields = record_fields(replace(before, participants=tuple(members)))
            version: dict[str, Any] = (
                {"version": before.version} if before.version else {"version": {"$exists": False}}
            )
            written = self._call(
                self.client.as_user(actor).patch,
                self.teleconsultations,
                teleconsultation_id,
                query=version,
                states=ANY_STATE,
                set={"participants": fields["participants"], "version": before.version + 1},
            )
            if written is not None:
                return True
        raise StorageUnavailable(
            f"teleconsultation {teleconsultation_id} kept changing; gave up after "
            f"{CAS_ATTEMPTS} attempts"
        )

    # --- room jobs -----------------------------------------------------------------------------
    def record_jobs(self, jobs: Sequence[RoomJob]) -> None:
        for job in jobs:
            try:
                self._call(self.client.create, self.jobs, _job_record(job))
            except CrudConflict:
                pass  # recorded already (the collection's unique index on kind + key)

    def record_job_once(self, job: RoomJob) -> RoomJob | None:
        try:
            self._call(self.client.create, self.jobs, _job_record(job))
        except CrudConflict:
            rows = self._call(self.client.list, self.jobs, query=_job_key(job), limit=1)
            return _job(rows[0]) if rows else self.record_job_once(job)
        return None

    def find_job(self, kind: JobKind, key: str) -> RoomJob | None:
        query = {"kind": kind.value, "key": key}
        rows = self._call(self.client.list, self.jobs, query=query, limit=1)
        return _job(rows[0]) if rows else None

    def forget_stale_job(self, job: RoomJob, *, stale_before: datetime) -> bool:
        query = {**_job_key(job), "updatedAt": {"$lt": iso(stale_before)}}
        return self._call(self.client.delete_many, self.jobs, query=query) > 0

    def set_job_payload(self, job: RoomJob, payload: dict) -> None:
        self._call(self.client.patch_many, self.jobs, query=_job_key(job), set={"payload": payload})

    def renew_held_job(self, job: RoomJob) -> bool:
        # The CRUD Service sets updatedAt on every PATCH: the payload written again renews it.
        renewed = self._call(
            self.client.patch_many, self.jobs, query=_held(job), set={"payload": job.payload}
        )
        return renewed > 0

    def release_held_job(self, job: RoomJob) -> None:
        self._call(self.client.delete_many, self.jobs, query=_held(job))

    def purge_jobs(self, kind: JobKind, *, created_before: datetime) -> int:
        query = {"kind": kind.value, "createdAt": {"$lt": iso(created_before)}}
        return self._call(self.client.delete_many, self.jobs, query=query)

    def forget_jobs(self, jobs: Sequence[RoomJob]) -> None:
        for job in jobs:
            self._call(self.client.delete_many, self.jobs, query=_job_key(job))

    def job_failed(self, job: RoomJob, error: str) -> None:
        self._call(
            self.client.patch_many,
            self.jobs,
            query=_job_key(job),
            set={"lastError": error[:255]},
            inc={"attempts": 1},
        )

    def abandon_job(self, job: RoomJob) -> None:
        self._call(self.client.patch_many, self.jobs, query=_job_key(job), set={"abandoned": True})

    def count_jobs(self, kind: JobKind) -> int:
        return self._call(self.client.count, self.jobs, query={"kind": kind.value})

    def job_batches(
        self,
        kind: JobKind,
        *,
        created_before: datetime | None = None,
        renewed_before: datetime | None = None,
        batch_size: int = 100,
    ) -> Iterator[list[RoomJob]]:
        """Fewest attempts first, keyset-paged on (attempts, _id)."""
        base: list[dict[str, Any]] = [{"kind": kind.value}]
        if created_before is not None:
            base.append(_settled_by(created_before, renewed_before))
        last = None
        while True:
            clauses = list(base)
            if last is not None:
                attempts, key = last
                clauses.append(
                    {
                        "$or": [
                            {"attempts": {"$gt": attempts}},
                            {"attempts": attempts, "_id": {"$gt": key}},
                        ]
                    }
                )
            rows = self._call(
                self.client.list,
                self.jobs,
                query={"$and": clauses},
                sort="attempts,_id",
                limit=min(batch_size, PAGE),
            )
            if not rows:
                return
            page = [_job(row) for row in rows]
            yield page
            last = (page[-1].attempts, page[-1].id)

    # --- support work ----------------------------------------------------------------------------
    def count_teleconsultations(self, **selection) -> int:
        query, states = _selection(**selection)
        return self._call(self.client.count, self.teleconsultations, query=query, states=states)

    def teleconsultation_id_batches(
        self, *, batch_size: int = 100, **selection
    ) -> Iterator[list[str]]:
        query, states = _selection(**selection)
        for rows in self._id_pages(query, states, batch_size):
            yield [row["_id"] for row in rows]

    def erase_trashed(self, teleconsultation_ids: Sequence[str]) -> list[str]:
        query = {"_id": {"$in": list(teleconsultation_ids)}}
        rows = self._walk(self.teleconsultations, query=query, states=("TRASH",), fields="_id")
        erased = [row["_id"] for row in rows]
        if erased:
            self._call(
                self.client.delete_many,
                self.teleconsultations,
                query={"_id": {"$in": erased}},
                states=("TRASH",),
            )
            # Their attendance goes with them, as the Django backend's rows do (a cascade).
            self._erase(self.attendance_collection, {"teleconsultationId": {"$in": erased}})
        return erased

    def complete_without_room_batches(
        self, *, claimed_before: datetime, ends_after: datetime, batch_size: int = 100
    ) -> Iterator[list[str]]:
        query = _without_room(claimed_before=claimed_before, ends_after=ends_after)
        for rows in self._id_pages(query, LIVE, batch_size, fields=None):
            complete = [row["_id"] for row in rows if _complete(row)]
            if complete:
                yield complete

    def count_complete_without_room(self, *, claimed_before: datetime, ends_after: datetime) -> int:
        query = _without_room(claimed_before=claimed_before, ends_after=ends_after)
        return sum(
            1
            for rows in self._id_pages(query, LIVE, PAGE, fields=None)
            for row in rows
            if _complete(row)
        )

    def room_in_use(self, room_id: str) -> bool:
        query = {"bandyerRoomId": room_id}
        return self._call(self.client.count, self.teleconsultations, query=query, states=LIVE) > 0

    def rooms_in_use(self, room_ids: Sequence[str]) -> set[str]:
        if not room_ids:
            return set()
        query = {"bandyerRoomId": {"$in": sorted(set(room_ids))}}
        rows = self._walk(self.teleconsultations, query=query, states=LIVE)
        return {row["bandyerRoomId"] for row in rows}

    def refresh_statistics(self) -> None:
        """Nothing to do: the CRUD Service's database plans its own queries."""

    # --- audit trail and agenda (issue #13) --------------------------------------------------
    @property
    def audit(self) -> str:
        """The audit collection, `AUDIT_CRUD_NAME` (read when used)."""
        return settings.AUDIT_CRUD_NAME

    def record_audit(self, entry: AuditEntry) -> None:
        record = {
            "at": iso(entry.at or datetime.now(UTC)),
            "action": entry.action,
            "actor": entry.actor,
            "outcome": entry.outcome,
            "teleconsultationId": entry.teleconsultation_id,
            "requestId": entry.request_id,
            "clientType": entry.client_type,
            "detail": dict(entry.detail),
            "__STATE__": "PUBLIC",
        }
        self._call(self.client.as_user(entry.actor or None).create, self.audit, record)

    def record_audits(self, entries: Sequence[AuditEntry]) -> None:
        for entry in entries:
            self.record_audit(entry)

    def audit_entries(
        self,
        *,
        since: datetime,
        until: datetime | None = None,
        teleconsultation_id: str | None = None,
        batch_size: int = 500,
    ) -> Iterator[list[AuditEntry]]:
        """Oldest first, keyset-paged on (at, _id)."""
        base: list[dict[str, Any]] = [{"at": {"$gte": iso(since)}}]
        if until is not None:
            base.append({"at": {"$lt": iso(until)}})
        if teleconsultation_id is not None:
            base.append({"teleconsultationId": teleconsultation_id})
        last = None
        while True:
            clauses = list(base)
            if last is not None:
                at, key = last
                clauses.append({"$or": [{"at": {"$gt": at}}, {"at": at, "_id": {"$gt": key}}]})
            rows = self._call(
                self.client.list,
                self.audit,
                query={"$and": clauses},
                sort="at,_id",
                limit=min(batch_size, PAGE),
            )
            if not rows:
                return
            yield [_audit_entry(row) for row in rows]
            last = (rows[-1]["at"], rows[-1]["_id"])

    def replace_audit_entries(self, entries: Sequence[AuditEntry]) -> None:
        """Deleted and written again: the CRUD Service keeps who created a record
        (`creatorId`, the actor) and no PATCH changes it. The new record gets a new `_id`."""
        for entry in entries:
            self.record_audit(entry)
            self._call(self.client.delete_many, self.audit, query={"_id": entry.id})

    def replace_webhook_event_data(self, events: Sequence[WebhookEvent]) -> None:
        for event in events:
            self._call(
                self.client.patch,
                self.webhook_event_collection,
                event.id,
                states=ANY_STATE,
                set={"data": dict(event.data)},
            )

    def purge_audit(self, older_than: datetime) -> int:
        return self._erase(self.audit, {"at": {"$lt": iso(older_than)}})

    def agenda_page(
        self,
        external_id: str,
        *,
        ends_after: datetime,
        starts_before: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Teleconsultation]:
        # Records Mia's service wrote name participants by Kaleyra user id only.
        mapping = self.mappings_for([external_id]).get(external_id)
        mine = [{"participants.userExternalId": external_id}]
        if mapping is not None:
            mine.append({"participants.userBandyerId": mapping.kaleyra_user_id})
        clauses = [{"$or": mine}, {"endDate": {"$gt": iso(ends_after)}}]
        if starts_before is not None:
            clauses.append({"startDate": {"$lt": iso(starts_before)}})
        if after is not None:
            start, key = after
            clauses.append(
                {
                    "$or": [
                        {"startDate": {"$gt": iso(start)}},
                        {"startDate": iso(start), "_id": {"$gt": key}},
                    ]
                }
            )
        rows = self._call(
            self.client.list,
            self.teleconsultations,
            query={"$and": clauses},
            states=LIVE,
            sort="startDate,_id",
            limit=min(limit, PAGE),
        )
        return self._teleconsultations(rows)

    # --- calendar feeds (issue #25) -------------------------------------------------------------
    @property
    def calendar_feed_collection(self) -> str:
        """`CALENDAR_FEEDS_CRUD_NAME` (read when used), unique on externalId and on secretHash."""
        return settings.CALENDAR_FEEDS_CRUD_NAME

    def save_calendar_feed(self, external_id: str, secret_hash: str) -> None:
        record = {"externalId": external_id, "secretHash": secret_hash, "__STATE__": "PUBLIC"}
        for _attempt in range(CAS_ATTEMPTS):
            self.revoke_calendar_feed(external_id)
            try:
                self._call(self.client.create, self.calendar_feed_collection, record)
            except CrudConflict:
                continue  # a concurrent request gave them one meanwhile: the last one wins
            return
        raise StorageUnavailable(f"the calendar feed kept changing; gave up after {CAS_ATTEMPTS}")

    def revoke_calendar_feed(self, external_id: str) -> bool:
        return bool(
            self._call(
                self.client.delete_many,
                self.calendar_feed_collection,
                query={"externalId": external_id},
                states=ANY_STATE,
            )
        )

    def calendar_feed_made(self, external_id: str) -> datetime | None:
        rows = self._call(
            self.client.list,
            self.calendar_feed_collection,
            query={"externalId": external_id},
            states=LIVE,
            limit=1,
        )
        return parse_date(rows[0].get("createdAt")) if rows else None

    def calendar_stamp(self, secret_hash: str, *, ends_after: datetime) -> CalendarStamp | None:
        """The feed's record, then its visits (a page at most): two or three requests."""
        rows = self._call(
            self.client.list,
            self.calendar_feed_collection,
            query={"secretHash": secret_hash},
            states=LIVE,
            limit=1,
        )
        if not rows:
            return None
        owner = rows[0]["externalId"]
        visits = self.calendar_visits(owner, ends_after=ends_after, limit=PAGE)
        updates = [visit.updated_at for visit in visits if visit.updated_at is not None]
        return CalendarStamp(
            owner=owner,
            visits=len(visits),
            sequences=sum(visit.version for visit in visits),
            latest=max(updates, default=None),
        )

    def calendar_visits(
        self, external_id: str, *, ends_after: datetime, limit: int
    ) -> list[Teleconsultation]:
        # Records Mia's service wrote name participants by Kaleyra user id only.
        mapping = self.mappings_for([external_id]).get(external_id)
        mine = [{"participants.userExternalId": external_id}]
        if mapping is not None:
            mine.append({"participants.userBandyerId": mapping.kaleyra_user_id})
        rows = self._call(
            self.client.list,
            self.teleconsultations,
            query={"$and": [{"$or": mine}, {"endDate": {"$gt": iso(ends_after)}}]},
            states=("PUBLIC", "TRASH"),
            sort="startDate,_id",
            limit=min(limit, PAGE),
        )
        return self._teleconsultations(rows)

    # --- the names Kaleyra shows in a call (issue #22) ----------------------------------------
    def display_names(self, kaleyra_user_ids: Sequence[str]) -> dict[str, str]:
        """Live records naming any of the users, newest write first, only their participants read
        back; a full page asks again for the users still unnamed, so each round names one more
        at least and the rounds are bounded by the users asked for."""
        wanted = set(kaleyra_user_ids)
        names: dict[str, str] = {}
        for _ in range(len(wanted)):
            rows = self._call(
                self.client.list,
                self.teleconsultations,
                query={"participants.userBandyerId": {"$in": sorted(wanted)}},
                states=LIVE,
                sort=("-updatedAt", "-_id"),
                limit=PAGE,
                projection="participants",
            )
            for row in rows:
                for member in row.get("participants") or ():
                    user_id = member.get("userBandyerId")
                    if user_id in wanted and user_id not in names:
                        names[user_id] = member.get("fullName") or ""
            wanted -= names.keys()
            if len(rows) < PAGE or not wanted:
                break
        return {user_id: name for user_id, name in names.items() if name}

    # --- Kaleyra webhooks (issue #13) --------------------------------------------------------
    @property
    def webhook_event_collection(self) -> str:
        """`WEBHOOK_EVENTS_CRUD_NAME` (read when used), unique on event + roomId + timestamp."""
        return settings.WEBHOOK_EVENTS_CRUD_NAME

    def find_by_room(self, room_id: str, *, include_trash: bool = False) -> Teleconsultation | None:
        rows = self._call(
            self.client.list,
            self.teleconsultations,
            query={"bandyerRoomId": room_id},
            states=ANY_STATE if include_trash else LIVE,
            sort="_id",
            limit=1,
        )
        return self._teleconsultations(rows)[0] if rows else None

    def record_webhook_event(self, event: WebhookEvent) -> bool:
        record = {
            **_webhook_event_key(event),
            "eventVersion": event.event_version,
            "namespace": event.namespace,
            "teleconsultationId": event.teleconsultation_id,
            "data": dict(event.data),
            "receivedAt": iso(event.received_at or datetime.now(UTC)),
            "__STATE__": "PUBLIC",
        }
        try:
            self._call(self.client.create, self.webhook_event_collection, record)
        except CrudConflict:
            return False  # the unique index: a replay
        return True

    def forget_webhook_event(self, event: WebhookEvent) -> None:
        self._call(
            self.client.delete_many,
            self.webhook_event_collection,
            query=_webhook_event_key(event),
        )

    def webhook_events(
        self,
        *,
        teleconsultation_id: str,
        event: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> list[WebhookEvent]:
        query = {"teleconsultationId": teleconsultation_id}
        if event is not None:
            query["event"] = event
        rows = self._call(
            self.client.list,
            self.webhook_event_collection,
            query=query,
            sort="-timestamp,-_id" if newest_first else "timestamp,_id",
            limit=min(limit, PAGE),
        )
        return [_webhook_event(row) for row in rows]

    def purge_webhook_events(self, older_than: datetime) -> int:
        query = {"receivedAt": {"$lt": iso(older_than)}}
        return self._erase(self.webhook_event_collection, query)

    # --- attendance (issue #25) ------------------------------------------------------------------
    @property
    def attendance_collection(self) -> str:
        """`ATTENDANCE_CRUD_NAME` (read when used), one record per visit, unique on
        `teleconsultationId`."""
        return settings.ATTENDANCE_CRUD_NAME

    def save_attendance(self, attendance: Attendance) -> Attendance | None:
        fields = {
            "collectedAt": iso(attendance.collected_at),
            "noShow": attendance.no_show,
            "attendees": [attendee_record(each) for each in attendance.attendees],
        }
        for _attempt in range(2):
            before = self._attendance_row(attendance.teleconsultation_id)
            if before is not None:
                self._call(self.client.patch, self.attendance_collection, before["_id"], set=fields)
                return _attendance(before)
            record = {
                "teleconsultationId": attendance.teleconsultation_id,
                **fields,
                "__STATE__": "PUBLIC",
            }
            try:
                self._call(self.client.create, self.attendance_collection, record)
            except CrudConflict:
                continue  # another run stored it first (the unique index): written over
            return None
        raise StorageUnavailable("the attendance record could not be written")

    def attendance(self, teleconsultation_id: str) -> Attendance | None:
        row = self._attendance_row(teleconsultation_id)
        return _attendance(row) if row is not None else None

    def without_attendance(self, teleconsultation_ids: Sequence[str]) -> list[str]:
        wanted = list(teleconsultation_ids)
        collected: set[str] = set()
        for start in range(0, len(wanted), PAGE):
            rows = self._call(
                self.client.list,
                self.attendance_collection,
                query={"teleconsultationId": {"$in": wanted[start : start + PAGE]}},
                states=ANY_STATE,
                limit=PAGE,
                projection=["teleconsultationId"],
            )
            collected.update(row.get("teleconsultationId") for row in rows)
        return [each for each in wanted if each not in collected]

    def _attendance_row(self, teleconsultation_id: str) -> dict | None:
        rows = self._call(
            self.client.list,
            self.attendance_collection,
            query={"teleconsultationId": teleconsultation_id},
            states=ANY_STATE,
            sort="_id",
            limit=1,
        )
        return rows[0] if rows else None

    def _erase(self, collection: str, query: dict) -> int:
        """Erases the records `query` matches, whatever their state; how many."""
        doomed = self._call(self.client.count, collection, query=query)
        if doomed:
            self._call(self.client.delete_many, collection, query=query, states=ANY_STATE)
        return doomed

    # --- paging ----------------------------------------------------------------------------------
    def _id_pages(self, query: dict, states, batch_size: int, *, fields: str | None = "_id"):
        """Pages of records in `_id` order, keyset-paginated (never `_sk`: rows that change
        meanwhile would shift the pages)."""
        last = None
        while True:
            page_query = query if last is None else {"$and": [query, {"_id": {"$gt": last}}]}
            rows = self._call(
                self.client.list,
                self.teleconsultations,
                query=page_query,
                states=states,
                sort="_id",
                limit=min(batch_size, PAGE),
                projection=fields,
            )
            if not rows:
                return
            yield rows
            last = rows[-1]["_id"]

    def _walk(self, name: str, *, query: dict, states, fields: str | None = None) -> list[dict]:
        rows, last = [], None
        while True:
            page_query = query if last is None else {"$and": [query, {"_id": {"$gt": last}}]}
            page = self._call(
                self.client.list,
                name,
                query=page_query,
                states=states,
                sort="_id",
                limit=PAGE,
                projection=fields,
            )
            rows.extend(page)
            if len(page) < PAGE:
                return rows
            last = page[-1]["_id"]


def _complete(record: dict) -> bool:
    return len(record.get("participants") or ()) >= int(record["participantsNumber"])


def _selection(
    *,
    ended_before: datetime | None = None,
    ended_after: datetime | None = None,
    include_trash: bool = False,
    trashed_before: datetime | None = None,
    with_room: bool = False,
) -> tuple[dict, tuple[str, ...]]:
    clauses: list[dict[str, Any]] = []
    if with_room:
        clauses.append({"bandyerRoomId": {"$exists": True, "$ne": None}})
    states = ANY_STATE if include_trash else LIVE
    if trashed_before is not None:
        states = ("TRASH",)
        clauses.append({"updatedAt": {"$lt": iso(trashed_before)}})
    if ended_before is not None:
        clauses.append({"endDate": {"$lt": iso(ended_before)}})
    if ended_after is not None:
        clauses.append({"endDate": {"$gte": iso(ended_after)}})
    return ({"$and": clauses} if clauses else {}), states


def _without_room(*, claimed_before: datetime, ends_after: datetime) -> dict:
    return {
        "$and": [
            {"endDate": {"$gt": iso(ends_after)}},
            {"$or": [{"bandyerRoomId": {"$exists": False}}, {"bandyerRoomId": None}]},
            {
                "$or": [
                    {"roomClaim": {"$exists": False}},
                    {"roomClaim": None},
                    {"updatedAt": {"$lt": iso(claimed_before)}},
                ]
            },
        ]
    }


def _job_key(job: RoomJob) -> dict:
    return {"kind": job.kind.value, "key": job.key}


def _job_record(job: RoomJob) -> dict:
    return {
        "kind": job.kind.value,
        "key": job.key,
        "teleconsultationId": job.teleconsultation_id,
        "reason": job.reason[:255],
        "attempts": job.attempts,
        "lastError": job.last_error,
        "abandoned": job.abandoned,
        "payload": job.payload,
        "__STATE__": "PUBLIC",
    }


def _job(row: dict) -> RoomJob:
    return RoomJob(
        kind=JobKind(row["kind"]),
        key=row["key"],
        teleconsultation_id=row.get("teleconsultationId") or "",
        reason=row.get("reason") or "",
        attempts=int(row.get("attempts") or 0),
        last_error=row.get("lastError") or "",
        abandoned=bool(row.get("abandoned")),
        payload=row.get("payload"),
        created_at=parse_date(row.get("createdAt")),
        updated_at=parse_date(row.get("updatedAt")),
        id=row["_id"],
    )


def _audit_entry(row: dict) -> AuditEntry:
    return AuditEntry(
        action=row.get("action") or "",
        actor=row.get("actor") or "",
        outcome=row.get("outcome") or "",
        teleconsultation_id=row.get("teleconsultationId") or "",
        request_id=row.get("requestId") or "",
        client_type=row.get("clientType") or "",
        detail=row.get("detail") or {},
        at=parse_date(row.get("at")),
        id=row["_id"],
    )


def _webhook_event_key(event: WebhookEvent) -> dict:
    return {"event": event.event, "roomId": event.room_id, "timestamp": iso(event.timestamp)}


def _settled_by(created_before: datetime, renewed_before: datetime | None) -> dict:
    """The jobs `job_batches` selects with `created_before` (and `renewed_before`)."""
    created = {"createdAt": {"$lt": iso(created_before)}}
    if renewed_before is None:
        return {"$or": [created, {"abandoned": True}]}
    return {
        "$or": [
            {"abandoned": True},
            {"payload.run": {"$exists": True}, "updatedAt": {"$lt": iso(renewed_before)}},
            {"payload.run": {"$exists": False}, **created},
        ]
    }


def _held(job: RoomJob) -> dict:
    """A held job's record (a run lock, a swap slot, an intent) while the run that took it holds
    it."""
    return {**_job_key(job), "payload.run": (job.payload or {}).get("run")}


def _webhook_event(row: dict) -> WebhookEvent:
    return WebhookEvent(
        event=row["event"],
        room_id=row.get("roomId") or "",
        timestamp=required_date(row, "timestamp"),
        data=row.get("data") or {},
        event_version=row.get("eventVersion") or "",
        namespace=row.get("namespace") or "",
        teleconsultation_id=row.get("teleconsultationId") or "",
        received_at=parse_date(row.get("receivedAt")),
        id=row["_id"],
    )


def _attendance(row: dict) -> Attendance:
    return Attendance(
        teleconsultation_id=row.get("teleconsultationId") or "",
        collected_at=required_date(row, "collectedAt"),
        attendees=tuple(attendee_from_record(each) for each in row.get("attendees") or ()),
    )
