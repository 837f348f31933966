"""Support work on teleconsultations, run through the same services as the API, told as `Outcome`s.

The admin actions and the management commands both call these, so an item is handled, and what
happened is worded, the same way whichever of them asked. An operation takes a chunk of items and
a pool for its provider calls (`rooms.services.concurrency`) and gives back an `Underway`; the
admin runs it on a chunk of one (`one`). Nothing here raises for a service refusal or a provider
failure: each becomes an outcome, and `provider_failed` tells a long run that it should stop
rather than keep calling a provider in trouble. Each operation records its outcomes in the audit
trail (`rooms.services.audit`), whoever asked.
"""

import enum
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, wait
from dataclasses import dataclass
from typing import Any

from kaleyra.errors import KaleyraBadRequest, KaleyraBadResponse, KaleyraError, KaleyraNotFound
from kaleyra.provider import get_video_provider
from rooms.domain import RoomJob
from rooms.errors import TeleconsultationNotFound
from rooms.services import attendance, audit, lifecycle, room_swap, uploads
from rooms.services.concurrency import Inline, failure_of
from rooms.storage import get_storage
from teleconsultation_project.errors import ApiError, provider_trouble
from teleconsultation_project.metrics import ROOM_LISTING_UNREADABLE

logger = logging.getLogger("teleconsultation.rooms")


class Result(enum.Enum):
    DONE = "done"
    PARTLY_DONE = "partly done"  # the rest is left for a later run (or reconcile_rooms)
    SKIPPED = "skipped"
    FAILED = "failed"

    @property
    def label(self) -> str:
        """Its name in metrics and log fields: `partly_done`."""
        return self.name.lower()


@dataclass(frozen=True)
class Outcome:
    result: Result
    message: str
    provider_failed: bool = False


def _provider_failure(teleconsultation_id: str, what: str, exc: KaleyraError) -> Outcome:
    return Outcome(
        Result.FAILED,
        f"Teleconsultation {teleconsultation_id}: {what}: {provider_trouble(exc)}; try again later",
        provider_failed=True,
    )


def _refused(teleconsultation_id: str, exc: ApiError) -> Outcome:
    return Outcome(Result.FAILED, f"Teleconsultation {teleconsultation_id}: {exc.detail}")


def _audited(action: str):
    """Records the outcome of the operation on one teleconsultation as `action`."""

    def decorate(operation):
        @functools.wraps(operation)
        def run(teleconsultation_id: str, *, actor: str, **options) -> Outcome:
            outcome = operation(teleconsultation_id, actor=actor, **options)
            audit.record(
                action,
                actor=actor,
                teleconsultation_id=teleconsultation_id,
                outcome=outcome.result.value,
                detail={"message": outcome.message},
            )
            return outcome

        return run

    return decorate


def one(operation: Callable[..., "Underway"], item, **options) -> Outcome:
    """`operation` on a chunk of one, on the caller's thread: what the admin runs."""
    (outcome,) = operation([item], pool=Inline(), **options).outcomes()
    return outcome


def move_to_trash(teleconsultation_ids: Sequence[str], *, actor: str, pool) -> "Underway":
    """Moves the teleconsultations to TRASH in one write, with their rooms' deletions, then
    deletes their Kaleyra rooms on `pool`."""
    removed, deletions = lifecycle.teleconsultations_delete(
        teleconsultation_ids=teleconsultation_ids, actor=actor, pool=pool
    )

    def outcome(teleconsultation_id: str, failures: dict) -> Outcome:
        room_id = removed[teleconsultation_id]
        if isinstance(room_id, ApiError):
            return _not_trashed(teleconsultation_id, room_id)
        if room_id is None:
            return _trashed(teleconsultation_id, None)
        failure = failures[room_id]
        return _trashed(
            teleconsultation_id,
            failure is None,
            provider_failed=isinstance(failure, KaleyraError),
        )

    return _settled(teleconsultation_ids, outcome, deletions, action=audit.DELETE, actor=actor)


def _not_trashed(teleconsultation_id: str, refusal: ApiError) -> Outcome:
    if isinstance(refusal, TeleconsultationNotFound):
        return Outcome(
            Result.SKIPPED, f"Teleconsultation {teleconsultation_id}: already in the trash"
        )
    return _refused(teleconsultation_id, refusal)


