"""`Simulator`: the handle tests use to arrange and inspect the simulated Kaleyra company."""

import threading
from pathlib import Path
from typing import Any

from kaleyra import wire
from kaleyra.simulator import faults, ratelimit, rules
from kaleyra.simulator.engine import Engine
from kaleyra.simulator.webhook_sender import WebhookSender
from kaleyra.types import Role, Upload

DEFAULT_LINK_BASE = "http://127.0.0.1:8000/kaleyra-simulator"


def _token(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


class Simulator:
    """Opens (or creates) the state file at `db_path`; any number of handles may share it.
    `webhooks` sends the events the handle's controls cause (none without it)."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        link_base: str = DEFAULT_LINK_BASE,
        webhooks: WebhookSender | None = None,
    ):
        self.db_path = Path(db_path)
        self.engine = Engine(db_path, link_base=link_base, webhooks=webhooks)

    def fail_next(
        self,
        operation: str,
        *,
        mode: str,
        times: int = 1,
        retry_after: float | None = faults.DEFAULT_RETRY_AFTER,
        delay: float | None = None,
    ) -> None:
        """Makes the next `times` calls of `operation` fail: mode "500", "429" (with
        Retry-After: `retry_after`; None sends no header), "timeout" or "drop", or, after doing
        the operation, "timeout_after" or "drop_after". Operations are provider method names."""
        with self.engine.store.transaction() as connection:
            faults.queue_fault(
                connection, operation, mode=mode, times=times, retry_after=retry_after, delay=delay
            )

    def clear_faults(self) -> None:
        """Drops every fault still queued: Kaleyra is well again."""
        with self.engine.store.transaction() as connection:
            connection.execute("DELETE FROM faults")

    def add_upload(
        self, room_id: str, *, user_id: str | None = None, upload_type: str = "file_upload"
    ) -> Upload:
        return wire.parse_upload(
            self.engine.add_upload(room_id, user_id=user_id, upload_type=upload_type)
        )

    def delete_room_on_kaleyra_side(self, room_id: str) -> threading.Thread | None:
        """Deletes a room as Kaleyra may on its own (expiry, someone in the dashboard): not a call
        of ours, so not logged; `on_room_deleted` is sent as for any deletion. Returns the
        delivery thread (join it to wait), None without webhooks. LookupError if unknown."""
        if not self.room_exists(room_id):
            raise LookupError(f"room {room_id} does not exist in the simulator")
        return self.engine.delete_room(room_id)

    def emit_recording_available(
        self, room_id: str, session_id: str | None = None
    ) -> threading.Thread | None:
        """Sends `on_recording_available` for a session of `room_id` (by default the session
        `add_upload` uses). Returns the delivery thread, None without webhooks."""
        session_id = session_id or f"session_{room_id.removeprefix('room_')}"
        return self.engine.recording_available(room_id, session_id)

    def set_rate_limit(
        self, requests: int | None, *, per_seconds: float = 60.0, retry_after: bool = True
    ) -> None:
        """Past `requests` calls of one API key within `per_seconds` (from the window's first
        call), the simulator answers 429, with `Retry-After` unless `retry_after` is False.
        None turns the limit off (the default)."""
        limit = (
            None if requests is None else ratelimit.RateLimit(requests, per_seconds, retry_after)
        )
        with self.engine.store.transaction() as connection:
            ratelimit.configure(connection, limit)

    # --- calls: sessions and recordings ---------------------------------------------------------

    def open_link(self, link: str) -> str | None:
        """A participant opens their join link, as the join page does: the session id once a
        second participant is in, None while waiting. LookupError for a link to no room."""
        return self.engine.join(_token(link))

    def leave(self, link: str) -> threading.Thread | None:
        """The participant of `link` hangs up (the page's "Leave the call"); a session with
        fewer than two left ends. The recording's webhook delivery thread, if one is sent."""
        return self.engine.leave(_token(link))

    def end_session(self, room_id: str) -> threading.Thread | None:
        """Ends the session running in `room_id`. When the room records (`automatic`, or
        `manual` after `start_recording`), a recording is made and `on_recording_available`
        sent: the delivery thread is returned. LookupError when no session runs."""
        return self.engine.end_session(room_id)

    def start_recording(self, room_id: str) -> None:
        """An admin starts recording the running session of a `manual` room."""
        self.engine.start_recording(room_id)

    def sessions(self, room_id: str | None = None) -> list[dict[str, Any]]:
        """Sessions as `GET /v2/sessions` shows them (id, room_id, start_date, end_date,
        participants with join and leave dates), oldest first, at most 100."""
        query = {"limit": str(rules.MAX_PAGE_LIMIT)} | ({"room_id": room_id} if room_id else {})
        return self.engine.list_sessions(query)["sessions"]

    def plus_licences_in_use(self) -> int:
        """Active plus users (an inactive one no longer counts)."""
        return self.engine.plus_licences_in_use()

    def registered_webhooks(self) -> list[dict[str, Any]]:
        """Webhooks registered through the API: id, url, events, version, creation_date."""
        return self.engine.registered_webhooks()

    def rooms(self) -> list[str]:
        with self.engine.store.transaction() as connection:
            return [row[0] for row in connection.execute("SELECT id FROM rooms ORDER BY rowid")]

    def room_exists(self, room_id: str) -> bool:
        return room_id in self.rooms()

    def get_room_record(self, room_id: str) -> dict[str, Any] | None:
        """The room as the v2 API shows it (participants with tools and links), or None."""
        if not self.room_exists(room_id):
            return None
        return self.engine.get_room(room_id)

    def users(self) -> dict[str, Role]:
        with self.engine.store.transaction() as connection:
            rows = connection.execute("SELECT id, role FROM users ORDER BY rowid").fetchall()
        return {row["id"]: Role(row["role"]) for row in rows}

    def user_role(self, user_id: str) -> Role | None:
        return self.users().get(user_id)

    def uploads(self, room_id: str | None = None) -> list[Upload]:
        with self.engine.store.transaction() as connection:
            rows = connection.execute(
                "SELECT * FROM uploads WHERE ? IS NULL OR room_id = ? ORDER BY seq",
                (room_id, room_id),
            ).fetchall()
        return [wire.parse_upload(dict(row)) for row in rows]

    def backgrounds(self) -> list[str]:
        with self.engine.store.transaction() as connection:
            return [row[0] for row in connection.execute("SELECT alias FROM backgrounds")]

    def call_count(self, operation: str | None = None) -> int:
        """Calls that reached the simulator (each retry counts), for one operation or all."""
        with self.engine.store.transaction() as connection:
            return faults.call_count(connection, operation)

    def calls(self) -> dict[str, int]:
        with self.engine.store.transaction() as connection:
            return faults.call_log(connection)

    def reset_call_log(self) -> None:
        with self.engine.store.transaction() as connection:
            connection.execute("DELETE FROM calls")

    def reset(self) -> None:
        """Back to a fresh company: no users, rooms, uploads, backgrounds, faults or calls."""
        self.engine.store.wipe()
