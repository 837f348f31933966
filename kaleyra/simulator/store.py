"""The simulator's state: one sqlite3 file (common/sqlite_state.py) shared by every process that
opens it: WAL mode and a busy timeout let the web server, a `manage.py kaleyra_simulator` process
and tests read and write the same file.
"""

import os
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from common import sqlite_state

BUSY_TIMEOUT_SECONDS = 10.0


def timestamp(moment: datetime | None = None) -> str:
    """UTC with milliseconds, as Kaleyra writes dates: 2022-01-10T11:41:19.000Z."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


SCHEMA = """
CREATE TABLE IF NOT EXISTS company (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    company_id TEXT NOT NULL,
    token_secret TEXT NOT NULL,
    name TEXT,
    default_language TEXT,
    default_background TEXT,
    end_call_redirect_url TEXT,
    user_details_provider_url TEXT,
    end_call_redirect_timeout_ms INTEGER
);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, role TEXT NOT NULL, creation_date TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY, recording TEXT NOT NULL, call_type TEXT NOT NULL, description TEXT,
    duration INTEGER, live INTEGER, creation_date TEXT NOT NULL, ringing INTEGER,
    offline_transcription INTEGER
);
CREATE TABLE IF NOT EXISTS participants (
    room_id TEXT NOT NULL, position INTEGER NOT NULL, user_id TEXT NOT NULL,
    is_admin INTEGER NOT NULL, tools TEXT, token TEXT NOT NULL UNIQUE,
    PRIMARY KEY (room_id, user_id)
);
CREATE TABLE IF NOT EXISTS uploads (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, room_id TEXT,
    user_id TEXT, session_id TEXT, upload_type TEXT NOT NULL, creation_date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS backgrounds (
    alias TEXT PRIMARY KEY, url TEXT NOT NULL, creation_date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS faults (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, operation TEXT NOT NULL, mode TEXT NOT NULL,
    remaining INTEGER NOT NULL, retry_after REAL, delay REAL
);
CREATE TABLE IF NOT EXISTS calls (operation TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, version TEXT,
    creation_date TEXT NOT NULL, filters TEXT
);
CREATE TABLE IF NOT EXISTS joins (
    room_id TEXT NOT NULL, user_id TEXT NOT NULL, join_date TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE TABLE IF NOT EXISTS sessions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, room_id TEXT NOT NULL,
    start_date TEXT NOT NULL, end_date TEXT, recorded INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS session_participants (
    session_id TEXT NOT NULL, user_id TEXT NOT NULL, join_date TEXT NOT NULL, leave_date TEXT,
    PRIMARY KEY (session_id, user_id)
);
CREATE TABLE IF NOT EXISTS recordings (
    session_id TEXT PRIMARY KEY, room_id TEXT NOT NULL, token TEXT NOT NULL UNIQUE,
    creation_date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rate_windows (
    api_key TEXT PRIMARY KEY, started REAL NOT NULL, count INTEGER NOT NULL
);
"""

TABLES = (
    "company",
    "users",
    "rooms",
    "participants",
    "uploads",
    "backgrounds",
    "faults",
    "calls",
    "webhooks",
    "joins",
    "sessions",
    "session_participants",
    "recordings",
    "settings",
    "rate_windows",
)
# Columns added after a state file may have been made: (table, column, declaration).
ADDED_COLUMNS = (
    ("users", "active", "INTEGER NOT NULL DEFAULT 1"),
    ("rooms", "ringing", "INTEGER"),
    ("rooms", "offline_transcription", "INTEGER"),
    ("webhooks", "filters", "TEXT"),
)


def insert_default_company(connection: sqlite3.Connection) -> None:
    connection.execute(
        "INSERT OR IGNORE INTO company (id, company_id, token_secret, name, default_language) "
        "VALUES (1, ?, ?, 'Simulated company', 'en')",
        (str(uuid.uuid4()), secrets.token_hex(32)),
    )


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    """Brings a state file made by an older simulator up to the schema (new files have it)."""
    for table, column, declaration in ADDED_COLUMNS:
        present = {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


class Store:
    """One connection per process, used by one thread at a time; other processes have their own.

    The threads of a served simulator take turns on a lock rather than in SQLite's busy handler,
    whose sleeps (up to 100 ms each) made it far slower than its --latency-ms; and the connection
    stays open, because closing the last one checkpoints the write-ahead log, every time.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._writing = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        sqlite_state.create(self.path, SCHEMA, busy_timeout=BUSY_TIMEOUT_SECONDS)
        with self.transaction() as connection:
            _add_missing_columns(connection)
            insert_default_company(connection)

    def _shared(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():  # never one a fork inherited
            connection = sqlite_state.connect(self.path, busy_timeout=BUSY_TIMEOUT_SECONDS)
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (IMMEDIATE: read-then-write cannot race) on the shared
        connection, one thread at a time."""
        with self._writing, sqlite_state.write_transaction(self._shared()) as connection:
            yield connection

    def wipe(self) -> None:
        """Forgets every user, room, upload, background, fault, call and registered webhook;
        keeps the company id."""
        with self.transaction() as connection:
            for table in TABLES:
                if table != "company":
                    connection.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            connection.execute(
                "UPDATE company SET name = 'Simulated company', default_language = 'en', "
                "default_background = NULL, end_call_redirect_url = NULL, "
                "user_details_provider_url = NULL, end_call_redirect_timeout_ms = NULL"
            )
