"""Fault injection and the call log, both kept in the state file so they work across processes.

Every operation that reaches the simulator is counted (retries included, so tests can assert how
many times Kaleyra was asked), then takes the next pending fault queued for it, if any.
"""

import sqlite3
from dataclasses import dataclass

OPERATIONS = (
    "create_user",
    "get_user",
    "update_user_role",
    "create_room",
    "get_room",
    "delete_room",
    "iter_rooms",
    "iter_room_uploads",
    "delete_upload",
    "create_sdk_credentials",
    "get_company",
    "set_default_background",
    "upload_background",
    "register_webhook",
    "list_webhooks",
    "delete_webhook",
    "iter_room_sessions",
    "recording_link",
    "delete_recording",
)
# The "_after" modes perform the operation first, then lose the answer the same way.
MODES = ("500", "429", "timeout", "drop", "timeout_after", "drop_after")
DEFAULT_RETRY_AFTER = 1.0
ACTS_FIRST_SUFFIX = "_after"


@dataclass(frozen=True)
class Fault:
    """What to do instead of answering: an HTTP 500, a 429 (with Retry-After: `retry_after`, or
    without the header when None), no answer in time ("timeout"; `delay` seconds over HTTP, None =
    the server's default), or a dropped connection ("drop"). "timeout_after" and "drop_after" do
    the operation first, so the change is made and only the answer is lost."""

    mode: str
    retry_after: float | None = DEFAULT_RETRY_AFTER
    delay: float | None = None

    @property
    def acts_first(self) -> bool:
        return self.mode.endswith(ACTS_FIRST_SUFFIX)

    @property
    def answer_lost_as(self) -> str:
        """How the client loses the answer: the mode without its "_after"."""
        return self.mode.removesuffix(ACTS_FIRST_SUFFIX)


def queue_fault(
    connection: sqlite3.Connection,
    operation: str,
    *,
    mode: str,
    times: int,
    retry_after: float | None,
    delay: float | None,
) -> None:
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}; one of {', '.join(OPERATIONS)}")
    if mode not in MODES:
        raise ValueError(f"unknown fault mode {mode!r}; one of {', '.join(MODES)}")
    if times < 1:
        raise ValueError("times must be at least 1")
    connection.execute(
        "INSERT INTO faults (operation, mode, remaining, retry_after, delay) "
        "VALUES (?, ?, ?, ?, ?)",
        (operation, mode, times, retry_after, delay),
    )


def record_call(connection: sqlite3.Connection, operation: str) -> Fault | None:
    """Counts one call of `operation` and consumes its next queued fault."""
    connection.execute(
        "INSERT INTO calls (operation, count) VALUES (?, 1) "
        "ON CONFLICT (operation) DO UPDATE SET count = count + 1",
        (operation,),
    )
    row = connection.execute(
        "SELECT seq, mode, remaining, retry_after, delay FROM faults "
        "WHERE operation = ? ORDER BY seq LIMIT 1",
        (operation,),
    ).fetchone()
    if row is None:
        return None
    if row["remaining"] <= 1:
        connection.execute("DELETE FROM faults WHERE seq = ?", (row["seq"],))
    else:
        connection.execute(
            "UPDATE faults SET remaining = remaining - 1 WHERE seq = ?", (row["seq"],)
        )
    return Fault(mode=row["mode"], retry_after=row["retry_after"], delay=row["delay"])


def call_count(connection: sqlite3.Connection, operation: str | None) -> int:
    if operation is None:
        row = connection.execute("SELECT COALESCE(SUM(count), 0) AS total FROM calls").fetchone()
    else:
        row = connection.execute(
            "SELECT COALESCE(SUM(count), 0) AS total FROM calls WHERE operation = ?", (operation,)
        ).fetchone()
    return row["total"]


def call_log(connection: sqlite3.Connection) -> dict[str, int]:
    rows = connection.execute("SELECT operation, count FROM calls ORDER BY operation").fetchall()
    return {row["operation"]: row["count"] for row in rows}
