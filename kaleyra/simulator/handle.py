"""`Simulator`: the handle tests use to arrange and inspect the simulated Kaleyra company."""

from pathlib import Path
from typing import Any

from kaleyra import wire
from kaleyra.simulator import faults
from kaleyra.simulator.engine import Engine
from kaleyra.types import Role, Upload

DEFAULT_LINK_BASE = "http://127.0.0.1:8000/kaleyra-simulator"


class Simulator:
    """Opens (or creates) the state file at `db_path`; any number of handles may share it."""

    def __init__(self, db_path: str | Path, *, link_base: str = DEFAULT_LINK_BASE):
        self.db_path = Path(db_path)
        self.engine = Engine(db_path, link_base=link_base)

    def fail_next(
        self,
        operation: str,
        *,
        mode: str,
        times: int = 1,
        retry_after: float = faults.DEFAULT_RETRY_AFTER,
        delay: float | None = None,
    ) -> None:
        """Makes the next `times` calls of `operation` fail: mode "500", "429" (with
        Retry-After: `retry_after`), "timeout" or "drop". Operations are provider method names."""
        with self.engine.store.transaction() as connection:
            faults.queue_fault(
                connection, operation, mode=mode, times=times, retry_after=retry_after, delay=delay
            )

    def add_upload(
        self, room_id: str, *, user_id: str | None = None, upload_type: str = "file_upload"
    ) -> Upload:
        return wire.parse_upload(
            self.engine.add_upload(room_id, user_id=user_id, upload_type=upload_type)
        )

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
