"""The simulated Kaleyra company: v2 operations over the state file, with Kaleyra's rules.

Takes request bodies and returns response bodies in the v2 wire shape (the ones `kaleyra.wire`
parses), so the in-process provider and the HTTP server share one behaviour. Refusals are raised
as `rules.Refusal` with the HTTP status Kaleyra would answer.
"""

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kaleyra.simulator import faults, ratelimit, rules, tokens
from kaleyra.simulator.company import CompanyOperations
from kaleyra.simulator.events import ROOM_DELETED, WebhookOperations
from kaleyra.simulator.rules import Refusal, bad_request, not_found
from kaleyra.simulator.sessions import SessionOperations
from kaleyra.simulator.store import Store, timestamp
from kaleyra.simulator.uploads import UploadOperations
from kaleyra.simulator.webhook_sender import WebhookSender


def _given(field: str, value: int | None) -> dict[str, bool]:
    """A boolean room field, only when the creator sent it (no default is documented)."""
    return {} if value is None else {field: bool(value)}


class Engine(UploadOperations, CompanyOperations, WebhookOperations, SessionOperations):
    def __init__(
        self,
        path: str | Path,
        *,
        link_base: str,
        webhooks: WebhookSender | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.store = Store(path)
        self.link_base = link_base.rstrip("/")
        self.webhooks = webhooks
        self.clock = clock

    def enter(
        self, operation: str, *, api_key: str = ratelimit.IN_PROCESS_KEY
    ) -> faults.Fault | None:
        """Logs a call of `operation` by `api_key`; returns the fault to play instead of
        answering, if any: one queued by a test, else a 429 past the rate limit."""
        with self.store.transaction() as connection:
            fault = faults.record_call(connection, operation)
            return fault or ratelimit.admit(connection, api_key, self.clock())

    # --- users --------------------------------------------------------------------------------

    def create_user(self, body: Any) -> dict[str, Any]:
        body = rules.require_object(body)
        user_id = body.get("id")
        user_id = "usr_" + secrets.token_hex(6) if user_id is None else rules.user_id(user_id)
        role = rules.role(body.get("role"))
        with self.store.transaction() as connection:
            # An inactive user's id cannot be reused either [DOC user management].
            if self._user_row(connection, user_id) is not None:
                raise Refusal(409, f"user {user_id} already exists")
            connection.execute(
                "INSERT INTO users (id, role, creation_date) VALUES (?, ?, ?)",
                (user_id, role, timestamp()),
            )
        return {"id": user_id, "role": role}

    def get_user(self, user_id: str) -> dict[str, Any]:
        with self.store.transaction() as connection:
            return self._user(connection, user_id)

    def update_user(self, user_id: str, body: Any) -> dict[str, Any]:
        """`role` and `active` (deactivating keeps the user and its history, and frees its plus
        licence [DOC user management]); at least one of them."""
        body = rules.require_object(body)
        rules.known_fields(body, rules.USER_UPDATE_FIELDS, "user")
        if not body:
            raise bad_request(f"nothing to update; give {' or '.join(rules.USER_UPDATE_FIELDS)}")
        role = None if body.get("role") is None else rules.role(body["role"])
        active = rules.optional_boolean(body.get("active"), "active")
        with self.store.transaction() as connection:
            self._user(connection, user_id)
            if role is not None:
                connection.execute("UPDATE users SET role = ? WHERE id = ?", (role, user_id))
            if active is not None:
                connection.execute("UPDATE users SET active = ? WHERE id = ?", (active, user_id))
            return self._user(connection, user_id)

    def plus_licences_in_use(self) -> int:
        """Active plus users: an inactive one no longer counts as a licence [DOC]."""
        with self.store.transaction() as connection:
            query = "SELECT COUNT(*) FROM users WHERE role = 'plus' AND active = 1"
            return connection.execute(query).fetchone()[0]

    def _user_row(self, connection: sqlite3.Connection, user_id: str) -> sqlite3.Row | None:
        return connection.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()

    def _user(self, connection: sqlite3.Connection, user_id: str) -> dict[str, Any]:
        row = self._user_row(connection, user_id)
        if row is None:
            raise not_found(f"user {user_id} not found")
        return {
            "id": row["id"],
            "role": row["role"],
            "active": bool(row["active"]),
            "creation_date": row["creation_date"],
        }

    # --- rooms --------------------------------------------------------------------------------

    def create_room(self, body: Any) -> dict[str, Any]:
        body = rules.require_object(body)
        rules.known_fields(body, rules.ROOM_FIELDS, "room")
        participants = [
            self._participant(item) for item in rules.participant_count(body.get("participants"))
        ]
        user_ids = [participant[0] for participant in participants]
        if len(set(user_ids)) != len(user_ids):
            raise bad_request("a user can be in a room only once")
        duration = rules.duration(body.get("duration"))
        recording = rules.recording(body.get("recording"))
        call_type = rules.call_type(body.get("call_type"))
        ringing = rules.optional_boolean(body.get("ringing"), "ringing")
        transcription = rules.boolean(
            body.get("offline_transcription"), "offline_transcription", default=False
        )
        live = rules.optional_boolean(body.get("live"), "live")
        description = body.get("description")
        if not isinstance(description, str | None):
            raise bad_request("description must be a string")
        with self.store.transaction() as connection:
            users = self._users_of(connection, user_ids)
            unknown = [user_id for user_id in user_ids if user_id not in users]
            if unknown:
                raise not_found(f"user {unknown[0]} not found")
            inactive = [user_id for user_id in user_ids if not users[user_id]["active"]]
            if inactive:
                raise bad_request(f"user {inactive[0]} is not active")
            if not any(user["role"] == "plus" for user in users.values()):
                raise bad_request("a room needs at least one plus user")
            room_id = "room_" + secrets.token_hex(6)
            connection.execute(
                "INSERT INTO rooms (id, recording, call_type, description, duration, live, "
                "creation_date, ringing, offline_transcription) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    room_id,
                    recording,
                    call_type,
                    description,
                    duration,
                    live,
                    timestamp(),
                    ringing,
                    transcription,
                ),
            )
            for position, (user_id, is_admin, tools) in enumerate(participants):
                connection.execute(
                    "INSERT INTO participants (room_id, position, user_id, is_admin, tools, token)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        room_id,
                        position,
                        user_id,
                        is_admin,
                        json.dumps(tools),
                        secrets.token_hex(12),
                    ),
                )
            return self._room(connection, room_id)

    def get_room(self, room_id: str) -> dict[str, Any]:
        with self.store.transaction() as connection:
            return self._room(connection, room_id)

    def list_rooms(self, query: Mapping[str, str]) -> dict[str, Any]:
        offset, limit = rules.page(query)
        with self.store.transaction() as connection:
            ids = connection.execute(
                "SELECT id FROM rooms ORDER BY rowid LIMIT ? OFFSET ?", (limit + 1, offset)
            ).fetchall()
            rooms = [self._room(connection, row["id"]) for row in ids[:limit]]
        return {
            "offset": offset,
            "limit": limit,
            "has_more": len(ids) > limit,
            "count": len(rooms),
            "rooms": rooms,
        }

    def delete_room(self, room_id: str) -> threading.Thread | None:
        """Deletes the room; sends `on_room_deleted` with the links that stopped working [DOC]
        and returns its delivery thread (None without webhooks)."""
        with self.store.transaction() as connection:
            room = self._room(connection, room_id)
            connection.execute("DELETE FROM rooms WHERE id = ?", (room_id,))
            connection.execute("DELETE FROM participants WHERE room_id = ?", (room_id,))
            connection.execute("DELETE FROM joins WHERE room_id = ?", (room_id,))
        links = [{"user_id": p["user_id"], "link": p["link"]} for p in room["participants"]]
        return self.notify(ROOM_DELETED, {"room_id": room_id, "deleted_links": links})

    def _participant(self, item: Any) -> tuple[str, bool, dict[str, bool] | None]:
        item = rules.require_object(item)
        rules.known_fields(item, rules.PARTICIPANT_FIELDS, "participant")
        return (
            rules.user_id(item.get("user_id"), "user_id"),
            rules.boolean(item.get("is_admin"), "is_admin", default=False),
            rules.tools(item.get("tools")),
        )

    def _users_of(
        self, connection: sqlite3.Connection, user_ids: list[str]
    ) -> dict[str, sqlite3.Row]:
        marks = ", ".join("?" for _ in user_ids)
        rows = connection.execute(
            f"SELECT id, role, active FROM users WHERE id IN ({marks})",  # noqa: S608 - marks only
            user_ids,
        ).fetchall()
        return {row["id"]: row for row in rows}

    def _room(self, connection: sqlite3.Connection, room_id: str) -> dict[str, Any]:
        room = connection.execute("SELECT * FROM rooms WHERE id = ?", (room_id,)).fetchone()
        if room is None:
            raise not_found(f"room {room_id} not found")
        rows = connection.execute(
            "SELECT * FROM participants WHERE room_id = ? ORDER BY position", (room_id,)
        ).fetchall()
        return {
            "id": room["id"],
            "participants": [
                {
                    "user_id": row["user_id"],
                    "is_admin": bool(row["is_admin"]),
                    "tools": json.loads(row["tools"]),
                    "link": f"{self.link_base}/join/{row['token']}",
                }
                for row in rows
            ],
            # The create-room fields as given (defaults filled in) [DOC v2 room post], and
            # nothing Kaleyra does not document: no status, disabled flag or time used.
            "recording": room["recording"],
            "call_type": room["call_type"],
            "description": room["description"],
            "duration": room["duration"],
            "offline_transcription": bool(room["offline_transcription"]),
            "creation_date": room["creation_date"],
            **_given("ringing", room["ringing"]),
            **_given("live", room["live"]),
        }

    def join_target(self, token: str) -> dict[str, Any] | None:
        """Who a join link is for: room id, user id, role, admin flag and the room's recording
        mode; None when unknown."""
        with self.store.transaction() as connection:
            row = connection.execute(
                "SELECT p.room_id, p.user_id, p.is_admin, u.role, r.recording "
                "FROM participants p LEFT JOIN users u ON u.id = p.user_id "
                "LEFT JOIN rooms r ON r.id = p.room_id WHERE p.token = ?",
                (token,),
            ).fetchone()
        return None if row is None else dict(row)

    # --- SDK credentials ------------------------------------------------------------------------

    def create_credentials(self, body: Any) -> dict[str, Any]:
        body = rules.require_object(body)
        user_id = rules.user_id(body.get("user_id"), "user_id")
        expires_in = rules.expires_in(body.get("expires_in"))
        issued = datetime.now(UTC).replace(microsecond=0)
        with self.store.transaction() as connection:
            self._user(connection, user_id)
            company = connection.execute("SELECT * FROM company").fetchone()
        token = tokens.mint(
            user_id=user_id,
            company_id=company["company_id"],
            issued_at=int(issued.timestamp()),
            expires_in=expires_in,
            secret=company["token_secret"],
        )
        expires_at = timestamp(issued + timedelta(seconds=expires_in))
        return {"access_token": token, "expires_at": expires_at, "user_id": user_id}

    def token_claims(self, token: str) -> dict[str, Any]:
        with self.store.transaction() as connection:
            secret = connection.execute("SELECT token_secret FROM company").fetchone()[0]
        return tokens.decode(token, secret)
