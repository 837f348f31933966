"""Writes everything held about one person (a participant, by their external user id) as one JSON
document: their visits, their participant records, the join links handed to them (when, never
the link), the audit entries naming them or their visits, and their Kaleyra user mapping
(`rooms.selectors.person`).

    manage.py export_person <userId> [--output FILE] [--dry-run] [--force]
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rooms.management.commands.export_audit import _opened
from rooms.selectors.person import export, find_person, in_progress
from rooms.services import audit

ACTOR = "export_person"


class Command(BaseCommand):
    help = "Writes everything held about one person as JSON (stdout by default)."

    def add_arguments(self, parser):
        parser.add_argument("user_id", metavar="userId", help="the person's external user id")
        parser.add_argument("--output", metavar="FILE", help="write there instead of stdout")
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be exported, write nothing"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="export even though one of their teleconsultations is in progress",
        )

    def handle(self, *args, **options):
        external_id = options["user_id"]
        if not external_id.strip():
            raise CommandError("Give the person's user id")
        person = find_person(external_id)
        busy = [visit.id for visit in person.visits if in_progress(visit, now=timezone.now())]
        if busy and not options["force"]:
            raise CommandError(
                f"The person takes part in a teleconsultation in progress ({', '.join(busy)}); "
                "its records are still changing. Run it again once it has ended, or use --force."
            )
        document = export(person)
        counts = {
            "visits": len(document["visits"]),
            "auditEntries": len(document["auditEntries"]),
            "linksHandedOut": len(document["linksHandedOut"]),
        }
        dry_run, path = options["dry_run"], options["output"]
        with audit.channel("command", request_id=audit.run_id(ACTOR)):
            if dry_run:
                self.stdout.write(
                    "Dry run, nothing written: would export "
                    + ", ".join(f"{count} {name}" for name, count in counts.items())
                )
            else:
                with _opened(path) as file:
                    stream = file or self.stdout
                    stream.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
            audit.record(
                audit.PERSON_EXPORT,
                actor=ACTOR,
                outcome="dry run" if dry_run else "done",
                detail={"userId": external_id, **counts, "forced": bool(busy)},
            )
        if path and not dry_run:
            self.stderr.write(f"{counts['visits']} visit(s) of the person written to {path}")
