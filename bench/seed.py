"""Rows for the support-command rounds of `make bench`, inserted in bulk through the ORM (a bench
tool, not a service path): ended teleconsultations for cleanup_teleconsultations, pending room
deletions for reconcile_rooms. Their Kaleyra rooms are ids the simulator does not know, so each
deletion is one full provider round trip answered 404, which both commands count as deleted.

    python bench/seed.py ended-visits 10000 --tag a
    python bench/seed.py pending-deletions 10000 --tag a
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teleconsultation_project.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from rooms import models  # noqa: E402
from rooms.domain import JobKind  # noqa: E402

CHUNK = 5000


def ended_visits(count: int, tag: str) -> None:
    start = timezone.now() - timedelta(days=10)
    for first in range(0, count, CHUNK):
        numbers = range(first, min(first + CHUNK, count))
        visits = [
            models.Teleconsultation(
                id=f"{tag}{number:0{24 - len(tag)}x}",
                kaleyra_room_id=f"bench-room-{tag}-{number}",
                participants_number=2,
                start=start,
                end=start + timedelta(minutes=30),
                created_by="bench",
                updated_by="bench",
            )
            for number in numbers
        ]
        people = [
            models.Participant(
                teleconsultation_id=visit.id,
                visit_start=visit.start,
                position=position,
                external_id=f"{role}-{visit.id}",
                groups=["doctor" if role == "plus" else "customer"],
                full_name="Bench",
                role=role,
                kaleyra_user_id=f"tc-{role}-{visit.id}",
                access_link=f"https://bench.invalid/join/{visit.id}/{position}",
            )
            for visit in visits
            for position, role in enumerate(("plus", "basic"))
        ]
        with transaction.atomic():
            models.Teleconsultation.objects.bulk_create(visits)
            models.Participant.objects.bulk_create(people)


def pending_deletions(count: int, tag: str) -> None:
    for first in range(0, count, CHUNK):
        models.RoomJob.objects.bulk_create(
            models.RoomJob(
                id=f"{tag}{number:0{24 - len(tag)}x}",
                kind=JobKind.ROOM_DELETION,
                key=f"bench-gone-{tag}-{number}",
                reason="bench",
            )
            for number in range(first, min(first + CHUNK, count))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["ended-visits", "pending-deletions"])
    parser.add_argument("count", type=int)
    parser.add_argument("--tag", required=True, help="a few hex digits that keep ids apart")
    arguments = parser.parse_args()
    began = time.monotonic()
    seed = ended_visits if arguments.what == "ended-visits" else pending_deletions
    seed(arguments.count, arguments.tag)
    # A table that has held these rows for a while has statistics (autovacuum gathers them within
    # a minute); without them the planner takes the rows just inserted for a handful.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"{arguments.count} {arguments.what} in {time.monotonic() - began:.1f} s")


if __name__ == "__main__":
    main()
