"""The one place a teleconsultation's Kaleyra room is created, replaced or deleted.

A Kaleyra room and the record that holds it cannot change in one transaction, so every change
follows the same steps, and no failure half-way leaves a room that nobody will delete:
1. take the visit's swap slot (`SwapSlot`, below: one swap per visit calls Kaleyra at a time),
   record the *intent* (a room job whose tag the room carries in its description), then ask
   Kaleyra for the room, outside any transaction; a heartbeat (`Heartbeat`, below) renews the
   slot and the intent meanwhile, so a dead worker's are told from a live one's within a lease;
2. under the backend's concurrency control, check the visit is still as read, attach the room,
   record the room being replaced as a pending deletion and forget the intent, in one write;
3. after that write, delete the replaced room; when the visit changed meanwhile, discard the new
   room instead. A deletion that fails stays recorded for `reconcile_rooms`, and so does an
   intent whose answer never came.
"""

import contextvars
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError
from dataclasses import replace
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import connections
from django.utils import timezone

from kaleyra.errors import KaleyraBadRequest, KaleyraError, KaleyraNotFound, KaleyraRateLimited
from kaleyra.provider import get_video_provider
from kaleyra.types import Room
from rooms.domain import JobKind, RoomJob, Teleconsultation, Write
from rooms.errors import TeleconsultationNotFound
from rooms.rules import room_spec, trash
from rooms.rules.permissions import Writer
from rooms.selectors import room_details
from rooms.services.concurrency import InFlight, failure_of, start_on_kept_threads
from rooms.storage import get_storage
from teleconsultation_project.errors import ApiError

logger = logging.getLogger("teleconsultation.rooms")

WRITE_ATTEMPTS = 3

# --- The swap slot and the heartbeat (held room jobs and their leases) ---------------------

# A held job not renewed for LEASE is a dead worker's. Three renewals fit in it, so a renewal that
# fails once or a slow storage write does not make a live worker look dead.
LEASE = timedelta(seconds=30)
RENEW_EVERY = timedelta(seconds=10)
# How long a change waits for another swap of the same visit before answering 409, and how often
# it looks again meanwhile. A swap takes one Kaleyra call and two storage writes.
SWAP_WAIT = timedelta(seconds=2)
SWAP_POLL = timedelta(milliseconds=100)


def new_run() -> dict:
    """The payload of a job held by the calling worker: a run id of its own."""
    return {"run": secrets.token_hex(8)}


def pause(stopped: threading.Event, seconds: float) -> bool:
    """Waits `seconds`, or less if `stopped` is set meanwhile; whether it is set. (Tests replace
    it: under faketime a timed wait never ends.)"""
    return stopped.wait(seconds)


class Heartbeat:
    """Renews the jobs it holds every RENEW_EVERY, on a thread of its own, until the block ends.
    The thread starts with the first job held; a block that holds none costs nothing."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], RoomJob] = {}
        self._guard = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "Heartbeat":
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()

    def hold(self, job: RoomJob) -> None:
        with self._guard:
            self._held[(job.kind, job.key)] = job
            if self._thread is None:
                context = contextvars.copy_context()  # the request id follows, for the logs
                self._thread = threading.Thread(
                    target=context.run, args=(self._beat,), name="room-job-heartbeat", daemon=True
                )
                self._thread.start()

    def drop(self, job: RoomJob) -> None:
        with self._guard:
            self._held.pop((job.kind, job.key), None)

    def _beat(self) -> None:
        try:
            while not pause(self._stopped, RENEW_EVERY.total_seconds()):
                with self._guard:
                    held = list(self._held.values())
                for job in held:
                    self._renew(job)
        finally:
            # The thread's own database connection, if a renewal opened one.
            for connection in connections.all(initialized_only=True):
                connection.close()

    def _renew(self, job: RoomJob) -> None:
        try:
            if not get_storage().renew_held_job(job):
                logger.warning("Room job %s %s was taken over while held", job.kind, job.key)
        except Exception as exc:  # the next beat tries again; LEASE allows for a few misses
            logger.warning("Room job %s %s not renewed (%s)", job.kind, job.key, type(exc).__name__)


def swap_under_way(teleconsultation_id: str) -> bool:
    """Whether a live worker holds the visit's swap slot (it is giving the visit a room)."""
    slot = get_storage().find_job(JobKind.ROOM_SWAP, teleconsultation_id)
    return bool(slot and slot.updated_at and slot.updated_at >= timezone.now() - LEASE)


