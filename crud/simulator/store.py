"""The simulator's state: one stdlib sqlite3 file, documents stored as JSON, shared by every
process and thread that opens it.

Not the Django ORM on purpose: the service counts its own SQL queries in tests, and the simulator
must stay invisible to those counts (and needs no migrations). Every write runs in a transaction
taken up front (BEGIN IMMEDIATE), so writes are serialised across connections and processes: a
read-check-write such as a compare-and-set PATCH cannot interleave with another write.
"""

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BUSY_TIMEOUT_SECONDS = 30.0  # many writers queue on the write lock; none should give up early

SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY,
    default_state TEXT NOT NULL,
    unique_indexes TEXT NOT NULL,
    date_fields TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (collection, id)
);
CREATE INDEX IF NOT EXISTS documents_in_order ON documents (collection, seq);
"""


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


class Store:
    """Opens a short-lived connection per transaction, so threads and processes never share one."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = self._connect()
        try:
            # WAL is a property of the file: readers never block the one writer, across processes.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)  # idempotent; executescript manages its own commit
        finally:
            connection.close()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        connection.row_factory = sqlite3.Row
        # No fsync per commit: WAL with NORMAL survives a crashed process, and this is a simulator.
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front (IMMEDIATE) so read-then-write cannot race."""
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside it sees the same committed state."""
        connection = self._connect()
        try:
            connection.execute("BEGIN")
            yield connection
            connection.execute("COMMIT")
        finally:
            connection.close()

    def wipe(self) -> None:
        """Forgets every document and every collection's configuration."""
        with self.transaction() as connection:
            connection.execute("DELETE FROM documents")
            connection.execute("DELETE FROM collections")
