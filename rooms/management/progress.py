"""Progress, summary and exit status shared by the support commands.

A command walks its items in batches through `Tally.walk` (or has `Tally.each` work on them,
`--concurrency` at a time, or `Tally.each_chunk` on chunks of them), records each `Outcome`, and
gets on stderr a progress line (done/total, rate) at most every few seconds, then a summary on
stdout.
The command fails (exit status 1) when any item failed, when the run stopped because the video
provider is failing, or when it was interrupted; every item stands alone, so running it again
carries on where it stopped. Each run is one audit entry with the summary counts, and carries its
own request id, shared by the entries of the items it touched. A run is background work
(`kaleyra.retry.background_work`): nobody waits on it, so a Kaleyra 429 is waited out and retried.
"""

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from kaleyra.provider import expect_calls_at_once
from kaleyra.retry import background_work
from rooms.services import audit, support
from rooms.services.concurrency import Pool
from rooms.services.support import Outcome, Result, Underway, leased

PROGRESS_EVERY_SECONDS = 5.0


class Tally:
    def __init__(
        self,
        command: BaseCommand,
        *,
        total: int,
        dry_run: bool,
        verbosity: int,
        concurrency: int = 1,
    ):
        self.command = command
        self.total = total
        self.dry_run = dry_run
        self.verbosity = verbosity
        self.concurrency = concurrency
        self.counts = dict.fromkeys(Result, 0)
        self.stopped_because = ""
        self.interrupted = False
        # What else the run did, for its audit entry (ids and counts only).
        self.detail: dict = {}
        self._started = self._last_line = time.monotonic()

    @property
    def handled(self) -> int:
        return sum(self.counts.values())

    def walk(
        self,
        batches: Iterable[list],
        *,
        lease: str | None = None,
        still: Callable[[Any], bool] | None = None,
    ) -> Iterator:
        """The items of each batch in turn, until the run is stopped; progress after a batch.
        With `lease`, each item is held while the caller works on it, and one that another
        host's run holds is skipped; `still(item)`, asked once the item is held, skips one that
        another run finished after this run listed it (so concurrent runs never handle an item
        twice)."""
        for batch in batches:
            for item in batch:
                if self.stopped_because:
                    return
                if lease is None or self.dry_run:
                    yield item
                    continue
                with leased(f"{lease}:{lease_key(item)}") as mine:
                    if mine and (still is None or still(item)):
                        yield item
                    else:
                        self.counts[Result.SKIPPED] += 1  # another run has it, or had it
            self._progress()

    def each(
        self,
        batches: Iterable[list],
        work: Callable[[object], Outcome],
        *,
        lease: str | None = None,
        still: Callable[[Any], bool] | None = None,
    ) -> None:
        """Records `work(item)` for every item `walk` gives, `concurrency` items at a time.

        Outcomes are recorded (and printed) in the items' order. Once the run stops (the provider
        failing) or is interrupted, no further item is started; those already started finish and
        are recorded (fewer than 2 x `concurrency` are ever in hand)."""
        if self.concurrency <= 1 or self.dry_run or connection.in_atomic_block:
            # Inside a transaction, worker threads (each on its own connection) could not see
            # its rows: one at a time on this thread, as with --concurrency 1.
            for item in self.walk(batches, lease=lease, still=still):
                self.record(work(item))
            return
        held = _Held(work, lease, still)
        started: deque = deque()  # in the items' order; never more than `window` in hand
        window = 2 * self.concurrency
        with Pool(self.concurrency, name="maintenance") as workers:
            try:
                for item in self.walk(batches):
                    started.append(workers.submit(held, item))
                    while started and (len(started) >= window or started[0].done()):
                        self._record_result(started.popleft())
                while started and not self.stopped_because:
                    self._record_result(started.popleft())
            except KeyboardInterrupt:
                self.interrupted = True
            for future in started:
                future.cancel()  # not started yet: left for the next run
            workers.shutdown()
            for future in started:
                if not future.cancelled():
                    try:
                        self._record_result(future)
                    except KeyboardInterrupt:
                        self.interrupted = True
        if self.interrupted:
            raise KeyboardInterrupt

    def each_chunk(
        self,
        batches: Iterable[list],
        start: Callable[[list, Pool], Underway],
        *,
        lease: str,
        still: Callable[[list], list] | None = None,
    ) -> None:
        """`each` for work written a chunk of `concurrency` items at a time (a few SQL statements
        per chunk instead of several per item): `start(items, workers)` writes the chunk and sets
        its provider calls going on `workers` (`concurrency` calls in flight), and the chunk's
        outcomes are recorded once the next chunk has started, so the provider is kept busy while
        this thread writes. Leases are taken, re-checked (`still(items)` gives those still to do)
        and released a chunk at a time.

        As with `each`: outcomes in the items' order; once the run stops (the provider failing)
        or is interrupted no chunk is started, and the ones in hand (two at most, one at
        --concurrency 1) are finished and recorded."""
        in_hand: deque[tuple[Underway, list[str]]] = deque()
        # One after the other at --concurrency 1: a chunk is finished before the next starts.
        depth = 2 if self.concurrency > 1 else 1
        with Pool(self.concurrency, name="maintenance") as workers:
            try:
                for chunk in _chunks(batches, self.concurrency):
                    if in_hand and in_hand[-1][0].failing():
                        self._finish_chunks(in_hand)  # records the failure: the run stops
                    if self.stopped_because or self.interrupted:
                        break
                    started = self._start_chunk(chunk, start, workers, lease=lease, still=still)
                    if started is not None:
                        in_hand.append(started)
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

    def _start_chunk(self, chunk: list, start, workers, *, lease: str, still):
        """The chunk's leases, then `start` on the items held and still to do (None if none)."""
        names = [f"{lease}:{lease_key(item)}" for item in chunk]
        held = support.take_leases(names)
        mine = [(name, item) for name, item in zip(names, chunk, strict=True) if name in held]
        if still is not None and mine:
            todo = {f"{lease}:{lease_key(item)}" for item in still([item for _, item in mine])}
            support.release_leases(name for name, _ in mine if name not in todo)
            mine = [(name, item) for name, item in mine if name in todo]
        self.counts[Result.SKIPPED] += len(chunk) - len(mine)  # another run has it, or had it
        if not mine:
            return None
        held_names = [name for name, _ in mine]
        try:
            return start([item for _, item in mine], workers), held_names
        except BaseException:
            support.release_leases(held_names)
            raise

    def _finish_chunks(self, in_hand: deque) -> None:
        while in_hand:
            self._finish_chunk(in_hand)

    def _finish_chunk(self, in_hand: deque) -> None:
        """Records the oldest chunk's outcomes and releases its leases. Waiting for them may be
        interrupted (Ctrl-C): the chunk stays in hand, to be finished again."""
        underway, names = in_hand[0]
        outcomes = underway.outcomes()
        in_hand.popleft()
        try:
            for outcome in outcomes:
                self.record(outcome)
        finally:
            support.release_leases(names)
        if underway.interrupted:
            self.interrupted = True
        self._progress()

    def _record_result(self, future) -> None:
        outcome = future.result()  # an item interrupted on its thread ends the run as Ctrl-C
        if outcome is HELD_ELSEWHERE:
            self.counts[Result.SKIPPED] += 1
        else:
            self.record(outcome)

    on_record = None  # called with each outcome (reconcile_rooms counts them as metrics)

    def record(self, outcome: Outcome) -> None:
        self.counts[outcome.result] += 1
        if self.on_record is not None:
            self.on_record(outcome)
        if self.verbosity >= 1 or outcome.result is Result.FAILED:
            self.command.stdout.write(outcome.message, self._style(outcome.result))
        if outcome.provider_failed and not self.stopped_because:
            self.stopped_because = "the video provider is failing; the rest is left for later"

    def would(self, message: str) -> None:
        """A dry run's line: what would be done to one item."""
        self.record(Outcome(Result.DONE, f"would {message}"))

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
        share = f" ({self.handled * 100 // self.total}%)" if self.total else ""
        self.command.stderr.write(
            f"progress: {self.handled}/{self.total}{share}, {rate:.1f} items/s", ending="\n"
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

    def audit_detail(self) -> dict:
        counts = {
            "done": self.counts[Result.DONE],
            "partlyDone": self.counts[Result.PARTLY_DONE],
            "skipped": self.counts[Result.SKIPPED],
            "failed": self.counts[Result.FAILED],
        }
        return {"total": self.total, **counts, "stopped": bool(self.stopped_because), **self.detail}


def connection_after_interrupt() -> None:
    """Ctrl-C can break off a query half-way on this thread, and psycopg may then leave the
    connection unable to send another ("another command is already in progress"): it is dropped,
    so what the run still records (outcomes, leases released, its audit entry) goes through a new
    one. Inside a transaction (the tests') the connection is the transaction's, and is kept."""
    if not connection.in_atomic_block:
        connection.close()


HELD_ELSEWHERE = object()  # another host's run holds the item's lease


class _Held:
    """One item's work on a worker thread, under the item's lease when the run takes leases."""

    def __init__(self, work: Callable[[object], Outcome], lease: str | None, still=None):
        self.work, self.lease, self.still = work, lease, still

    def __call__(self, item) -> object:
        if self.lease is None:
            return self.work(item)
        with leased(f"{self.lease}:{lease_key(item)}") as mine:
            # Held, and still to do: another run may have finished it after this one listed it.
            if mine and (self.still is None or self.still(item)):
                return self.work(item)
            return HELD_ELSEWHERE


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


def lease_key(item) -> str:
    return item if isinstance(item, str) else f"{item.kind}:{item.key}"


@contextmanager
def tally(
    command: BaseCommand, *, total: int, dry_run: bool, verbosity: int, concurrency: int = 1
) -> Iterator[Tally]:
    """A run of `command`: ends with the summary and the exit status, even when interrupted."""
    name = type(command).__module__.rsplit(".", 1)[-1]
    expect_calls_at_once(concurrency)
    run = Tally(command, total=total, dry_run=dry_run, verbosity=verbosity, concurrency=concurrency)
    # Nobody waits for the answer of a support run: a 429 naming no time is waited out.
    with audit.channel("command", request_id=audit.run_id(name)), background_work():
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
