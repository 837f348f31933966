"""The simulator's state: one sqlite3 file (common/sqlite_state.py), documents stored as JSON,
shared by every process and thread that opens it.

Every write runs in a transaction taken up front (BEGIN IMMEDIATE), so writes are serialised
across connections and processes: a read-check-write such as a compare-and-set PATCH cannot
interleave with another write.
"""

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from common import sqlite_state

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


def dump(document: dict[str, Any] | list[Any]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


class Store:
    """Opens a short-lived connection per transaction, so threads and processes never share one."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        sqlite_state.create(self.path, SCHEMA, busy_timeout=BUSY_TIMEOUT_SECONDS)

    def _connect(self) -> sqlite3.Connection:
        return sqlite_state.connect(self.path, busy_timeout=BUSY_TIMEOUT_SECONDS)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (IMMEDIATE: read-then-write cannot race) on its own connection."""
        with closing(self._connect()) as connection, sqlite_state.write_transaction(connection):
            yield connection

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside it sees the same committed state."""
        with closing(self._connect()) as connection:
            connection.execute("BEGIN")
            yield connection
            connection.execute("COMMIT")

    def wipe(self) -> None:
        """Forgets every document and every collection's configuration."""
        with self.transaction() as connection:
            connection.execute("DELETE FROM documents")
            connection.execute("DELETE FROM collections")
