"""Finishes what failures left behind: Kaleyra rooms still to delete, rooms made for requests that
never finished (found by their tag), complete teleconsultations without a room, and live ones whose
room the provider no longer has. Stops at the first provider failure; run it again later.

    manage.py reconcile_rooms [--dry-run]
"""

from datetime import timedelta
from functools import partial

from django.core.management.base import BaseCommand
from django.utils import timezone

from kaleyra.errors import KaleyraError
from rooms.domain import JobKind
from rooms.management import progress
from rooms.management.options import add_run_options
from rooms.services import room_swap, support
from rooms.services.support import Outcome, Result
from rooms.storage import get_storage
from teleconsultation_project.errors import provider_trouble
from teleconsultation_project.metrics import RECONCILE_OUTCOMES

ACTOR = "reconcile_rooms"
# An intent written by a release before leases (no `payload["run"]`, never renewed) younger than
# this may belong to a request still creating the room. A leased intent is settled as soon as its
# lease has run out (`room_swap.LEASE`), and so is a room claim: a live claimant holds the visit's
# swap slot, which the room reconcile would give it has to wait for.
UNLEASED_GRACE = timedelta(minutes=5)


def _count_outcome(outcome: Outcome) -> None:
    # Scraped only where a process outlives the run (`manage.py shell`, a test); a cron run's
    # counts reach Prometheus through the Pushgateway (teleconsultation_command_items).
    RECONCILE_OUTCOMES.labels(outcome=outcome.result.label).inc()


def _delete_room(job) -> str:
    return f"delete room {job.key} (reason: {job.reason})"


def _settle_intent(intent) -> str:
    return f"look for rooms tagged {intent.key} and delete those nobody holds"


def _create_room(teleconsultation_id: str) -> str:
    return f"create a Kaleyra room for {teleconsultation_id}"


def _give_room(teleconsultation_id: str) -> Outcome:
    """A complete visit without a room gets one, unless a request gave it one since it was
    listed (a new room would replace that one and its join links), or a live request is giving
    it one (it holds the visit's swap slot)."""
    if not support.still_without_room(teleconsultation_id):
        return Outcome(
            Result.SKIPPED, f"Teleconsultation {teleconsultation_id}: has a room now, left as it is"
        )
    if room_swap.swap_under_way(teleconsultation_id):
        return Outcome(
            Result.SKIPPED,
            f"Teleconsultation {teleconsultation_id}: a request is giving it a room, left to it",
        )
    return support.recreate_room(teleconsultation_id, actor=ACTOR)


def _free_dead_swap_slots(now) -> None:
    """Forgets the swap slots of dead workers: a swap would take them over anyway, but a visit
    nobody changes again would keep its slot for good."""
    storage = get_storage()
    stale_before = now - room_swap.LEASE
    dead = storage.job_batches(JobKind.ROOM_SWAP, created_before=now, renewed_before=stale_before)
    for batch in dead:
        for slot in batch:
            storage.forget_stale_job(slot, stale_before=stale_before)


class Command(BaseCommand):
    help = (
        "Deletes the Kaleyra rooms left pending by failures and creates the rooms of complete "
        "teleconsultations that have none, until none is left or the provider fails again."
    )

    def add_arguments(self, parser):
        add_run_options(parser)

    def handle(self, *args, **options):
        storage = get_storage()
        now = timezone.now()
        roomless = {"claimed_before": now - room_swap.LEASE, "ends_after": now}
        live = {"ended_after": now, "with_room": True}
        rooms = support.RoomIndex()
        batch_size, dry_run = options["batch_size"], options["dry_run"]
        with progress.tally(
            self,
            dry_run=dry_run,
            verbosity=options["verbosity"],
            concurrency=options["concurrency"],
        ) as run:
            pending_total = storage.count_jobs(JobKind.ROOM_DELETION)
            intents = [
                intent
                for batch in storage.job_batches(
                    JobKind.ROOM_INTENT,
                    created_before=now - UNLEASED_GRACE,
                    renewed_before=now - room_swap.LEASE,
                )
                for intent in batch
            ]
            roomless_total = storage.count_complete_without_room(**roomless)
            live_total = storage.count_teleconsultations(**live)
            self.stdout.write(
                f"{pending_total} room(s) to delete, {len(intents)} unfinished room intent(s), "
                f"{roomless_total} complete teleconsultation(s) without a room, {live_total} live "
                "room(s) to check"
            )
            run.total = pending_total + len(intents) + roomless_total + live_total
            run.on_record = _count_outcome
            pending = storage.job_batches(JobKind.ROOM_DELETION, batch_size=batch_size)
            if dry_run:
                run.each(pending, progress.would(_delete_room))
                run.each([intents], progress.would(_settle_intent))
            else:
                _free_dead_swap_slots(now)
                run.each(pending, partial(support.finish_room_deletions, actor=ACTOR))
                run.each([intents], support.on_each(partial(support.settle_intent, rooms=rooms)))
            roomless_ids = storage.complete_without_room_batches(batch_size=batch_size, **roomless)
            run.each(
                roomless_ids,
                progress.would(_create_room) if dry_run else support.on_each(_give_room),
            )
            live_ids = storage.teleconsultation_id_batches(batch_size=batch_size, **live)
            check = partial(self._check_room, rooms=rooms, dry_run=dry_run)
            run.each(live_ids, support.on_each(check))

    def _check_room(self, teleconsultation_id: str, rooms, *, dry_run: bool) -> Outcome:
        """A live visit whose room the provider no longer has (deleted on Kaleyra's side) gets a
        new one."""
        visit = get_storage().find(teleconsultation_id)
        if visit is None or not visit.kaleyra_room_id:
            return Outcome(
                Result.SKIPPED, f"Teleconsultation {teleconsultation_id}: changed meanwhile"
            )
        try:
            there = support.room_still_there(teleconsultation_id, visit.kaleyra_room_id, rooms)
        except KaleyraError as exc:
            return Outcome(
                Result.FAILED,
                f"Teleconsultation {teleconsultation_id}: {provider_trouble(exc)}; try again later",
                provider_failed=True,
            )
        if there:
            return Outcome(Result.SKIPPED, f"Teleconsultation {teleconsultation_id}: room present")
        if dry_run:
            return Outcome(
                Result.DONE, f"would give {teleconsultation_id} a new room (its room is gone)"
            )
        return support.recreate_room(teleconsultation_id, actor=ACTOR)