class SlotBusy(Exception):
    """Another swap of the visit went on for longer than SWAP_WAIT."""


class SwapSlot:
    """The right to make a new room for one visit: a `room_swap` job keyed by the visit's id,
    recorded once (`record_job_once`), renewed by `heartbeat` and forgotten when the swap ends. A
    dead worker's slot is taken over once its lease has run out."""

    def __init__(self, teleconsultation_id: str, *, heartbeat: Heartbeat) -> None:
        self.job = RoomJob(
            kind=JobKind.ROOM_SWAP,
            key=teleconsultation_id,
            teleconsultation_id=teleconsultation_id,
            payload=new_run(),
        )
        self.heartbeat = heartbeat
        self.held = False

    def take(self) -> None:
        """Waits up to SWAP_WAIT while another swap holds the slot; raises `SlotBusy` after."""
        storage = get_storage()
        give_up_at = time.monotonic() + SWAP_WAIT.total_seconds()
        while True:
            held = storage.record_job_once(self.job)
            if held is None:
                break
            if storage.forget_stale_job(held, stale_before=timezone.now() - LEASE):
                continue  # its worker died
            if time.monotonic() >= give_up_at:
                raise SlotBusy(self.job.key)
            time.sleep(SWAP_POLL.total_seconds())
        self.held = True
        self.heartbeat.hold(self.job)

    def release(self) -> None:
        if not self.held:
            return
        self.heartbeat.drop(self.job)
        self.held = False
        try:
            get_storage().release_held_job(self.job)
        except Exception as exc:  # the swap's own outcome matters more; the slot runs out
            logger.warning("Swap slot of %s not released (%s)", self.job.key, type(exc).__name__)


class Stale(Exception):
    """The visit changed between the read and the write in a way that invalidates the room."""


def room_tag() -> str:
    """What a room carries in its description, so it can be found again whatever is lost (a new
    visit has no id before it is stored, so the tag stands on its own)."""
    return f"teleconsultation-room:{secrets.token_hex(8)}"


def create_room(
    wanted: Teleconsultation, *, reason: str, heartbeat: Heartbeat
) -> tuple[Room, RoomJob]:
    """A room for `wanted`, its intent recorded first and held alive by `heartbeat`; the caller's
    write forgets the intent."""
    intent = record_intent(wanted.id, reason=reason, heartbeat=heartbeat)
    return create_room_while(wanted, intent, meanwhile=None), intent


def record_intent(teleconsultation_id: str, *, reason: str, heartbeat: Heartbeat) -> RoomJob:
    """The intent of a room about to be asked for, recorded and held alive by `heartbeat`: if
    the room is made and nothing records it, reconcile finds it by the intent's tag."""
    intent = RoomJob(
        kind=JobKind.ROOM_INTENT,
        key=room_tag(),
        teleconsultation_id=teleconsultation_id,
        reason=reason,
        payload=new_run(),
    )
    get_storage().record_jobs([intent])
    heartbeat.hold(intent)
    return intent


def room_for(intent: RoomJob, making: Callable[[], Room]) -> Room:
    """The room `making` gives for `intent` (the call itself, or the wait for it). A refusal
    forgets the intent; any other failure leaves it to reconcile."""
    try:
        return making()
    except (KaleyraBadRequest, KaleyraRateLimited):
        # Refused outright, a 429 included (the client repeats room creation only after 429s, so
        # no attempt got further): nothing was made.
        get_storage().forget_jobs([intent])
        raise
    except KaleyraError:
        # The provider may have acted before the answer was lost: reconcile looks for the room
        # by its tag now, without waiting for a dead request's grace period.
        get_storage().abandon_job(intent)
        raise


