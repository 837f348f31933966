"""The progress line and the counts of a support command run (rooms/management/progress.py)."""

from io import StringIO

from django.core.management.base import BaseCommand

from rooms.management.progress import Tally
from rooms.services.support import Outcome, Result


def run_of(planned: int, handled: int) -> tuple[Tally, StringIO]:
    err = StringIO()
    run = Tally(BaseCommand(stdout=StringIO(), stderr=err), dry_run=False, verbosity=0)
    run.total = planned
    for number in range(handled):
        run.record(Outcome(Result.DONE, f"item {number}: done"))
    return run, err


def test_items_that_appeared_during_the_run_never_take_progress_past_100_percent():
    run, err = run_of(planned=9, handled=10)  # one visit became due while the run went on
    run.finish()
    assert "progress: 10/10 (100%)" in err.getvalue()
    assert run.audit_detail()["total"] == 10


def test_progress_counts_against_the_planned_total_while_items_are_left():
    run, err = run_of(planned=9, handled=3)
    run.finish()
    assert "progress: 3/9 (33%)" in err.getvalue()
    assert run.audit_detail()["total"] == 9
