"""`CrudSimulator`: the handle tests use to arrange and inspect the simulated CRUD Service."""

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from crud.client import CrudClient
from crud.simulator.engine import Engine
from crud.simulator.inprocess import simulator_session
from crud.simulator.rules import DEFAULT_STATE_ON_INSERT
from crud.simulator.store import Store


class CrudSimulator:
    """Opens (or creates) the state file at `db_path`; any number of handles, servers and
    in-process sessions may share it. `base_url` is where clients reach it: the configured
    CRUD_SERVICE_URL for the in-process simulator (`in_process=True`), a server's URL otherwise."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        base_url: str,
        user_id_header: str = "userid",
        in_process: bool = True,
    ):
        self.db_path = Path(db_path)
        self.base_url = base_url
        self.user_id_header = user_id_header
        self.in_process = in_process
        self.engine = Engine(Store(db_path))

    def client(self, *, user_id: str | None = None, **options: Any) -> CrudClient:
        """A CrudClient talking to this simulator, acting as `user_id`."""
        session = None
        if self.in_process:
            session = simulator_session(
                self.db_path, base_url=self.base_url, user_id_header=self.user_id_header
            )
        arguments = {"connect_timeout": 1.0, "read_timeout": 5.0, "get_retries": 0}
        return CrudClient(
            base_url=self.base_url,
            user_id_header=self.user_id_header,
            user_id=user_id,
            session=session,
            **{**arguments, **options},
        )

    def configure(
        self,
        name: str,
        *,
        default_state: str = DEFAULT_STATE_ON_INSERT,
        unique: Iterable[Sequence[str]] = (),
        date_fields: Iterable[str] = (),
    ) -> None:
        """What the collection definition would say: the `__STATE__` of inserted documents that
        name none, the unique indexes (each a tuple of fields) and the fields of type Date."""
        self.engine.configure(
            name, default_state=default_state, unique=unique, date_fields=date_fields
        )

    def documents(self, name: str) -> list[dict[str, Any]]:
        """Every stored document of `name`, in any state, in insertion order."""
        return self.engine.documents(name)

    def document(self, name: str, document_id: str) -> dict[str, Any] | None:
        return next((d for d in self.documents(name) if d["_id"] == document_id), None)

    def put(self, name: str, document: dict[str, Any]) -> None:
        """Stores `document` as given, `_id` and standard fields included (data someone else
        wrote); it replaces a stored document with the same `_id`."""
        self.engine.put(name, document)

    def wipe(self) -> None:
        self.engine.store.wipe()
