"""The simulator's per-API-key rate limit: past `requests` calls in a window of `window_seconds`
(counted from the window's first call), a call is answered 429, with `Retry-After` (the seconds
left in the window) unless turned off. Kaleyra answers 429 [FP-CODE: both first-party clients
handle it on `GET /v2/users`], but documents no numbers and no header; off unless configured."""

import json
import math
import sqlite3
from dataclasses import asdict, dataclass

from kaleyra.simulator.faults import Fault

SETTING = "rate_limit"
IN_PROCESS_KEY = "in-process"  # the in-process simulator has no API key: all its calls share one


@dataclass(frozen=True)
class RateLimit:
    requests: int
    window_seconds: float
    retry_after: bool = True

    def __post_init__(self) -> None:
        if self.requests < 1 or self.window_seconds <= 0:
            raise ValueError("a rate limit needs at least 1 request in a window over 0 seconds")


def configure(connection: sqlite3.Connection, limit: RateLimit | None) -> None:
    """Sets (None: removes) the limit; every key's window starts again."""
    connection.execute("DELETE FROM rate_windows")
    if limit is None:
        connection.execute("DELETE FROM settings WHERE name = ?", (SETTING,))
        return
    connection.execute(
        "INSERT INTO settings (name, value) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (SETTING, json.dumps(asdict(limit))),
    )


def current(connection: sqlite3.Connection) -> RateLimit | None:
    row = connection.execute("SELECT value FROM settings WHERE name = ?", (SETTING,)).fetchone()
    return None if row is None else RateLimit(**json.loads(row["value"]))


def admit(connection: sqlite3.Connection, api_key: str, now: float) -> Fault | None:
    """Counts a call of `api_key`; the 429 to answer instead when it is past the limit (a call
    refused is not counted)."""
    limit = current(connection)
    if limit is None:
        return None
    window = connection.execute(
        "SELECT started, count FROM rate_windows WHERE api_key = ?", (api_key,)
    ).fetchone()
    if window is None or now >= window["started"] + limit.window_seconds:
        connection.execute(
            "INSERT INTO rate_windows (api_key, started, count) VALUES (?, ?, 1) "
            "ON CONFLICT (api_key) DO UPDATE SET started = excluded.started, count = 1",
            (api_key, now),
        )
        return None
    if window["count"] < limit.requests:
        connection.execute(
            "UPDATE rate_windows SET count = count + 1 WHERE api_key = ?", (api_key,)
        )
        return None
    wait = float(max(1, math.ceil(window["started"] + limit.window_seconds - now)))
    return Fault(mode="429", retry_after=wait if limit.retry_after else None)
