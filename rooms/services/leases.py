"""Room jobs a worker holds while it changes a room: a visit's swap slot and a room intent.

A held job carries its holder's run id (`payload["run"]`) and is renewed every RENEW_EVERY by a
heartbeat thread while the worker waits on Kaleyra or on the storage; one not renewed for LEASE
belongs to a dead worker (killed, its host gone). `reconcile_rooms` settles a dead worker's intent
then, and a new swap takes over its slot, instead of waiting a fixed grace period.

The swap slot (`SwapSlot`) lets one room swap per visit call Kaleyra at a time: a concurrent change
that needs a new room waits up to SWAP_WAIT for it, then gives up without calling Kaleyra.
"""

import contextvars
import logging
import secrets
import threading
import time
from datetime import timedelta

from django.db import connections
from django.utils import timezone

from rooms.domain import JobKind, RoomJob
from rooms.storage import get_storage

logger = logging.getLogger("teleconsultation.rooms")

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
