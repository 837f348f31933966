"""Sends the pending visit events to the operator's receivers (VISIT_EVENTS_URLS), after recording
the `visit.starting` and `visit.ended` events now due and forgetting the sent and dead ones older
than VISIT_EVENTS_KEEP_DAYS: one run, for a CronJob every minute, or `--every SECONDS` to go on
until stopped.

    manage.py send_visit_events
    manage.py send_visit_events --every 30
"""

import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rooms.management import progress
from rooms.management.options import add_run_options, positive_int
from rooms.services import support, visit_events
from rooms.services.support import Outcome, Result
from rooms.storage import get_storage
from rooms.storage import visit_events as outbox

RESULTS = {
    "sent": Result.DONE,
    "retry": Result.SKIPPED,  # tried again by a later run: no failed run for a receiver's blip
    "gone": Result.SKIPPED,
    "dead": Result.FAILED,  # the run fails: someone should look at the receiver
}


class Command(BaseCommand):
    help = (
        "Sends the pending visit events (signed CloudEvents) to VISIT_EVENTS_URLS, with retries "
        "and backoff, after recording the visit.starting and visit.ended events now due."
    )

    def add_arguments(self, parser):
        add_run_options(parser)
        parser.add_argument(
            "--every",
            type=positive_int,
            metavar="SECONDS",
            help="run again every SECONDS until stopped (default: one run)",
        )

    def handle(self, *args, **options):
        if not settings.VISIT_EVENTS_URLS:
            self.stdout.write("VISIT_EVENTS_URLS is empty: no visit events to send")
            return
        if get_storage().name != "django":
            raise CommandError(
                "Visit events need the Django backend (STORAGE_BACKEND=django): the CRUD backend "
                "records none"
            )
        if not settings.VISIT_EVENTS_SECRET:
            raise CommandError("VISIT_EVENTS_SECRET is empty: events would go out unsigned")
        try:
            visit_events.lead_times()
        except ValueError as exc:
            raise CommandError(f"VISIT_EVENTS_LEAD_TIMES: {exc}") from None
        if not options["every"]:
            self.run_once(options)
            return
        while True:  # until stopped; a run with dead events says so and the next one goes on
            try:
                self.run_once(options)
            except CommandError as exc:
                self.stderr.write(str(exc))
            time.sleep(options["every"])

    def run_once(self, options) -> None:
        dry_run = options["dry_run"]
        with progress.tally(
            self,
            dry_run=dry_run,
            verbosity=options["verbosity"],
            concurrency=options["concurrency"],
        ) as run:
            if not dry_run:
                run.detail["recorded"] = visit_events.emit_scheduled()
                kept_from = timezone.now() - timedelta(days=settings.VISIT_EVENTS_KEEP_DAYS)
                run.detail["purged"] = outbox.purge(created_before=kept_from)
            due = outbox.due(timezone.now(), limit=options["batch_size"] * 10)
            run.total = len(due)
            if dry_run:
                run.each([due], progress.would(lambda row_id: f"send visit event {row_id}"))
                return
            client = visit_events.VisitEventsClient()

            def send(row_id: int) -> Outcome:
                outcome = visit_events.deliver(row_id, client=client)
                return Outcome(RESULTS[outcome], f"Visit event {row_id}: {outcome}")

            run.each([due], support.on_each(send))
