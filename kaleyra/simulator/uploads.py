"""Simulated files shared in calls: the paginated `GET /v2/uploads` and `DELETE /v2/uploads/{key}`,
plus `add_upload` for tests (real uploads come from call clients, which the simulator has not)."""

import secrets
from collections.abc import Mapping
from typing import Any

from kaleyra.simulator import rules
from kaleyra.simulator.rules import not_found
from kaleyra.simulator.store import Store, timestamp

FILTERS = ("room_id", "user_id", "session_id", "upload_type")  # [DOC] file share


def _upload(row) -> dict[str, Any]:
    return {
        "key": row["key"],
        "user_id": row["user_id"],
        "room_id": row["room_id"],
        "session_id": row["session_id"],
        "upload_type": row["upload_type"],
        "creation_date": row["creation_date"],
    }


class UploadOperations:
    store: Store

    def list_uploads(self, query: Mapping[str, str]) -> dict[str, Any]:
        offset, limit = rules.page(query)
        used = [name for name in FILTERS if query.get(name)]
        where = " AND ".join(f"{name} = ?" for name in used) or "1 = 1"
        with self.store.transaction() as connection:
            rows = connection.execute(
                f"SELECT * FROM uploads WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",  # noqa: S608
                [query[name] for name in used] + [limit + 1, offset],
            ).fetchall()
        page = rows[:limit]
        return {
            "offset": offset,
            "limit": limit,
            "has_more": len(rows) > limit,
            "count": len(page),
            "uploads": [_upload(row) for row in page],
        }

    def delete_upload(self, key: str) -> None:
        with self.store.transaction() as connection:
            if connection.execute("DELETE FROM uploads WHERE key = ?", (key,)).rowcount == 0:
                raise not_found(f"upload {key} not found")

    def add_upload(
        self, room_id: str, *, user_id: str | None = None, upload_type: str = "file_upload"
    ) -> dict[str, Any]:
        """Records a file as if a participant had shared it in a session of `room_id`."""
        if upload_type not in ("file_upload", "snapshot"):
            raise ValueError("upload_type must be 'file_upload' or 'snapshot'")
        with self.store.transaction() as connection:
            participants = connection.execute(
                "SELECT user_id FROM participants WHERE room_id = ? ORDER BY position", (room_id,)
            ).fetchall()
            if not participants:
                raise LookupError(f"room {room_id} does not exist in the simulator")
            row = {
                "key": f"upl_{secrets.token_hex(8)}",
                "user_id": user_id or participants[0]["user_id"],
                "room_id": room_id,
                "session_id": f"session_{room_id.removeprefix('room_')}",
                "upload_type": upload_type,
                "creation_date": timestamp(),
            }
            connection.execute(
                "INSERT INTO uploads (key, user_id, room_id, session_id, upload_type, "
                "creation_date) VALUES (:key, :user_id, :room_id, :session_id, :upload_type, "
                ":creation_date)",
                row,
            )
        return row
