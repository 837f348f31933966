"""The storage interface the services, admin actions and commands use, and its Django backend.

Services never touch the ORM: they read and write through `get_storage()`, so another backend
(Mia's CRUD Service over HTTP) can replace this one without touching them. `locked()` is the one
place a write happens: a transaction holding the teleconsultation's row lock (SELECT ... FOR
UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers). No provider call may be
made while it is open.
"""

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache

from django.db import transaction
from django.db.models import Count, F, Prefetch, Q

from rooms.models import Participant, PendingRoomDeletion, Teleconsultation, UserMapping

# Every id is 24 lowercase hex characters; anything else cannot exist and is not looked up (a NUL
# byte in a path, for one, is an error in PostgreSQL rather than a miss).
ID_SHAPE = re.compile(r"[0-9a-f]{24}")


def is_teleconsultation_id(value: str) -> bool:
    return bool(ID_SHAPE.fullmatch(value))


class DjangoStorage:
    def find(self, teleconsultation_id: str, *, include_trash: bool = False):
        """The teleconsultation with its participants (two queries), or None."""
        if not is_teleconsultation_id(teleconsultation_id):
            return None
        query = Teleconsultation.objects.filter(id=teleconsultation_id)
        if not include_trash:
            query = query.filter(state=Teleconsultation.State.PUBLIC)
        ordered = Participant.objects.order_by("position")
        return query.prefetch_related(Prefetch("participants", queryset=ordered)).first()

    @contextmanager
    def locked(self, teleconsultation_id: str) -> Iterator[Teleconsultation | None]:
        """A live teleconsultation under its row lock, participants loaded; None when gone."""
        if not is_teleconsultation_id(teleconsultation_id):
            yield None
            return
        with transaction.atomic():
            teleconsultation = (
                Teleconsultation.objects.select_for_update()
                .filter(id=teleconsultation_id, state=Teleconsultation.State.PUBLIC)
                .first()
            )
            if teleconsultation is not None:
                ordered = list(teleconsultation.participants.order_by("position"))
                teleconsultation.loaded_participants = ordered
            yield teleconsultation

    def insert(
        self, teleconsultation: Teleconsultation, participants: Sequence[Participant]
    ) -> Teleconsultation:
        with transaction.atomic():
            teleconsultation.save(force_insert=True)
            for participant in participants:
                participant.teleconsultation = teleconsultation
            Participant.objects.bulk_create(participants)
        return teleconsultation

    def save(
        self, teleconsultation: Teleconsultation, *, actor: str, fields: Iterable[str]
    ) -> None:
        """Saves the fields named plus the audit fields, bumping the version (inside `locked`)."""
        teleconsultation.updated_by = actor
        teleconsultation.version = F("version") + 1
        update_fields = {*fields, "version", "updated_by", "updated_at"}
        teleconsultation.save(update_fields=sorted(update_fields))
        teleconsultation.refresh_from_db(fields=["version"])

    def replace_participants(
        self, teleconsultation: Teleconsultation, participants: Sequence[Participant]
    ) -> None:
        teleconsultation.participants.all().delete()
        for participant in participants:
            participant.teleconsultation = teleconsultation
        Participant.objects.bulk_create(participants)

    def add_participant(self, participant: Participant) -> None:
        participant.save(force_insert=True)

    def remove_participant(self, teleconsultation: Teleconsultation, external_id: str) -> None:
        teleconsultation.participants.filter(external_id=external_id).delete()

    def set_access_links(self, teleconsultation: Teleconsultation, links: dict[str, str]) -> None:
        """Stores each participant's link by Kaleyra user id (one UPDATE for them all)."""
        participants = list(teleconsultation.participants.all())
        for participant in participants:
            participant.access_link = links.get(participant.kaleyra_user_id, "")
        Participant.objects.bulk_update(participants, ["access_link"])

    # --- user map ------------------------------------------------------------------------------
    def mappings_for(self, external_ids: Iterable[str]) -> dict[str, UserMapping]:
        mappings = UserMapping.objects.filter(external_id__in=set(external_ids))
        return {mapping.external_id: mapping for mapping in mappings}

    def save_mappings(
        self, *, created: Sequence[UserMapping], role_changed: Sequence[UserMapping]
    ) -> None:
        if created:
            # Two requests may map the same new user at once; ids are deterministic, so the
            # second insert carries the same row and can be dropped.
            UserMapping.objects.bulk_create(created, ignore_conflicts=True)
        if role_changed:
            UserMapping.objects.bulk_update(role_changed, ["role"])

    # --- rooms that still have to be deleted on Kaleyra -----------------------------------------
    def remember_room_deletion(
        self, *, room_id: str, teleconsultation_id: str, reason: str
    ) -> None:
        PendingRoomDeletion.objects.get_or_create(
            kaleyra_room_id=room_id,
            defaults={"teleconsultation_id": teleconsultation_id, "reason": reason[:255]},
        )

    def forget_room_deletion(self, room_id: str) -> None:
        PendingRoomDeletion.objects.filter(kaleyra_room_id=room_id).delete()

    def room_deletion_failed(self, room_id: str, error: str) -> None:
        PendingRoomDeletion.objects.filter(kaleyra_room_id=room_id).update(
            attempts=F("attempts") + 1, last_error=error[:255]
        )

    # --- support work (admin actions, management commands) ------------------------------------
    # Walks are keyset-paginated on the primary key: one batch in memory however many rows, and
    # rows that change or vanish meanwhile (moved to TRASH, room attached) make none be skipped.

    def teleconsultation_id_batches(
        self, *, batch_size: int = 100, **selection
    ) -> Iterator[list[str]]:
        """Ids of the teleconsultations selected (see `count_teleconsultations`), a batch at a
        time."""
        return _id_batches(_selected_teleconsultations(**selection), batch_size)

    def count_teleconsultations(self, **selection) -> int:
        """Live teleconsultations (all with `include_trash`) ended in [`ended_after`,
        `ended_before`), or the trashed ones last written before `trashed_before`."""
        return _selected_teleconsultations(**selection).count()

    def erase_trashed(self, teleconsultation_ids: Sequence[str]) -> list[str]:
        """Erases for good those of the given teleconsultations still in TRASH; their ids."""
        with transaction.atomic():
            doomed = Teleconsultation.objects.filter(
                pk__in=list(teleconsultation_ids), state=Teleconsultation.State.TRASH
            )
            erased = list(doomed.values_list("pk", flat=True))
            Teleconsultation.objects.filter(pk__in=erased).delete()
        return erased

    def has_pending_room_deletion(self, teleconsultation_id: str) -> bool:
        return PendingRoomDeletion.objects.filter(teleconsultation_id=teleconsultation_id).exists()

    def count_pending_room_deletions(self) -> int:
        return PendingRoomDeletion.objects.count()

    def pending_room_deletion_batches(
        self, *, batch_size: int = 100
    ) -> Iterator[list[PendingRoomDeletion]]:
        """Rooms still to delete, fewest attempts first: one that keeps failing goes last."""
        last = None
        while True:
            page = PendingRoomDeletion.objects.order_by("attempts", "id")
            if last is not None:
                attempts, pk = last
                page = page.filter(Q(attempts__gt=attempts) | Q(attempts=attempts, id__gt=pk))
            rows = list(page[:batch_size])
            if not rows:
                return
            yield rows
            last = (rows[-1].attempts, rows[-1].id)

    def complete_without_room_batches(
        self, *, claimed_before: datetime, ends_after: datetime, batch_size: int = 100
    ) -> Iterator[list[str]]:
        """Live teleconsultations not over yet that are complete but have no room (what a failure
        or a crash left behind; claims younger than `claimed_before` are still being served), a
        batch of ids at a time."""
        query = _complete_without_room(claimed_before=claimed_before, ends_after=ends_after)
        return _id_batches(query, batch_size)

    def count_complete_without_room(self, *, claimed_before: datetime, ends_after: datetime) -> int:
        return _complete_without_room(claimed_before=claimed_before, ends_after=ends_after).count()


def _selected_teleconsultations(
    *,
    ended_before: datetime | None = None,
    ended_after: datetime | None = None,
    include_trash: bool = False,
    trashed_before: datetime | None = None,
):
    query = Teleconsultation.objects.all()
    if trashed_before is not None:
        query = query.filter(state=Teleconsultation.State.TRASH, updated_at__lt=trashed_before)
    elif not include_trash:
        query = query.filter(state=Teleconsultation.State.PUBLIC)
    if ended_before is not None:
        query = query.filter(end__lt=ended_before)
    if ended_after is not None:
        query = query.filter(end__gte=ended_after)
    return query


def _complete_without_room(*, claimed_before: datetime, ends_after: datetime):
    return (
        Teleconsultation.objects.filter(state=Teleconsultation.State.PUBLIC, end__gt=ends_after)
        .filter(kaleyra_room_id__isnull=True)
        .exclude(room_claim__isnull=False, updated_at__gte=claimed_before)
        .annotate(known=Count("participants"))
        .filter(known=F("participants_number"))
    )


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


@cache
def get_storage() -> DjangoStorage:
    return DjangoStorage()
