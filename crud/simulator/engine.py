"""The CRUD Service's operations on the simulator's store, one transaction each.

What each does follows lib/CrudService.js: every read and write is restricted to the `_st`
states (PUBLIC unless asked), inserts set the standard fields from the acting user, PATCH returns
the document after the update or nothing when the filter matched nothing, the state route checks
ALLOWED_STATES_MAP, and a unique index refuses a duplicate (409 on insert, 500 on PATCH, as
lib/httpInterface.js maps MongoDB's error 11000 only on the insert routes). Collections exist as
soon as they are used; `configure` gives one what a collection definition would: its default
state on insert, its unique indexes and its date fields.
"""

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crud.simulator.ids import new_object_id
from crud.simulator.matching import matches, prepare
from crud.simulator.rules import (
    ALLOWED_TRANSITIONS,
    DATE_FIELDS,
    DEFAULT_STATE_ON_INSERT,
    OBJECT_ID,
    STANDARD_FIELDS,
    STATES,
    Refusal,
    additional_property,
    bad_request,
    date_value,
    iso,
)
from crud.simulator.store import Store, dump
from crud.simulator.updates import apply_commands, check_commands

Document = dict[str, Any]


@dataclass(frozen=True)
class Collection:
    name: str
    default_state: str = DEFAULT_STATE_ON_INSERT
    unique: tuple[tuple[str, ...], ...] = ()
    date_fields: frozenset[str] = field(default=frozenset(DATE_FIELDS))


def _path(field_path: str) -> str:
    return "$" + "".join('."' + part.replace('"', '\\"') + '"' for part in field_path.split("."))


def _value_at(document: Document, field_path: str) -> Any:
    node: Any = document
    for part in field_path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None  # a unique index sees a missing field as null, as MongoDB's does
        node = node[part]
    return node


def stored_id(document_id: str) -> str:
    """lib/pkFactories.js castCollectionId: a valid ObjectId is one (hex, lower case)."""
    return document_id.lower() if OBJECT_ID.match(document_id) else document_id


