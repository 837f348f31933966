"""Erases what is held about one person (a participant, by their external user id): their name
and ids from their visits and participant records (the visits stay, for the other participants,
with the person shown as erased under a pseudonym), their audit entries pseudonymised, their
visits' recordings deleted, their Kaleyra users deactivated, their user map entry erased
(`rooms.services.person`).

    manage.py erase_person <userId> [--dry-run] [--force]
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rooms.management import progress
from rooms.selectors.person import find_person, in_progress, is_erased
from rooms.services import support
from rooms.services.person import erase_steps, pseudonym

ACTOR = "erase_person"


class Command(BaseCommand):
    help = (
        "Erases one person's name and ids from their teleconsultations, pseudonymises their "
        "audit entries, deletes their visits' recordings and deactivates their Kaleyra user."
    )

    def add_arguments(self, parser):
        parser.add_argument("user_id", metavar="userId", help="the person's external user id")
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be done, change nothing"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="erase even though one of their teleconsultations is in progress",
        )

    def handle(self, *args, **options):
        external_id = options["user_id"]
        if not external_id.strip():
            raise CommandError("Give the person's user id")
        if is_erased(external_id):
            raise CommandError(f"{external_id!r} is the pseudonym of a person erased already")
        person = find_person(external_id)
        busy = [visit.id for visit in person.visits if in_progress(visit, now=timezone.now())]
        if busy and not options["force"]:
            raise CommandError(
                f"The person takes part in a teleconsultation in progress ({', '.join(busy)}); "
                "nothing was changed. Run it again once it has ended, or use --force."
            )
        steps = erase_steps(person, actor=ACTOR)
        dry_run = options["dry_run"]
        # One step after the other: a failing provider stops the run before the records go.
        with progress.tally(
            self, dry_run=dry_run, verbosity=options["verbosity"], concurrency=1
        ) as run:
            run.total = len(steps)
            # The audit entry of the run names the person by their pseudonym only.
            run.detail = {
                "person": pseudonym(external_id),
                "visits": len(person.visits),
                "forced": bool(busy),
            }
            if dry_run:
                run.each([steps], progress.would(lambda step: step.describe))
            else:
                run.each([steps], support.on_each(lambda step: step.run()))
