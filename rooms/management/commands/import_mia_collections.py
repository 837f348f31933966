"""Imports Mia's two CRUD collections, as `mongoexport` wrote them, into this service's database.
Every teleconsultation keeps its `_id`, so room ids and join links in use keep working, and every
user keeps its Kaleyra user, so nobody gets a second one.

    manage.py import_mia_collections --teleconsultations teleconsultations.json \
        --user-id-map userIdMap.json [--dry-run]

The user map goes first: Mia's participants name their Kaleyra user, not their external id. A bad
record is reported with its file and line (array element) and skipped whole; what is stored
already is left as it is, so running the command again changes nothing.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rooms.management import progress
from rooms.management.options import add_run_options
from rooms.mia_import import importer, plan
from rooms.mia_import.files import UnreadableFile, read_documents
from rooms.mia_import.plan import Decided
from rooms.services.support import Outcome, Result
from rooms.storage import get_storage


class Command(BaseCommand):
    help = (
        "Imports mongoexport files of Mia's teleconsultations collection and user id map into "
        "this service's database, keeping every id; a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--teleconsultations",
            type=Path,
            required=True,
            metavar="FILE",
            help="mongoexport of the teleconsultations collection (JSON lines or a JSON array)",
        )
        parser.add_argument(
            "--user-id-map",
            type=Path,
            required=True,
            metavar="FILE",
            help="mongoexport of the user id map collection (receivedUserId -> bandyerId)",
        )
        add_run_options(parser)

    def handle(self, *args, **options):
        if settings.STORAGE_BACKEND != "django":
            raise CommandError(
                "STORAGE_BACKEND=crud reads Mia's collections where they are: there is nothing to "
                "import. The import fills this service's own database (STORAGE_BACKEND=django)."
            )
        visits_file, batch_size = options["teleconsultations"], options["batch_size"]
        try:
            map_documents = list(read_documents(options["user_id_map"]))
            user_map = plan.check_user_map(map_documents)
            # A first pass over the teleconsultations: the users' roles come from their groups.
            visit_total, groups = plan.survey(
                read_documents(visits_file), plan.external_ids(user_map)
            )
        except UnreadableFile as exc:
            raise CommandError(f"{exc}; nothing was imported") from exc
        user_map = plan.with_roles(user_map, groups)
        self.stdout.write(
            f"{len(map_documents)} user map row(s) in {options['user_id_map']}, "
            f"{visit_total} teleconsultation(s) in {visits_file}"
        )
        dry_run = options["dry_run"]
        with progress.tally(
            self,
            total=len(map_documents) + visit_total,
            dry_run=dry_run,
            verbosity=options["verbosity"],
        ) as run:
            user_outcomes, usable = Counter(), {}
            for batch in run.walk([batch] for batch in _batches(user_map, batch_size)):
                for entry, outcome in _settle(run, batch, importer.store_user_mappings):
                    user_outcomes[outcome.result] += 1
                    if not isinstance(entry, Outcome) and outcome.result is not Result.FAILED:
                        usable[entry[1].kaleyra_user_id] = entry[1].external_id
            self.stdout.write(_counts("User map", user_outcomes, dry_run=dry_run))
            visit_outcomes, first_seen = Counter(), {}
            documents = read_documents(visits_file)
            for batch in run.walk([batch] for batch in _batches(documents, batch_size)):
                decided = [
                    plan.check_teleconsultation(document, usable, first_seen) for document in batch
                ]
                for _entry, outcome in _settle(run, decided, importer.store_teleconsultations):
                    visit_outcomes[outcome.result] += 1
            self.stdout.write(_counts("Teleconsultations", visit_outcomes, dry_run=dry_run))
            if not dry_run and (user_outcomes[Result.DONE] or visit_outcomes[Result.DONE]):
                get_storage().refresh_statistics()  # the next cleanup's queries plan well at once


def _settle(run, decided: list[Decided], store: Callable) -> list[tuple[Decided, Outcome]]:
    """Stores what can be stored, in one call; records every outcome in file order."""
    storable = [entry for entry in decided if not isinstance(entry, Outcome)]
    stored = iter(store(storable, dry_run=run.dry_run) if storable else ())
    settled = []
    for entry in decided:
        outcome = entry if isinstance(entry, Outcome) else next(stored)
        run.record(outcome)
        settled.append((entry, outcome))
    return settled


def _batches(items: Iterable, size: int) -> Iterator[list]:
    items = iter(items)
    while batch := list(islice(items, size)):
        yield batch


def _counts(collection: str, outcomes: Counter, *, dry_run: bool) -> str:
    done = "would be imported" if dry_run else "imported"
    return (
        f"{collection}: {outcomes[Result.DONE]} {done}, {outcomes[Result.SKIPPED]} already there, "
        f"{outcomes[Result.FAILED]} failed"
    )