def _trashed(
    teleconsultation_id: str, room_deleted: bool | None, *, provider_failed: bool = True
) -> Outcome:
    """In TRASH; `room_deleted` is None when it had no room."""
    if room_deleted is False:
        # The record is in TRASH; only the provider call is left, recorded for reconcile_rooms.
        return Outcome(
            Result.PARTLY_DONE,
            f"Teleconsultation {teleconsultation_id}: moved to trash, but its Kaleyra room could "
            "not be deleted now; reconcile_rooms will delete it",
            provider_failed=provider_failed,
        )
    room = "Kaleyra room deleted" if room_deleted else "it had no Kaleyra room"
    return Outcome(Result.DONE, f"Teleconsultation {teleconsultation_id}: moved to trash, {room}")


@_audited(audit.ATTENDANCE_COLLECT)
def collect_attendance(teleconsultation_id: str, *, actor: str) -> Outcome:
    """Fetches who joined the visit's calls and stores it (again, when collected before)."""
    try:
        collected = attendance.collect(teleconsultation_id)
    except ApiError as exc:
        return _refused(teleconsultation_id, exc)
    except KaleyraNotFound:
        return Outcome(
            Result.FAILED,
            f"Teleconsultation {teleconsultation_id}: its Kaleyra room is gone; attendance not "
            "collected",
        )
    except KaleyraError as exc:
        return _provider_failure(teleconsultation_id, "attendance not collected", exc)
    joined = len(collected.attendees)
    told = f"no-show, {joined} joined" if collected.no_show else f"{joined} joined"
    return Outcome(
        Result.DONE, f"Teleconsultation {teleconsultation_id}: attendance collected ({told})"
    )


@_audited(audit.UPLOADS_DELETE)
def delete_uploads(teleconsultation_id: str, *, actor: str, force: bool) -> Outcome:
    """Deletes the files uploaded in the teleconsultation's room, trashed ones included (`actor`
    is who asked, for the audit trail)."""
    try:
        deletion = uploads.uploads_delete(
            teleconsultation_id=teleconsultation_id, include_trash=True, force=force
        )
    except ApiError as exc:
        return _refused(teleconsultation_id, exc)
    except KaleyraError as exc:
        return _provider_failure(teleconsultation_id, "uploads not deleted", exc)
    if deletion is None:
        return Outcome(
            Result.SKIPPED,
            f"Teleconsultation {teleconsultation_id}: upload deletion is disabled "
            "(TELECONSULTATION_DELETE_UPLOADS)",
        )
    if deletion.total == 0:
        return Outcome(
            Result.SKIPPED, f"Teleconsultation {teleconsultation_id}: no uploads to delete"
        )
    counts = f"{deletion.deleted} of {deletion.total} uploads deleted"
    if deletion.recordings_total:
        counts += (
            f" (recordings among them: {deletion.recordings_deleted} of "
            f"{deletion.recordings_total})"
        )
    if deletion.failed:
        return Outcome(
            Result.PARTLY_DONE,
            f"Teleconsultation {teleconsultation_id}: {counts}; run it again to delete the rest",
            provider_failed=True,
        )
    return Outcome(Result.DONE, f"Teleconsultation {teleconsultation_id}: {counts}")


@_audited(audit.ROOM_RECREATE)
def recreate_room(teleconsultation_id: str, *, actor: str) -> Outcome:
    """Gives a complete teleconsultation a new Kaleyra room; the old one, if any, is deleted."""
    try:
        room_id = lifecycle.recreate_room(teleconsultation_id=teleconsultation_id, actor=actor)
    except TeleconsultationNotFound:
        return Outcome(
            Result.SKIPPED,
            f"Teleconsultation {teleconsultation_id}: in the trash, no room to create",
        )
    except ApiError as exc:
        return _refused(teleconsultation_id, exc)
    except KaleyraError as exc:
        return _provider_failure(teleconsultation_id, "room not created", exc)
    return Outcome(
        Result.DONE, f"Teleconsultation {teleconsultation_id}: new Kaleyra room {room_id}"
    )


