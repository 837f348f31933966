"""The one loop the support commands run on, with its progress, summary and exit status.

A command has `Tally.each` start its work on the items a chunk at a time, records each `Outcome`,
and gets on stderr a progress line (done/total, rate) at most every few seconds, then a summary on
stdout. The command fails (exit status 1) when any item failed, when the run stopped because the
video provider is failing, or when it was interrupted; every item stands alone, so running it again
carries on where it stopped. One run of a command at a time holds its lock
(`rooms.services.run_lock`); a dry run changes nothing and takes none. Each run is one audit entry
with the summary counts, and carries its own request id, shared by the entries of the items it
touched. A run is background work (`kaleyra.retry.background_work`): nobody waits on it, so a
Kaleyra 429 is waited out and retried. Its end is one JSON log line (`teleconsultation.commands`,
whatever the verbosity) with the counts by outcome, pushed to a Pushgateway too when one is set
(`teleconsultation_project.pushgateway`): the run's process is gone before any scrape.
"""

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from kaleyra.provider import expect_calls_at_once
from kaleyra.retry import background_work
from rooms.services import audit, support
from rooms.services.concurrency import Inline, Pool
from rooms.services.run_lock import AlreadyRunning, RunLock
from rooms.services.support import Outcome, Result, Underway
from teleconsultation_project import pushgateway

PROGRESS_EVERY_SECONDS = 5.0

logger = logging.getLogger("teleconsultation.commands")


