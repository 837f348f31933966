"""Collects who joined the calls of the teleconsultations that are over: from Kaleyra's sessions
of each one's room (`rooms.services.attendance`), stored per visit; a visit with fewer than two
participants joined is marked a no-show. Visits collected before are left alone (`--again` collects
them once more; `--room` always does), so running it again, or on a schedule, is safe.

    manage.py collect_attendance [--ended-within-days 7] [--settle-minutes 30] [--again]
    manage.py collect_attendance --room 65a1f0c2e4b0a1b2c3d4e5f6
"""

from datetime import timedelta
from functools import partial

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rooms.management import progress
from rooms.management.options import add_run_options, days_ago, positive_int
from rooms.services import support
from rooms.storage import get_storage
from teleconsultation_project.metrics import no_shows_counted

ACTOR = "collect_attendance"
DEFAULT_DAYS = 7
DEFAULT_SETTLE_MINUTES = 30


class Command(BaseCommand):
    help = (
        "Fetches from Kaleyra who joined the calls of the teleconsultations ended in the last "
        "days (trashed ones left out) and stores it, marking no-shows; or of one teleconsultation."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--ended-within-days",
            type=positive_int,
            default=DEFAULT_DAYS,
            metavar="N",
            help=f"the visits ended in the last N days (default {DEFAULT_DAYS})",
        )
        parser.add_argument(
            "--settle-minutes",
            type=int,
            default=DEFAULT_SETTLE_MINUTES,
            metavar="M",
            help="leave the visits ended less than M minutes ago, whose call may run over "
            f"(default {DEFAULT_SETTLE_MINUTES})",
        )
        parser.add_argument(
            "--again", action="store_true", help="collect those collected before once more too"
        )
        parser.add_argument("--room", metavar="ID", help="one teleconsultation, by its id")
        add_run_options(parser)

    def handle(self, *args, **options):
        if options["settle_minutes"] < 0:
            raise CommandError("--settle-minutes must be 0 or more")
        storage = get_storage()
        dry_run = options["dry_run"]
        with progress.tally(
            self,
            dry_run=dry_run,
            verbosity=options["verbosity"],
            concurrency=options["concurrency"],
        ) as run:
            if options["room"]:
                chosen = [options["room"]]
            else:
                window = {
                    "ended_after": days_ago(options["ended_within_days"]),
                    "ended_before": timezone.now() - timedelta(minutes=options["settle_minutes"]),
                }
                batches = storage.teleconsultation_id_batches(
                    batch_size=options["batch_size"], **window
                )
                chosen = [
                    teleconsultation_id
                    for batch in batches
                    for teleconsultation_id in (
                        batch if options["again"] else storage.without_attendance(batch)
                    )
                ]
                self.stdout.write(f"{len(chosen)} teleconsultation(s) over to collect")
            run.total = len(chosen)
            size = options["batch_size"]
            chunks = [chosen[start : start + size] for start in range(0, len(chosen), size)]
            if dry_run:
                run.each(
                    chunks,
                    progress.would(lambda room_id: f"collect the attendance of {room_id}"),
                )
            else:
                counted = no_shows_counted()
                collect = partial(support.collect_attendance, actor=ACTOR)
                try:
                    run.each(chunks, support.on_each(collect))
                finally:
                    # This process is gone before any scrape: its audit entry keeps the count.
                    run.detail["noShows"] = int(no_shows_counted() - counted)