def finish_room_deletions(pending: Sequence[RoomJob], *, actor: str, pool) -> "Underway":
    """Deletes the rooms failures left behind, on `pool`; one query finds those a live visit
    holds after all, which are only forgotten (`actor` is who asked, for the audit trail)."""
    kept, deletions = room_swap.finish_room_deletions(pending, pool=pool)

    def outcome(job: RoomJob, failures: dict) -> Outcome | None:
        if job.key in kept:
            return _room_deletion_finished(job, None)
        failure = failures[job.key]
        if isinstance(failure, CancelledError):
            return None  # never tried (the provider had failed): left as it was, for later
        return _room_deletion_finished(
            job, failure is None, provider_failed=isinstance(failure, KaleyraError)
        )

    return _settled(
        pending,
        outcome,
        deletions,
        action=audit.ROOM_DELETION_FINISHED,
        actor=actor,
        subject=lambda job: job.teleconsultation_id,
    )


def _room_deletion_finished(
    pending: RoomJob, deleted: bool | None, *, provider_failed: bool = True
) -> Outcome:
    """`deleted` is None when a live visit holds the room (the job was only forgotten)."""
    label = f"room {pending.key}"
    if pending.teleconsultation_id:
        label += f" (teleconsultation {pending.teleconsultation_id})"
    if deleted is None:
        return Outcome(Result.SKIPPED, f"{label}: in use by a live teleconsultation, kept")
    if deleted:
        return Outcome(Result.DONE, f"{label}: deleted")
    return Outcome(
        Result.FAILED,
        f"{label}: the video provider (Kaleyra) failed again; still pending",
        provider_failed=provider_failed,
    )


class Underway:
    """A chunk of items whose provider calls are under way on a pool. `outcomes()` waits for them
    and gives each item's outcome, in the chunk's order (an item with none was left as it was, for
    a later run); after a Ctrl-C while it waits, it can be asked again."""

    def __init__(self, calls: Sequence[Future], tell: Callable[[], Sequence[Outcome | None]]):
        self._calls, self._tell = list(calls), tell
        self._outcomes: list[Outcome] | None = None
        self.interrupted = False  # a call stopped by KeyboardInterrupt: the run ends as on Ctrl-C

    def failing(self) -> bool:
        """Whether the provider already failed one of its calls (asked without waiting)."""
        return any(call.done() and _provider_failed(call) for call in self._calls)

    def outcomes(self) -> list[Outcome]:
        if self._outcomes is None:
            wait(self._calls)
            told = self._tell()
            self.interrupted = any(
                isinstance(failure_of(call), KeyboardInterrupt) for call in self._calls
            )
            self._outcomes = [outcome for outcome in told if outcome is not None]
        return self._outcomes


def told(outcomes: Sequence[Outcome]) -> Underway:
    """Outcomes known at once, with no provider call (a dry run's, a purge's)."""
    return Underway((), lambda: outcomes)


def on_each(work: Callable[[Any], Outcome]) -> Callable[..., Underway]:
    """The chunk operation of `work`, which handles one item (and audits it): each item of the
    chunk on the pool."""

    def start(items: Sequence, *, pool) -> Underway:
        calls = [pool.submit(work, item) for item in items]
        return Underway(calls, lambda: [_outcome_of(call) for call in calls])

    return start


def _outcome_of(call: Future) -> Outcome | None:
    failure = failure_of(call)
    if failure is None:
        return call.result()
    if isinstance(failure, CancelledError | KeyboardInterrupt):
        return None  # never started, or cut short: left for the next run
    raise failure


def _provider_failed(call: Future) -> bool:
    failure = failure_of(call)
    if failure is not None:
        return isinstance(failure, KaleyraError)
    return isinstance(call.result(), Outcome) and call.result().provider_failed


def _settled(
    items: Sequence,
    outcome: Callable[[Any, dict], Outcome | None],
    deletions: room_swap.RoomDeletions,
    *,
    action: str,
    actor: str,
    subject: Callable[[Any], str] = lambda teleconsultation_id: teleconsultation_id,
) -> Underway:
    """The chunk whose rooms `deletions` is deleting: once they settle, each item's outcome,
    audited in one write."""

    def tell() -> list[Outcome | None]:
        failures = deletions.settle()
        told = [
            (item, result)
            for item, result in ((item, outcome(item, failures)) for item in items)
            if result is not None
        ]
        audit.record_many(
            action,
            actor=actor,
            outcomes=[
                (subject(item), result.result.value, {"message": result.message})
                for item, result in told
            ],
        )
        return [result for _, result in told]

    return Underway(deletions.calls, tell)