def create_room_while(
    wanted: Teleconsultation, intent: RoomJob, *, meanwhile: Callable[[], None] | None
) -> Room:
    """`create_room` with its intent recorded already, the call made on a kept thread while
    `meanwhile` runs on this one (a new visit's user map is written then); with nothing to do
    meanwhile, on this thread. If `meanwhile` fails, the room is deleted once made, and its
    intent forgotten."""
    if meanwhile is None:
        return room_for(intent, lambda: _make_room(wanted, tag=intent.key))
    flight = start_on_kept_threads(
        lambda visit: _make_room(visit, tag=intent.key),
        [wanted],
        size=settings.KALEYRA_PARALLEL_CALLS,
        name="kaleyra-rooms",
    )
    try:
        meanwhile()
    except BaseException:
        _discard_when_made(flight, intent, teleconsultation_id=wanted.id)
        raise
    return room_for(intent, lambda: flight.results()[0])


def _discard_when_made(flight: InFlight[Room], intent: RoomJob, *, teleconsultation_id: str):
    try:
        room = room_for(intent, lambda: flight.results()[0])
    except Exception:  # `room_for` settled the intent; the caller's own error is the one raised
        return
    discard(room, intent, teleconsultation_id=teleconsultation_id, reason="not stored")


def discard(room: Room, intent: RoomJob, *, teleconsultation_id: str, reason: str) -> None:
    """A room made for a write that did not happen: delete it, then forget its intent."""
    delete_room(room.id, teleconsultation_id=teleconsultation_id, reason=reason)
    get_storage().forget_jobs([intent])


def swap_room(
    teleconsultation_id: str,
    *,
    target: Callable[[Teleconsultation], Teleconsultation],
    actor: str,
    reason: str,
    new_room: bool = False,
    attempts: int = WRITE_ATTEMPTS,
) -> Teleconsultation:
    """Writes what `target` makes of the visit, giving it the room it needs.

    `target` maps the freshest record to what it must become (it may raise to refuse, or `Stale`).
    It runs once on the record as read, then again under the write's concurrency control: the
    room made from the first answer is attached only if the second needs the very same room.
    A complete visit keeps its room when its signature is unchanged, unless `new_room`.
    A change that needs a new room first takes the visit's swap slot, waiting briefly for
    another swap of it to end. Raises `Stale` when every attempt lost a race, or the slot stayed
    taken.
    """
    with Heartbeat() as heartbeat:
        slot = SwapSlot(teleconsultation_id, heartbeat=heartbeat)
        try:
            for _attempt in range(attempts):
                after = _attempt_swap(
                    teleconsultation_id,
                    target=target,
                    actor=actor,
                    reason=reason,
                    new_room=new_room,
                    slot=slot,
                )
                if after is not None:
                    return after
        except SlotBusy:
            pass  # another swap of the visit went on too long: nothing was asked of Kaleyra
        finally:
            slot.release()
    raise Stale(teleconsultation_id)


def _attempt_swap(
    teleconsultation_id: str,
    *,
    target,
    actor: str,
    reason: str,
    new_room: bool,
    slot: SwapSlot,
):
    """One try of `swap_room`: the written record, or None when the visit changed meanwhile."""
    storage = get_storage()
    while True:
        current = storage.find(teleconsultation_id)
        if current is None:
            raise TeleconsultationNotFound(teleconsultation_id)
        wanted = target(current)
        old_room = current.kaleyra_room_id
        keep = bool(old_room and not new_room and _same_room(wanted, current))
        if slot.held or keep or not wanted.complete:
            break
        # Read again once the slot is ours: the swap it waited for has changed the visit.
        slot.take()
    heartbeat = slot.heartbeat
    made = (
        create_room(wanted, reason=reason, heartbeat=heartbeat)
        if wanted.complete and not keep
        else None
    )

    def change(fresh: Teleconsultation | None) -> Write:
        if fresh is None:
            raise TeleconsultationNotFound(teleconsultation_id)
        try:
            again = target(fresh)
        except Stale:
            return Write(None)
        if fresh.kaleyra_room_id != old_room or not _fits(again, wanted, made, keep):
            return Write(None)
        if keep:
            links = {member.kaleyra_user_id: member.access_link for member in fresh.participants}
        else:
            links = room_spec.links_by_user(made[0]) if made else {}
        room_id = old_room if keep else (made[0].id if made else None)
        after = replace(again, kaleyra_room_id=room_id, room_claim=None).with_links(links)
        replaced = old_room if old_room and not keep else None
        return Write(
            after,
            record=(trash.room_deletion(replaced, teleconsultation_id, reason),)
            if replaced
            else (),
            forget=(made[1],) if made else (),
        )

    try:
        _, after = storage.update(teleconsultation_id, change, actor=actor)
    except BaseException:
        if made:  # an unrecorded room is an orphan
            discard(*made, teleconsultation_id=teleconsultation_id, reason="not stored")
        raise
    finally:
        if made:
            heartbeat.drop(made[1])  # forgotten by the write, or by `discard`
    if after is None:
        if made:
            discard(*made, teleconsultation_id=teleconsultation_id, reason="concurrent change")
        return None
    slot.release()  # the replaced room's deletion is recorded: the next swap may go on
    if old_room and not keep:
        delete_room(old_room, teleconsultation_id=teleconsultation_id, reason=reason)
    return after


