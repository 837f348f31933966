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
from rooms.services import support
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
        with progress.tally(self, dry_run=dry_run, verbosity=options["verbosity"]) as run:
            run.total = len(map_documents) + visit_total
            user_outcomes, usable = Counter(), {}

            def store_users(batch: list, *, pool) -> support.Underway:
                settled = _settle(batch, importer.store_user_mappings, dry_run=dry_run)
                for entry, outcome in settled:
                    user_outcomes[outcome.result] += 1
                    if not isinstance(entry, Outcome) and outcome.result is not Result.FAILED:
                        usable[entry[1].kaleyra_user_id] = entry[1].external_id
                return support.told([outcome for _, outcome in settled])

            run.each(_batches(user_map, batch_size), store_users, chunk_size=batch_size)
            self.stdout.write(_counts("User map", user_outcomes, dry_run=dry_run))
            visit_outcomes, first_seen = Counter(), {}

            def store_visits(batch: list, *, pool) -> support.Underway:
                decided = [
                    plan.check_teleconsultation(document, usable, first_seen) for document in batch
                ]
                settled = _settle(decided, importer.store_teleconsultations, dry_run=dry_run)
                visit_outcomes.update(outcome.result for _, outcome in settled)
                return support.told([outcome for _, outcome in settled])

            documents = read_documents(visits_file)
            run.each(_batches(documents, batch_size), store_visits, chunk_size=batch_size)
            self.stdout.write(_counts("Teleconsultations", visit_outcomes, dry_run=dry_run))
            if not dry_run and (user_outcomes[Result.DONE] or visit_outcomes[Result.DONE]):
                get_storage().refresh_statistics()  # the next cleanup's queries plan well at once


def _settle(
    decided: list[Decided], store: Callable, *, dry_run: bool
) -> list[tuple[Decided, Outcome]]:
    """Stores what can be stored, in one call; every entry with its outcome, in file order."""
    storable = [entry for entry in decided if not isinstance(entry, Outcome)]
    stored = iter(store(storable, dry_run=dry_run) if storable else ())
    return [(entry, entry if isinstance(entry, Outcome) else next(stored)) for entry in decided]


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
