"""One run of a support command at a time, whichever host starts it.

The Kubernetes CronJobs never start a run while the last one goes on (`concurrencyPolicy:
Forbid`); the lock also covers a run started by hand, or the same schedule on another cluster.
"""

import logging
import os
import socket
from datetime import timedelta

from django.utils import timezone

from rooms.domain import JobKind, RoomJob
from rooms.storage import get_storage
from teleconsultation_project.formats import format_datetime

logger = logging.getLogger("teleconsultation.rooms")

# A run renews its lock at least this often while it works; a lock not renewed for STALE_AFTER is
# a dead run's (killed, or its host gone), and the next run takes it over. Longer than any one
# chunk takes (a few provider calls, a 429 waited out).
RENEW_EVERY = timedelta(minutes=1)
STALE_AFTER = timedelta(minutes=10)


class AlreadyRunning(Exception):
    """Another run of the same command holds its lock."""

    def __init__(self, holder: RoomJob) -> None:
        run = holder.payload or {}
        since = format_datetime(holder.created_at) if holder.created_at else "?"
        super().__init__(
            f"Another run of {holder.key} is under way (run {run.get('run', '?')}, host "
            f"{run.get('host', '?')}, pid {run.get('pid', '?')}, since {since}); nothing was "
            f"done. A run that died leaves its lock, taken over once not renewed for "
            f"{STALE_AFTER.seconds // 60} minutes."
        )


class RunLock:
    """One run of a support command at a time, whichever host starts it: a `run_lock` room job
    keyed by the command's name, recorded once (`record_job_once`) for the whole run, renewed as
    the run goes (`renew`) and forgotten at its end."""

    def __init__(self, name: str, *, run_id: str) -> None:
        about = {"run": run_id, "host": socket.gethostname(), "pid": os.getpid()}
        self.job = RoomJob(kind=JobKind.RUN_LOCK, key=name, payload=about)
        self._renewed = timezone.now()
        self._lost = False

    def take(self) -> None:
        """Raises `AlreadyRunning` while another run holds the lock."""
        storage = get_storage()
        held = storage.record_job_once(self.job)
        stale_before = timezone.now() - STALE_AFTER
        if held is not None and storage.forget_stale_job(held, stale_before=stale_before):
            held = storage.record_job_once(self.job)  # its run died
        if held is not None:
            raise AlreadyRunning(held)
        self._renewed = timezone.now()

    def renew(self) -> None:
        """Tells other runs this one is alive: a write at most every RENEW_EVERY. A run that was
        stalled past STALE_AFTER may find its lock taken over: it says so once and goes on (its
        writes are safe to repeat), never touching the other run's lock."""
        if self._lost or timezone.now() - self._renewed < RENEW_EVERY:
            return
        if get_storage().renew_held_job(self.job):
            self._renewed = timezone.now()
            return
        self._lost = True
        logger.warning(
            "Run lock %s was taken over by another run after this one stalled; this run goes on",
            self.job.key,
        )

    def release(self) -> None:
        try:
            get_storage().release_held_job(self.job)
        except Exception as exc:  # the run's own outcome matters more; the lock goes stale
            logger.warning("Run lock %s not released (%s)", self.job.key, type(exc).__name__)
