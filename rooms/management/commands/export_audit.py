"""Writes the audit trail of a period as JSON lines or CSV, streaming: one batch in memory however
many entries.

    manage.py export_audit --since 2026-11-01T00:00:00Z [--until DATE] --format jsonl|csv
        [--room ID] [--output FILE]
"""

import csv
import json
from contextlib import nullcontext

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rooms.domain import AuditEntry, is_teleconsultation_id
from rooms.management.options import aware_datetime, positive_int
from rooms.services import audit
from rooms.storage import get_storage
from teleconsultation_project.formats import format_datetime

ACTOR = "export_audit"
COLUMNS = (
    "time",
    "actor",
    "action",
    "teleconsultation_id",
    "outcome",
    "request_id",
    "client_type",
    "detail",
    "id",
)
BATCH_SIZE = 500
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); user ids
# come from the gateway, so such a cell is written with a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_row(entry: AuditEntry) -> dict:
    return {
        "time": format_datetime(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "teleconsultation_id": entry.teleconsultation_id,
        "outcome": entry.outcome,
        "request_id": entry.request_id,
        "client_type": entry.client_type,
        "detail": dict(entry.detail),
        "id": entry.id,
    }


def _opened(path: str | None):
    if path is None:
        return nullcontext(None)
    try:
        return open(path, "w", newline="", encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"Cannot write {path}: {exc.strerror}") from exc


def _cell(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class Command(BaseCommand):
    help = "Writes the audit entries recorded in a period as JSON lines or CSV (stdout by default)."

    def add_arguments(self, parser):
        parser.add_argument("--since", type=aware_datetime, required=True, metavar="DATE")
        parser.add_argument(
            "--until", type=aware_datetime, metavar="DATE", help="excluded; default: now"
        )
        parser.add_argument("--format", choices=["jsonl", "csv"], required=True)
        parser.add_argument("--room", metavar="ID", help="only the entries of one teleconsultation")
        parser.add_argument("--output", metavar="FILE", help="write there instead of stdout")
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            default=BATCH_SIZE,
            help=f"entries read at a time (default {BATCH_SIZE})",
        )

    def handle(self, *args, **options):
        since, room = options["since"], options["room"]
        # Bounded at the start: entries recorded while the export runs belong to the next one.
        until = options["until"] or timezone.now()
        if since >= until:
            raise CommandError("--since must be earlier than --until")
        if room is not None and not is_teleconsultation_id(room):
            raise CommandError(f"--room {room!r} is not a teleconsultation id (24 hex characters)")
        batches = get_storage().audit_entries(
            since=since, until=until, teleconsultation_id=room, batch_size=options["batch_size"]
        )
        path = options["output"]
        with audit.channel("command", request_id=audit.run_id(ACTOR)), _opened(path) as file:
            stream = file or self.stdout
            exported = self._write(stream, batches, options["format"])
            audit.record(
                audit.EXPORT,
                actor=ACTOR,
                teleconsultation_id=room,
                outcome="done",
                detail={
                    "since": format_datetime(since),
                    "until": format_datetime(until),
                    "format": options["format"],
                    "entries": exported,
                },
            )
        if path:
            self.stderr.write(f"{exported} audit entries written to {path}")

    def _write(self, stream, batches, output_format: str) -> int:
        exported = 0
        writer = None
        if output_format == "csv":
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(COLUMNS)
        for batch in batches:
            for entry in batch:
                row = as_row(entry)
                if writer is None:
                    stream.write(json.dumps(row, sort_keys=True) + "\n")
                else:
                    writer.writerow([_cell(row[name]) for name in COLUMNS])
            exported += len(batch)
            stream.flush()
        return exported
