"""Simulated calls: sessions of a room and their recordings.

A room's calls are "sessions", and recordings are tied to sessions [DOC concepts]. Here a
participant joins by opening their join link; once two different participants of a room have
joined, a session starts (its start is the second join). It ends when fewer than two remain, or
when a test ends it. A session of a room with `recording: "automatic"` (or `"manual"` once an
admin started it, as in the call UI [DOC recording]) leaves a recording at its end, announced by
`on_recording_available` with `data.room_id` and `data.session_id` [DOC, 3P].

UNCLEAR upstream: the paths (3P kaleyra-laravel): `GET /v2/sessions?room_id=&offset=&limit=`,
`GET /v2/sessions/{id}/recording?expires_in=` (a link valid 30 to 3600 s [DOC]) and
`DELETE /v2/sessions/{id}/recording` (recordings can be deleted [DOC migration guide]).
"""

import secrets
import sqlite3
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from kaleyra.simulator import rules
from kaleyra.simulator.events import RECORDING_AVAILABLE
from kaleyra.simulator.rules import not_found
from kaleyra.simulator.store import Store, timestamp

RECORDING_CONTENT_TYPE = "video/mp4"  # the bytes are a placeholder, not a video


class SessionOperations:
    store: Store
    link_base: str
    clock: Callable[[], float]
    notify: Callable[[tuple[str, str], Mapping[str, Any]], threading.Thread | None]

    # --- what participants do on their join page -----------------------------------------------

    def join(self, token: str) -> str | None:
        """The participant of join link `token` enters the call; the id of the session they are
        in, None while they wait for someone else. LookupError for an unknown link."""
        now = timestamp()
        with self.store.transaction() as connection:
            room_id, user_id = _participant_of(connection, token)
            session = _running(connection, room_id)
            if session is not None:
                connection.execute(
                    "INSERT INTO session_participants (session_id, user_id, join_date) "
                    "VALUES (?, ?, ?) "
                    "ON CONFLICT (session_id, user_id) DO UPDATE SET leave_date = NULL",
                    (session["id"], user_id, now),
                )
                return session["id"]
            connection.execute(
                "INSERT OR IGNORE INTO joins (room_id, user_id, join_date) VALUES (?, ?, ?)",
                (room_id, user_id, now),
            )
            waiting = connection.execute(
                "SELECT user_id, join_date FROM joins WHERE room_id = ? ORDER BY join_date",
                (room_id,),
            ).fetchall()
            if len(waiting) < 2:
                return None
            return _start(connection, room_id, waiting, start=now)

    def leave(self, token: str) -> threading.Thread | None:
        """The participant of `token` hangs up; with fewer than two left the session ends. The
        `on_recording_available` delivery thread when that leaves a recording."""
        now = timestamp()
        with self.store.transaction() as connection:
            room_id, user_id = _participant_of(connection, token)
            connection.execute(
                "DELETE FROM joins WHERE room_id = ? AND user_id = ?", (room_id, user_id)
            )
            session = _running(connection, room_id)
            if session is None:
                return None
            connection.execute(
                "UPDATE session_participants SET leave_date = ? "
                "WHERE session_id = ? AND user_id = ? AND leave_date IS NULL",
                (now, session["id"], user_id),
            )
            present = connection.execute(
                "SELECT COUNT(*) FROM session_participants "
                "WHERE session_id = ? AND leave_date IS NULL",
                (session["id"],),
            ).fetchone()[0]
            if present >= 2:
                return None
            recorded = _end(connection, session, end=now)
        return self._announce(room_id, session["id"]) if recorded else None

    def start_recording(self, room_id: str) -> None:
        """An admin presses "record" in the call: the running session of a `manual` room will
        leave a recording. LookupError when no session runs or the room records automatically
        or never."""
        with self.store.transaction() as connection:
            session = _running(connection, room_id)
            room = connection.execute(
                "SELECT recording FROM rooms WHERE id = ?", (room_id,)
            ).fetchone()
            if session is None or room is None or room["recording"] != "manual":
                raise LookupError(f"no running session of a manually recorded room {room_id}")
            connection.execute("UPDATE sessions SET recorded = 1 WHERE id = ?", (session["id"],))

    def end_session(self, room_id: str) -> threading.Thread | None:
        """Ends the running session of `room_id` (everyone hangs up). The delivery thread of
        `on_recording_available` when it leaves a recording (None otherwise, or without
        webhooks). LookupError when no session runs."""
        with self.store.transaction() as connection:
            session = _running(connection, room_id)
            if session is None:
                raise LookupError(f"no session is running in room {room_id}")
            recorded = _end(connection, session, end=timestamp())
        return self._announce(room_id, session["id"]) if recorded else None

    def _announce(self, room_id: str, session_id: str) -> threading.Thread | None:
        return self.notify(RECORDING_AVAILABLE, {"room_id": room_id, "session_id": session_id})

    # --- the API ------------------------------------------------------------------------------

    def list_sessions(self, query: Mapping[str, str]) -> dict[str, Any]:
        offset, limit = rules.page(query)
        room_id = query.get("room_id") or None
        with self.store.transaction() as connection:
            rows = connection.execute(
                "SELECT * FROM sessions WHERE ? IS NULL OR room_id = ? ORDER BY seq "
                "LIMIT ? OFFSET ?",
                (room_id, room_id, limit + 1, offset),
            ).fetchall()
            sessions = [_session(connection, row) for row in rows[:limit]]
        return {
            "offset": offset,
            "limit": limit,
            "has_more": len(rows) > limit,
            "count": len(sessions),
            "sessions": sessions,
        }

    def get_recording(self, session_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        expires_in = rules.recording_link_expires_in(query.get("expires_in"))
        with self.store.transaction() as connection:
            recording = _recording(connection, session_id)
        expires = int(self.clock()) + expires_in
        return {
            "session_id": session_id,
            "room_id": recording["room_id"],
            "url": f"{self.link_base}/recordings/{recording['token']}?expires={expires}",
            "expires_in": expires_in,
            "expiration_date": timestamp(datetime.fromtimestamp(expires, UTC)),
        }

    def delete_recording(self, session_id: str) -> None:
        with self.store.transaction() as connection:
            _recording(connection, session_id)
            connection.execute("DELETE FROM recordings WHERE session_id = ?", (session_id,))

    def recording_file(self, token: str, expires: str | None) -> tuple[int, bytes]:
        """What a recording link answers: (status, content). 404 for a link to no recording
        (or a deleted one), 403 once the link has expired."""
        with self.store.transaction() as connection:
            row = connection.execute(
                "SELECT session_id FROM recordings WHERE token = ?", (token,)
            ).fetchone()
        if row is None:
            return 404, b"no such recording"
        if not (expires or "").isdigit() or int(expires or 0) < self.clock():
            return 403, b"this recording link has expired"
        return 200, f"simulated recording of {row['session_id']}\n".encode()


def _participant_of(connection: sqlite3.Connection, token: str) -> tuple[str, str]:
    row = connection.execute(
        "SELECT room_id, user_id FROM participants WHERE token = ?", (token,)
    ).fetchone()
    if row is None:
        raise LookupError("this link does not open any room")
    return row["room_id"], row["user_id"]


def _running(connection: sqlite3.Connection, room_id: str) -> sqlite3.Row | None:
    return connection.execute(
        "SELECT * FROM sessions WHERE room_id = ? AND end_date IS NULL", (room_id,)
    ).fetchone()


def _start(
    connection: sqlite3.Connection, room_id: str, waiting: list[sqlite3.Row], *, start: str
) -> str:
    session_id = "session_" + secrets.token_hex(6)
    room = connection.execute("SELECT recording FROM rooms WHERE id = ?", (room_id,)).fetchone()
    connection.execute(
        "INSERT INTO sessions (id, room_id, start_date, recorded) VALUES (?, ?, ?, ?)",
        (session_id, room_id, start, room is not None and room["recording"] == "automatic"),
    )
    connection.executemany(
        "INSERT INTO session_participants (session_id, user_id, join_date) VALUES (?, ?, ?)",
        [(session_id, row["user_id"], row["join_date"]) for row in waiting],
    )
    connection.execute("DELETE FROM joins WHERE room_id = ?", (room_id,))
    return session_id


def _end(connection: sqlite3.Connection, session: sqlite3.Row, *, end: str) -> bool:
    """Ends `session`; whether it left a recording."""
    connection.execute("UPDATE sessions SET end_date = ? WHERE id = ?", (end, session["id"]))
    connection.execute(
        "UPDATE session_participants SET leave_date = ? "
        "WHERE session_id = ? AND leave_date IS NULL",
        (end, session["id"]),
    )
    if not session["recorded"]:
        return False
    connection.execute(
        "INSERT INTO recordings (session_id, room_id, token, creation_date) VALUES (?, ?, ?, ?)",
        (session["id"], session["room_id"], secrets.token_hex(16), end),
    )
    return True


def _session(connection: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    participants = connection.execute(
        "SELECT user_id, join_date, leave_date FROM session_participants "
        "WHERE session_id = ? ORDER BY join_date, user_id",
        (row["id"],),
    ).fetchall()
    return {
        "id": row["id"],
        "room_id": row["room_id"],
        "start_date": row["start_date"],
        "end_date": row["end_date"],
        "participants": [dict(participant) for participant in participants],
    }


def _recording(connection: sqlite3.Connection, session_id: str) -> sqlite3.Row:
    if connection.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
        raise not_found(f"session {session_id} not found")
    recording = connection.execute(
        "SELECT * FROM recordings WHERE session_id = ?", (session_id,)
    ).fetchone()
    if recording is None:
        raise not_found(f"session {session_id} has no recording")
    return recording