class RoomIndex:
    """The provider's rooms by the tag in their description, listed once per run and only when
    an item needs it (items handled at once wait for the one listing). `available` is False when
    the provider cannot list rooms: it has no listing, or answers one this service cannot read
    (the listing's shape is unconfirmed, docs/kaleyra.md), so the items that need it are skipped
    while the rest of the run goes on."""

    def __init__(self) -> None:
        self._by_tag: dict[str, list[str]] | None = None
        self._ids: set[str] = set()
        self.available = True
        self._loading = threading.Lock()

    def _load(self) -> dict[str, list[str]]:
        with self._loading:
            if self._by_tag is not None:
                return self._by_tag
            by_tag: dict[str, list[str]] = {}
            try:
                for room in get_video_provider().iter_rooms():
                    self._ids.add(room.id)
                    if room.description:
                        by_tag.setdefault(room.description, []).append(room.id)
            except (KaleyraNotFound, KaleyraBadRequest, NotImplementedError):
                self.available = False
            except KaleyraBadResponse as exc:
                # The message names the page's keys, never its values (kaleyra.wire._page).
                logger.warning(
                    "Kaleyra's room listing could not be read, so no room can be looked for by "
                    "its tag: %s",
                    exc,
                    extra={"operation": exc.operation, "status": exc.status},
                )
                ROOM_LISTING_UNREADABLE.inc()
                self.available = False
            self._by_tag = by_tag
            return by_tag

    def tagged(self, tag: str) -> list[str] | None:
        by_tag = self._load()
        return by_tag.get(tag, []) if self.available else None

    def has(self, room_id: str) -> bool | None:
        self._load()
        return room_id in self._ids if self.available else None


def settle_intent(intent: RoomJob, rooms: RoomIndex) -> Outcome:
    """An intent whose request never came back: delete the rooms made for it that nobody holds."""
    label = f"room intent {intent.key}"
    if intent.teleconsultation_id:
        label += f" (teleconsultation {intent.teleconsultation_id})"
    try:
        tagged = rooms.tagged(intent.key)
    except KaleyraError as exc:
        return Outcome(
            Result.FAILED,
            f"{label}: {provider_trouble(exc)}; try again later",
            provider_failed=True,
        )
    if tagged is None:
        return Outcome(
            Result.SKIPPED,
            f"{label}: possible orphan room (its description is the tag); the provider cannot "
            "list rooms, so check it by hand in Kaleyra's dashboard",
        )
    storage = get_storage()
    orphans = [room_id for room_id in tagged if not storage.room_in_use(room_id)]
    for room_id in orphans:
        if not room_swap.delete_room(
            room_id, teleconsultation_id=intent.teleconsultation_id, reason="orphan of an intent"
        ):
            return Outcome(
                Result.FAILED,
                f"{label}: orphan room {room_id} could not be deleted; still pending",
                provider_failed=True,
            )
    storage.forget_jobs([intent])
    if orphans:
        return Outcome(Result.DONE, f"{label}: orphan room(s) {', '.join(orphans)} deleted")
    return Outcome(Result.DONE, f"{label}: no orphan room, forgotten")


def room_still_there(teleconsultation_id: str, room_id: str, rooms: RoomIndex) -> bool:
    """Whether the provider still has a live visit's room: listed, or else asked for it (a room
    made after the listing, by this run or another, is not listed but is there)."""
    if rooms.has(room_id):
        return True
    try:
        get_video_provider().get_room(room_id)
    except KaleyraNotFound:
        return False
    return True


def still_without_room(teleconsultation_id: str) -> bool:
    """Whether the visit is still complete without a room: a request may have given it one since
    it was listed."""
    visit = get_storage().find(teleconsultation_id)
    return visit is not None and visit.complete and not visit.kaleyra_room_id