def _same_room(one: Teleconsultation, other: Teleconsultation) -> bool:
    return one.complete and room_spec.room_signature(
        one.participants, one.start, one.end, recording=one.recording
    ) == room_spec.room_signature(
        other.participants, other.start, other.end, recording=other.recording
    )


def _fits(again: Teleconsultation, wanted: Teleconsultation, made, keep: bool) -> bool:
    """Whether the room decided from the first read is the one the fresh record needs."""
    if made:
        return again.complete and _same_room(again, wanted)
    if keep:
        return True  # the room id is unchanged, and `keep` implies the same signature
    return not again.complete


def remove_room(
    teleconsultation_id: str, *, writer: Writer | None, actor: str, reason: str
) -> tuple[Teleconsultation | None, str | None, bool]:
    """Moves the visit to TRASH once `writer` may write to it (`rules.trash.to_trash_by`), then
    deletes its room; the deletion is recorded in the same write, so even a crash right after
    leaves it known. (after, the room it had or None, whether that room is gone.)"""
    change = partial(
        trash.to_trash_by, writer=writer, teleconsultation_id=teleconsultation_id, reason=reason
    )
    before, after = get_storage().update(teleconsultation_id, change, actor=actor)
    room_id = before.kaleyra_room_id if before and before.kaleyra_room_id else None
    if room_id is None:
        return after, None, True
    return (
        after,
        room_id,
        delete_room(room_id, teleconsultation_id=teleconsultation_id, reason=reason),
    )


def remove_rooms(
    teleconsultation_ids: Sequence[str], *, actor: str, reason: str, pool
) -> tuple[dict[str, "str | None | ApiError"], "RoomDeletions"]:
    """Support work's `remove_room` of a chunk of visits (`rules.trash.to_trash`): their changes
    in one `update_many` (one transaction on the Django backend), each recording its room's
    deletion, then the rooms deleted on `pool` while the caller goes on. Each visit's room id
    (None: it had none) or the refusal of its change, and the deletions under way."""
    changes = {
        teleconsultation_id: partial(
            trash.to_trash, teleconsultation_id=teleconsultation_id, reason=reason
        )
        for teleconsultation_id in teleconsultation_ids
    }
    written = get_storage().update_many(changes, actor=actor)
    removed = {
        teleconsultation_id: result if isinstance(result, ApiError) else _room_of(result[0])
        for teleconsultation_id, result in written.items()
    }
    deletions = [
        trash.room_deletion(room_id, teleconsultation_id, reason)
        for teleconsultation_id, room_id in removed.items()
        if isinstance(room_id, str)
    ]
    return removed, RoomDeletions(deletions, pool=pool)


def _room_of(before: Teleconsultation | None) -> str | None:
    return before.kaleyra_room_id or None if before else None


