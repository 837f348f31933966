"""Moves the teleconsultations ended before a cut-off to TRASH, deleting their Kaleyra rooms,
erases long-trashed ones for good, and erases audit entries past their retention. Every run also
erases the Idempotency-Key records older than 24 hours (they replay nothing any more).

    manage.py cleanup_teleconsultations --older-than-days 30 [--purge-trash-older-than-days 365]
        [--audit-older-than-days 3650] [--webhook-events-older-than-days 365]
"""

from functools import partial

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rooms.domain import IDEMPOTENCY_TTL, JobKind
from rooms.management import progress
from rooms.management.options import add_run_options, aware_datetime, days_ago, positive_int
from rooms.services import audit, support
from rooms.services.support import Outcome, Result
from rooms.storage import get_storage
from teleconsultation_project.formats import format_datetime

ACTOR = "cleanup_teleconsultations"


class Command(BaseCommand):
    help = (
        "Deletes the Kaleyra rooms of teleconsultations ended before a cut-off and moves them to "
        "TRASH; optionally erases trashed teleconsultations and old audit entries for good."
    )

    def add_arguments(self, parser):
        cutoff = parser.add_mutually_exclusive_group()
        cutoff.add_argument(
            "--ended-before",
            type=aware_datetime,
            metavar="DATE",
            help="ISO 8601 with offset, e.g. 2026-11-01T00:00:00Z",
        )
        cutoff.add_argument(
            "--older-than-days", type=positive_int, metavar="N", help="ended more than N days ago"
        )
        parser.add_argument(
            "--purge-trash-older-than-days",
            type=positive_int,
            metavar="N",
            help="erase for good what has been in the trash for more than N days",
        )
        parser.add_argument(
            "--audit-older-than-days",
            type=positive_int,
            metavar="N",
            help="erase the audit entries recorded more than N days ago (retention)",
        )
        parser.add_argument(
            "--webhook-events-older-than-days",
            type=positive_int,
            metavar="N",
            help="erase the Kaleyra webhook events received more than N days ago (retention)",
        )
        add_run_options(parser)

    def handle(self, *args, **options):
        ended_before = options["ended_before"]
        if options["older_than_days"] is not None:
            ended_before = days_ago(options["older_than_days"])
        purge_days = options["purge_trash_older_than_days"]
        trashed_before = days_ago(purge_days) if purge_days is not None else None
        audit_days = options["audit_older_than_days"]
        audited_before = days_ago(audit_days) if audit_days is not None else None
        events_days = options["webhook_events_older_than_days"]
        received_before = days_ago(events_days) if events_days is not None else None
        if not (ended_before or trashed_before or audited_before or received_before):
            raise CommandError(
                "Say what to clean: --ended-before DATE or --older-than-days N, "
                "and/or --purge-trash-older-than-days N, and/or --audit-older-than-days N, "
                "and/or --webhook-events-older-than-days N"
            )
        if ended_before and ended_before > timezone.now():
            raise CommandError(
                f"--ended-before {ended_before.isoformat()} is in the future: "
                "teleconsultations still to come are never cleaned up"
            )
        storage = get_storage()
        batch_size, dry_run = options["batch_size"], options["dry_run"]
        with progress.tally(
            self,
            dry_run=dry_run,
            verbosity=options["verbosity"],
            concurrency=options["concurrency"],
        ) as run:
            to_trash = (
                storage.count_teleconsultations(ended_before=ended_before) if ended_before else 0
            )
            to_purge = (
                storage.count_teleconsultations(trashed_before=trashed_before)
                if trashed_before
                else 0
            )
            run.total = to_trash + to_purge
            if ended_before:
                self.stdout.write(
                    f"{to_trash} teleconsultation(s) ended before {format_datetime(ended_before)}"
                )
            if trashed_before:
                self.stdout.write(
                    f"{to_purge} in the trash since before {format_datetime(trashed_before)}"
                )
            if ended_before:
                batches = storage.teleconsultation_id_batches(
                    ended_before=ended_before, batch_size=batch_size
                )
                if dry_run:
                    run.each(batches, progress.would(_trash_and_delete_room))
                else:
                    run.each(batches, partial(support.move_to_trash, actor=ACTOR))
            if trashed_before:
                batches = storage.teleconsultation_id_batches(
                    trashed_before=trashed_before, batch_size=batch_size
                )
                erase = progress.would(_erase) if dry_run else _erase_trashed
                run.each(batches, erase, chunk_size=batch_size)
            if audited_before:
                self._purge_audit(run, storage, audited_before, dry_run=dry_run)
            if received_before:
                self._purge_webhook_events(run, storage, received_before, dry_run=dry_run)
            self._purge_idempotency_keys(run, storage, dry_run=dry_run)

    def _purge_idempotency_keys(self, run, storage, *, dry_run: bool) -> None:
        expired_before = timezone.now() - IDEMPOTENCY_TTL
        if dry_run:
            self.stdout.write(f"would erase the idempotency keys recorded before {expired_before}")
            return
        erased = storage.purge_jobs(JobKind.IDEMPOTENCY, created_before=expired_before)
        run.detail["idempotencyKeysErased"] = erased
        self.stdout.write(f"{erased} idempotency key(s) recorded before {expired_before} erased")

    def _purge_audit(self, run, storage, audited_before, *, dry_run: bool) -> None:
        if dry_run:
            self.stdout.write(f"would erase the audit entries recorded before {audited_before}")
            return
        erased = storage.purge_audit(audited_before)
        run.detail["auditEntriesErased"] = erased
        self.stdout.write(f"{erased} audit entries recorded before {audited_before} erased")

    def _purge_webhook_events(self, run, storage, received_before, *, dry_run: bool) -> None:
        if dry_run:
            self.stdout.write(
                f"would erase the Kaleyra webhook events received before {received_before}"
            )
            return
        erased = storage.purge_webhook_events(received_before)
        run.detail["webhookEventsErased"] = erased
        self.stdout.write(
            f"{erased} Kaleyra webhook event(s) received before {received_before} erased"
        )


def _trash_and_delete_room(teleconsultation_id: str) -> str:
    return f"move {teleconsultation_id} to trash and delete its room"


def _erase(teleconsultation_id: str) -> str:
    return f"erase {teleconsultation_id} for good"


def _erase_trashed(teleconsultation_ids: list[str], *, pool) -> support.Underway:
    """A batch erased in one statement and audited in one write: the records are in TRASH, no
    provider is called."""
    erased = set(get_storage().erase_trashed(teleconsultation_ids))
    outcomes = [
        Outcome(Result.DONE, f"Teleconsultation {teleconsultation_id}: erased")
        if teleconsultation_id in erased
        else Outcome(Result.SKIPPED, f"{teleconsultation_id}: no longer in the trash")
        for teleconsultation_id in teleconsultation_ids
    ]
    audit.record_many(
        audit.ERASE,
        actor=ACTOR,
        outcomes=[
            (teleconsultation_id, outcome.result.value, {"message": outcome.message})
            for teleconsultation_id, outcome in zip(teleconsultation_ids, outcomes, strict=True)
        ],
    )
    return support.told(outcomes)