class Engine:
    def __init__(self, store: Store, *, clock: Callable[[], datetime] | None = None):
        self.store = store
        self._clock = clock or (lambda: datetime.now(UTC))

    # --- collections -------------------------------------------------------------------------

    def _collection(self, connection: sqlite3.Connection, name: str) -> Collection:
        row = connection.execute("SELECT * FROM collections WHERE name = ?", (name,)).fetchone()
        if row is None:
            return Collection(name)
        unique = tuple(tuple(index) for index in json.loads(row["unique_indexes"]))
        dates = frozenset(DATE_FIELDS) | frozenset(json.loads(row["date_fields"]))
        return Collection(name, row["default_state"], unique, dates)

    def configure(
        self,
        name: str,
        *,
        default_state: str = DEFAULT_STATE_ON_INSERT,
        unique: Iterable[Sequence[str]] = (),
        date_fields: Iterable[str] = (),
    ) -> None:
        if default_state not in STATES:
            raise ValueError(f"default_state must be one of {STATES}")
        indexes = [list(index) for index in unique]
        with self.store.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO collections VALUES (?, ?, ?, ?)",
                (name, default_state, json.dumps(indexes), json.dumps(sorted(date_fields))),
            )
            collection = self._collection(connection, name)
            for seq, document in self._rows(connection, name):
                try:
                    self._check_unique(connection, collection, document, seq, status=409)
                except Refusal as refusal:  # MongoDB refuses to build an index the data breaks
                    raise ValueError(
                        f"existing documents break a unique index: {refusal}"
                    ) from None

    # --- selection -----------------------------------------------------------------------------

    def _rows(
        self, connection: sqlite3.Connection, name: str, document_id: str | None = None
    ) -> list[tuple[int, Document]]:
        args: tuple[str, ...]
        if document_id is None:
            sql, args = "SELECT seq, body FROM documents WHERE collection = ? ORDER BY seq", (name,)
        else:
            sql = "SELECT seq, body FROM documents WHERE collection = ? AND id = ?"
            args = (name, stored_id(document_id))
        return [(row["seq"], json.loads(row["body"])) for row in connection.execute(sql, args)]

    def _select(
        self,
        connection: sqlite3.Connection,
        collection: Collection,
        query: Any,
        states: Sequence[str] | None,
        document_id: str | None = None,
    ) -> list[tuple[int, Document]]:
        """Documents in `states` (None: any state) matching `query`, in insertion order."""
        prepared = prepare(query or {}, date_fields=collection.date_fields)
        return [
            (seq, document)
            for seq, document in self._rows(connection, collection.name, document_id)
            if (states is None or document.get("__STATE__") in states)
            and matches(document, prepared)
        ]

    # --- reads -------------------------------------------------------------------------------

    def find(self, name: str, *, query: Any, states: Sequence[str]) -> list[Document]:
        with self.store.snapshot() as connection:
            collection = self._collection(connection, name)
            return [document for _, document in self._select(connection, collection, query, states)]

    def get(
        self, name: str, document_id: str, *, query: Any, states: Sequence[str]
    ) -> Document | None:
        with self.store.snapshot() as connection:
            collection = self._collection(connection, name)
            found = self._select(connection, collection, query, states, document_id)
            return found[0][1] if found else None

    def documents(self, name: str) -> list[Document]:
        """Every document of the collection, in any state, in insertion order."""
        with self.store.snapshot() as connection:
            return [document for _, document in self._rows(connection, name)]

    # --- writes ------------------------------------------------------------------------------

    def _check_unique(
        self,
        connection: sqlite3.Connection,
        collection: Collection,
        document: Document,
        seq: int | None,
        *,
        status: int,
    ) -> None:
        for fields in collection.unique:
            values = [_value_at(document, field_path) for field_path in fields]
            clauses: list[str] = []
            args: list[Any] = [collection.name]  # the query's parameters: texts and JSON scalars
            for field_path, value in zip(fields, values, strict=True):
                if value is None:
                    clauses.append("json_extract(body, ?) IS NULL")
                    args.append(_path(field_path))
                else:
                    clauses.append("json_extract(body, ?) = ?")
                    args += [
                        _path(field_path),
                        dump(value) if isinstance(value, dict | list) else value,
                    ]
            # Only fixed clause texts are joined; paths and values are bound parameters.
            where = " AND ".join(clauses)
            sql = f"SELECT 1 FROM documents WHERE collection = ? AND {where}"  # noqa: S608
            if seq is not None:
                sql, args = sql + " AND seq != ?", [*args, seq]
            if connection.execute(sql, args).fetchone():
                index = "_".join(f"{field_path}_1" for field_path in fields)
                key = ", ".join(
                    f"{f}: {json.dumps(v)}" for f, v in zip(fields, values, strict=True)
                )
                raise Refusal(
                    status,
                    f"E11000 duplicate key error collection: crud.{collection.name} index: {index} "
                    f"dup key: {{ {key} }}",
                )

    def _new_document(
        self, collection: Collection, body: Any, where: str, user_id: str, now: str
    ) -> Document:
        """lib/CrudService.js insertOne, after the body schema's checks."""
        if not isinstance(body, dict):
            raise bad_request(f"{where} must be object")
        for name in ("_id", *STANDARD_FIELDS):
            if name in body:
                raise additional_property(where, name)
        if body.get("__STATE__", DEFAULT_STATE_ON_INSERT) not in STATES:
            raise bad_request(f"{where}/__STATE__ must be equal to one of the allowed values")
        document = {"_id": new_object_id(), **body}
        for date_field in collection.date_fields & body.keys():
            document[date_field] = date_value(body[date_field], f"{where}/{date_field}")
        document.update(creatorId=user_id, updaterId=user_id, updatedAt=now, createdAt=now)
        document["__STATE__"] = body.get("__STATE__") or collection.default_state
        return document

    def insert(self, name: str, bodies: Sequence[Any], *, user_id: str, bulk: bool) -> list[str]:
        """POST / and POST /bulk. A duplicate stops a bulk where it is (MongoDB's ordered
        insertMany): the documents before it stay written, and the answer is the 409."""
        now, duplicate, ids = iso(self._clock()), None, []
        with self.store.transaction() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO collections VALUES (?, ?, '[]', '[]')",
                (name, DEFAULT_STATE_ON_INSERT),
            )
            collection = self._collection(connection, name)
            documents = [
                self._new_document(collection, body, f"body/{i}" if bulk else "body", user_id, now)
                for i, body in enumerate(bodies)
            ]
            for document in documents:
                try:
                    self._check_unique(connection, collection, document, None, status=409)
                except Refusal as refusal:
                    duplicate = refusal
                    break
                connection.execute(
                    "INSERT INTO documents (collection, id, body) VALUES (?, ?, ?)",
                    (name, document["_id"], dump(document)),
                )
                ids.append(document["_id"])
        if duplicate is not None:
            raise duplicate
        return ids

    def patch(
        self,
        name: str,
        *,
        document_id: str | None,
        query: Any,
        states: Sequence[str],
        commands: Any,
        user_id: str,
    ) -> list[Document]:
        """PATCH /:id (`document_id`, at most one) and PATCH / (every match): the documents as
        they are after the update."""
        now = self._clock()
        with self.store.transaction() as connection:
            collection = self._collection(connection, name)
            checked = check_commands(commands, date_fields=collection.date_fields)
            prepared = prepare(query or {}, date_fields=collection.date_fields)
            selected = self._select(connection, collection, query, states, document_id)
            for seq, document in selected:
                apply_commands(document, checked, query=prepared, now=now)
                document.update(updaterId=user_id, updatedAt=iso(now))
                self._check_unique(connection, collection, document, seq, status=500)
                connection.execute(
                    "UPDATE documents SET body = ? WHERE seq = ?", (dump(document), seq)
                )
            return [document for _, document in selected]

    def delete(
        self, name: str, *, document_id: str | None, query: Any, states: Sequence[str]
    ) -> int:
        """DELETE /:id and DELETE /: hard deletes; how many."""
        with self.store.transaction() as connection:
            collection = self._collection(connection, name)
            selected = self._select(connection, collection, query, states, document_id)
            for seq, _ in selected:
                connection.execute("DELETE FROM documents WHERE seq = ?", (seq,))
            return len(selected)

    def change_state(
        self, name: str, *, document_id: str, state_to: str, query: Any, user_id: str
    ) -> bool:
        """POST /:id/state: any current state; False when no document matches."""
        with self.store.transaction() as connection:
            collection = self._collection(connection, name)
            selected = self._select(connection, collection, query, None, document_id)
            if not selected:
                return False
            seq, document = selected[0]
            current = document.get("__STATE__")
            if current and state_to not in ALLOWED_TRANSITIONS[current]:
                raise bad_request(f"transition from {current} to {state_to} not allowed.")
            document.update(__STATE__=state_to, updaterId=user_id, updatedAt=iso(self._clock()))
            connection.execute("UPDATE documents SET body = ? WHERE seq = ?", (dump(document), seq))
            return True

    def put(self, name: str, document: Document) -> None:
        """Stores `document` exactly as given (it must have an `_id`): data written by someone
        else, for tests that start from an existing collection."""
        with self.store.transaction() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO collections VALUES (?, ?, '[]', '[]')",
                (name, DEFAULT_STATE_ON_INSERT),
            )
            connection.execute(
                "INSERT OR REPLACE INTO documents (collection, id, body) VALUES (?, ?, ?)",
                (name, stored_id(document["_id"]), dump(document)),
            )