def delete_room(room_id: str, *, teleconsultation_id: str, reason: str) -> bool:
    """Deletes a room on Kaleyra and forgets its pending deletion; on failure records it for
    reconcile. True when the room is gone."""
    job = trash.room_deletion(room_id, teleconsultation_id, reason)
    room_details.forget(room_id)
    try:
        _delete_on_kaleyra(room_id)
    except KaleyraError as exc:
        _keep_for_reconcile(job, exc)
        return False
    get_storage().forget_jobs([job])
    return True


def _delete_on_kaleyra(room_id: str) -> None:
    try:
        get_video_provider().delete_room(room_id)
    except KaleyraNotFound:
        pass  # already gone: the goal is reached


def _keep_for_reconcile(job: RoomJob, exc: KaleyraError) -> None:
    logger.warning(
        "Could not delete Kaleyra room %s (%s); kept for reconcile", job.key, type(exc).__name__
    )
    storage = get_storage()
    storage.record_jobs([job])
    storage.job_failed(job, f"{type(exc).__name__}: status {exc.status}")


class RoomDeletions:
    """Rooms being deleted on Kaleyra by `pool` (a `rooms.services.concurrency.Pool`) while the
    caller goes on: a support command writes its next chunk meanwhile. The provider's first failure
    stops the calls not started yet: a provider in trouble is not hammered. `settle()` waits for
    them, then forgets the deleted rooms' pending deletions in one write and keeps each failed one
    for reconcile, as `delete_room` does."""

    def __init__(self, jobs: Sequence[RoomJob], *, pool) -> None:
        self.jobs = list(jobs)
        self._pool = pool
        room_details.forget_many([job.key for job in self.jobs])
        self.calls = [pool.submit(self._delete, job.key) for job in self.jobs]
        self._failures: dict[str, BaseException | None] | None = None

    def _delete(self, room_id: str) -> None:
        try:
            _delete_on_kaleyra(room_id)
        except KaleyraError:
            self._pool.stop()
            raise

    def settle(self) -> dict[str, BaseException | None]:
        """Each room's failure by room id: None when it is gone, else the KaleyraError, a
        `CancelledError` for a call never made (the provider had failed), or the
        KeyboardInterrupt that stopped its call; the deletions not done stay pending. Every call
        is waited for before anything is written, so after a Ctrl-C while waiting it can be
        called again."""
        if self._failures is None:
            failures = {
                job.key: failure_of(call) for job, call in zip(self.jobs, self.calls, strict=True)
            }
            for failure in failures.values():
                if failure is not None and not isinstance(failure, OUTCOMES):
                    raise failure  # a bug, not an outcome: the deletions stay pending
            get_storage().forget_jobs([job for job in self.jobs if failures[job.key] is None])
            for job in self.jobs:
                failure = failures[job.key]
                if isinstance(failure, KaleyraError):
                    _keep_for_reconcile(job, failure)
            self._failures = failures
        return self._failures


# What may come of a deletion on a worker thread, besides success.
OUTCOMES = (KaleyraError, CancelledError, KeyboardInterrupt)


def finish_room_deletions(jobs: Sequence[RoomJob], *, pool) -> tuple[set[str], RoomDeletions]:
    """Deletes rooms failures left behind, on `pool`; those a live visit holds after all (a write
    that recorded the deletion before its compare-and-set lost: one query) are only forgotten
    (one write). The kept room ids, and the deletions under way."""
    storage = get_storage()
    in_use = storage.rooms_in_use([job.key for job in jobs])
    storage.forget_jobs([job for job in jobs if job.key in in_use])
    doomed = [job for job in jobs if job.key not in in_use]
    return in_use, RoomDeletions(doomed, pool=pool)


def _make_room(wanted: Teleconsultation, *, tag: str) -> Room:
    """A new Kaleyra room for `wanted`; `tag` goes in its description so it can be found again."""
    room = get_video_provider().create_room(
        participants=room_spec.participant_specs(wanted.participants),
        duration=room_spec.room_duration(wanted.start, wanted.end),
        live=settings.LIVE_TELECONSULTATION,
        description=tag,
        recording=room_spec.recording_mode(wanted.recording),
    )
    logger.info("Created Kaleyra room %s for %d participants", room.id, len(wanted.participants))
    return room