class Tally:
    def __init__(
        self,
        command: BaseCommand,
        *,
        dry_run: bool,
        verbosity: int,
        concurrency: int = 1,
        lock: RunLock | None = None,
    ):
        self.command = command
        self.total = 0  # what the command counted to do, for the progress line
        self.dry_run = dry_run
        self.verbosity = verbosity
        self.concurrency = concurrency
        self.lock = lock
        self.counts = dict.fromkeys(Result, 0)
        self.stopped_because = ""
        self.interrupted = False
        # What else the run did, for its audit entry (ids and counts only).
        self.detail: dict = {}
        self._started = self._last_line = time.monotonic()
        self.started_at = time.time()

    @property
    def handled(self) -> int:
        return sum(self.counts.values())

    @property
    def planned(self) -> int:
        """`total`, or more once items that appeared during the run (a visit scheduled meanwhile)
        were handled too: the progress line never passes 100%."""
        return max(self.total, self.handled)

    def each(
        self,
        batches: Iterable[list],
        start: Callable[..., Underway],
        *,
        chunk_size: int | None = None,
    ) -> None:
        """Records the outcomes of `start(chunk, pool=pool)` on the items of `batches`, a chunk
        at a time. `start` writes the chunk (a few statements where the backend can) and sets its
        provider calls going on `pool`, `concurrency` in flight; the chunk's outcomes are
        recorded, in the items' order, once the next chunk has started, so the provider is kept
        busy while this thread writes. A chunk is `concurrency` items (`chunk_size` for work
        with no provider call); one item at a time on this thread at --concurrency 1, in a dry
        run, or inside a transaction (the pool's threads, on connections of their own, could not
        see its rows).

        Once the run stops (the provider failing) or is interrupted no chunk is started, and the
        ones in hand (two at most, one when one at a time) are finished and recorded."""
        pooled = self.concurrency > 1 and not self.dry_run and not connection.in_atomic_block
        size = chunk_size or (self.concurrency if pooled else 1)
        depth = 2 if pooled else 1
        in_hand: deque[Underway] = deque()
        with Pool(self.concurrency, name="support") if pooled else Inline() as pool:
            try:
                for chunk in _chunks(batches, size):
                    if in_hand and in_hand[-1].failing():
                        self._finish_chunks(in_hand)  # records the failure: the run stops
                    if self.stopped_because or self.interrupted:
                        break
                    in_hand.append(start(chunk, pool=pool))
                    while len(in_hand) >= depth:
                        self._finish_chunk(in_hand)
                self._finish_chunks(in_hand)
            except KeyboardInterrupt:
                self.interrupted = True
                connection_after_interrupt()
                try:
                    self._finish_chunks(in_hand)
                except KeyboardInterrupt:
                    pass  # twice: the rest is in TRASH with its rooms' deletions still recorded
        if self.interrupted:
            raise KeyboardInterrupt

    def _finish_chunks(self, in_hand: deque[Underway]) -> None:
        while in_hand:
            self._finish_chunk(in_hand)

    def _finish_chunk(self, in_hand: deque[Underway]) -> None:
        """Records the oldest chunk's outcomes. Waiting for them may be interrupted (Ctrl-C): the
        chunk stays in hand, to be finished again."""
        outcomes = in_hand[0].outcomes()
        underway = in_hand.popleft()
        for outcome in outcomes:
            self.record(outcome)
        if underway.interrupted:
            self.interrupted = True
        if self.lock is not None:
            self.lock.renew()
        self._progress()

    on_record = None  # called with each outcome (reconcile_rooms counts them as metrics)

    def record(self, outcome: Outcome) -> None:
        self.counts[outcome.result] += 1
        if self.on_record is not None:
            self.on_record(outcome)
        if self.verbosity >= 1 or outcome.result is Result.FAILED:
            self.command.stdout.write(outcome.message, self._style(outcome.result))
        if outcome.provider_failed and not self.stopped_because:
            self.stopped_because = "the video provider is failing; the rest is left for later"

    def _style(self, result: Result):
        style = self.command.style
        return {
            Result.DONE: style.SUCCESS,
            Result.PARTLY_DONE: style.WARNING,
            Result.SKIPPED: style.WARNING,
            Result.FAILED: style.ERROR,
        }[result]

    def _progress(self, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last_line < PROGRESS_EVERY_SECONDS:
            return
        self._last_line = now
        elapsed = now - self._started
        rate = self.handled / elapsed if elapsed > 0 else 0.0
        planned = self.planned
        share = f" ({self.handled * 100 // planned}%)" if planned else ""
        self.command.stderr.write(
            f"progress: {self.handled}/{planned}{share}, {rate:.1f} items/s", ending="\n"
        )

    def summary(self) -> str:
        if self.dry_run:
            line = f"Dry run, nothing changed: {self.counts[Result.DONE]} would be done"
        else:
            parts = [f"{self.counts[result]} {result.value}" for result in Result]
            line = "Summary: " + ", ".join(parts)
        if self.stopped_because:
            line += f"; stopped: {self.stopped_because}"
        if self.interrupted:
            line += "; interrupted: run it again to carry on"
        return line

    def finish(self) -> None:
        if self.stopped_because and self.handled >= self.total:
            self.stopped_because = ""  # the failure was on the last item: nothing was left out
        self._progress(final=True)
        self.command.stdout.write(self.summary())
        unfinished = self.counts[Result.FAILED] + self.counts[Result.PARTLY_DONE]
        if unfinished or self.stopped_because or self.interrupted:
            raise CommandError(
                f"{unfinished} item(s) not done"
                + (" (stopped early)" if self.stopped_because else "")
                + (" (interrupted)" if self.interrupted else "")
                + "; running the command again is safe"
            )

    def outcome(self) -> str:
        if self.dry_run:
            return "dry run"
        if self.interrupted:
            return "interrupted"
        unfinished = self.counts[Result.FAILED] + self.counts[Result.PARTLY_DONE]
        return "failed" if unfinished or self.stopped_because else "done"

    def counts_by_label(self) -> dict[str, int]:
        return {result.label: self.counts[result] for result in Result}

    def report(self, command: str) -> None:
        """The run's end where monitoring reads it: one JSON log line always, and the
        Pushgateway's copy when one is set (not for a dry run, which did nothing)."""
        outcome = self.outcome()
        counts = self.counts_by_label()
        pushed = not self.dry_run and pushgateway.push_run(
            command=command, counts=counts, outcome=outcome, started=self.started_at
        )
        logger.info(
            "%s: %s",
            command,
            self.summary(),
            extra={
                "command": command,
                "outcome": outcome,
                "total": self.planned,
                **counts,
                "stopped": bool(self.stopped_because),
                "duration_s": round(time.monotonic() - self._started, 3),
                "pushed": pushed,
            },
        )

    def audit_detail(self) -> dict:
        counts = {
            "done": self.counts[Result.DONE],
            "partlyDone": self.counts[Result.PARTLY_DONE],
            "skipped": self.counts[Result.SKIPPED],
            "failed": self.counts[Result.FAILED],
        }
        return {
            "total": self.planned,
            **counts,
            "stopped": bool(self.stopped_because),
            **self.detail,
        }


def would(describe: Callable[[object], str]) -> Callable[..., Underway]:
    """A dry run's work on a chunk: what would be done to each item, told, nothing done."""

    def start(items: list, *, pool) -> Underway:
        return support.told([Outcome(Result.DONE, f"would {describe(item)}") for item in items])

    return start


def connection_after_interrupt() -> None:
    """Ctrl-C can break off a query half-way on this thread, and psycopg may then leave the
    connection unable to send another ("another command is already in progress"): it is dropped,
    so what the run still records (outcomes, its audit entry, its lock released) goes through a new
    one. Inside a transaction (the tests') the connection is the transaction's, and is kept."""
    if not connection.in_atomic_block:
        connection.close()


def _chunks(batches: Iterable[list], size: int) -> Iterator[list]:
    """The items of the batches again, `size` at a time."""
    chunk: list = []
    for batch in batches:
        for item in batch:
            chunk.append(item)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


@contextmanager
def tally(
    command: BaseCommand, *, dry_run: bool, verbosity: int, concurrency: int = 1
) -> Iterator[Tally]:
    """A run of `command`, under its lock: ends with the summary and the exit status, even when
    interrupted. A run refused because another holds the lock fails at once, having done
    nothing."""
    name = type(command).__module__.rsplit(".", 1)[-1]
    run_id = audit.run_id(name)
    lock = None if dry_run else RunLock(name, run_id=run_id)
    if lock is not None:
        try:
            lock.take()
        except AlreadyRunning as refusal:
            raise CommandError(str(refusal)) from None
    expect_calls_at_once(concurrency)
    run = Tally(command, dry_run=dry_run, verbosity=verbosity, concurrency=concurrency, lock=lock)
    # Nobody waits for the answer of a support run: a 429 naming no time is waited out.
    try:
        with audit.channel("command", request_id=run_id), background_work():
            try:
                yield run
            except KeyboardInterrupt:
                run.interrupted = True
                connection_after_interrupt()
            try:
                run.finish()
            finally:
                audit.record(
                    audit.COMMAND.format(name),
                    actor=name,
                    outcome=run.outcome(),
                    detail=run.audit_detail(),
                )
                run.report(name)
    finally:
        if lock is not None:
            lock.release()
