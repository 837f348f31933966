"""Finishes what provider failures left behind: Kaleyra rooms still to delete, and complete
teleconsultations still without a room. Stops at the first provider failure; run it again later.

    manage.py reconcile_rooms [--dry-run]
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from rooms import maintenance
from rooms.management import progress
from rooms.management.options import add_run_options
from rooms.storage import get_storage
from rooms.storage.base import JobKind

ACTOR = "reconcile_rooms"
# A room claim younger than this may belong to a request still creating the room.
CLAIM_GRACE = timedelta(minutes=5)


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
        roomless = {"claimed_before": now - CLAIM_GRACE, "ends_after": now}
        pending_total = storage.count_jobs(JobKind.ROOM_DELETION)
        roomless_total = storage.count_complete_without_room(**roomless)
        self.stdout.write(
            f"{pending_total} room(s) to delete, {roomless_total} complete teleconsultation(s) "
            "without a room"
        )
        batch_size, dry_run = options["batch_size"], options["dry_run"]
        with progress.tally(
            self,
            total=pending_total + roomless_total,
            dry_run=dry_run,
            verbosity=options["verbosity"],
        ) as run:
            pending_batches = storage.job_batches(JobKind.ROOM_DELETION, batch_size=batch_size)
            for pending in run.walk(pending_batches):
                if dry_run:
                    run.would(f"delete room {pending.key} (reason: {pending.reason})")
                else:
                    run.record(maintenance.finish_room_deletion(pending, actor=ACTOR))
            batches = storage.complete_without_room_batches(batch_size=batch_size, **roomless)
            for teleconsultation_id in run.walk(batches):
                if dry_run:
                    run.would(f"create a Kaleyra room for {teleconsultation_id}")
                else:
                    run.record(maintenance.recreate_room(teleconsultation_id, actor=ACTOR))
