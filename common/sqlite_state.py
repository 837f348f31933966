"""A simulator's state file: one stdlib sqlite3 file shared by every thread and process that opens
it, in WAL mode, with writes taken up front.

Not the Django ORM on purpose: the service counts its own SQL queries in tests, and a simulator
must stay invisible to those counts (and needs no migrations).
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def connect(path: Path, *, busy_timeout: float) -> sqlite3.Connection:
    """A connection that begins its transactions explicitly and reads rows by column name."""
    connection = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    connection.row_factory = sqlite3.Row
    # No fsync per commit: WAL with NORMAL survives a crashed process, and this is a simulator.
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def create(path: Path, schema: str, *, busy_timeout: float) -> None:
    """Makes the file (and its folder) with `schema`; a file that has it already is kept as is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = connect(path, busy_timeout=busy_timeout)
    try:
        # WAL is a property of the file: readers never block the one writer, across processes.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(schema)  # idempotent; executescript manages its own commit
    finally:
        connection.close()


@contextmanager
def write_transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken up front (IMMEDIATE) so read-then-write cannot race; rolled
    back on any exception."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
