"""Deletes from Kaleyra the files uploaded during teleconsultations: those ended in a window, or
one teleconsultation.

    manage.py delete_uploads --ended-after 2026-11-01T00:00:00Z --ended-before 2026-12-01T00:00Z
    manage.py delete_uploads --room 65a1f0c2e4b0a1b2c3d4e5f6
"""

from functools import partial

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rooms.management import progress
from rooms.management.options import add_run_options, aware_datetime
from rooms.services import support
from rooms.storage import get_storage

ACTOR = "delete_uploads"


class Command(BaseCommand):
    help = (
        "Deletes the files uploaded in the Kaleyra rooms of the teleconsultations ended in a "
        "window (trashed ones included), or of one teleconsultation."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ended-after", type=aware_datetime, metavar="DATE")
        parser.add_argument("--ended-before", type=aware_datetime, metavar="DATE")
        parser.add_argument("--room", metavar="ID", help="one teleconsultation, by its id")
        parser.add_argument(
            "--force",
            action="store_true",
            help="delete even though TELECONSULTATION_DELETE_UPLOADS is false",
        )
        add_run_options(parser)

    def handle(self, *args, **options):
        after, before, room = options["ended_after"], options["ended_before"], options["room"]
        if room and (after or before):
            raise CommandError("Give either --room or an --ended-after/--ended-before window")
        if not (room or after or before):
            raise CommandError("Say which uploads: --room ID, or --ended-after/--ended-before")
        if after and before and after >= before:
            raise CommandError("--ended-after must be earlier than --ended-before")
        if not (settings.TELECONSULTATION_DELETE_UPLOADS or options["force"]):
            raise CommandError(
                "Upload deletion is disabled (TELECONSULTATION_DELETE_UPLOADS is false); "
                "nothing was deleted. Use --force to delete anyway."
            )
        storage = get_storage()
        # Only teleconsultations that are over: a call still going on may still share files.
        before = min(before or timezone.now(), timezone.now())
        dry_run = options["dry_run"]
        with progress.tally(
            self,
            dry_run=dry_run,
            verbosity=options["verbosity"],
            concurrency=options["concurrency"],
        ) as run:
            if room:
                batches, run.total = [[room]], 1
            else:
                window = {"ended_after": after, "ended_before": before, "include_trash": True}
                run.total = storage.count_teleconsultations(**window)
                batches = storage.teleconsultation_id_batches(
                    batch_size=options["batch_size"], **window
                )
                self.stdout.write(f"{run.total} teleconsultation(s) ended in the window")
            if dry_run:
                run.each(
                    batches, progress.would(lambda room_id: f"delete the uploads of {room_id}")
                )
            else:
                delete = partial(support.delete_uploads, actor=ACTOR, force=True)
                run.each(batches, support.on_each(delete))
