"""The CRUD Service wire format (crud-service v7): paths, query parameters, bodies and answers.

Sources (mia-platform/crud-service): `lib/httpInterface.js` (routes and status codes),
`lib/consts.js` (parameter names), `lib/JSONSchemaGenerator.js` (their schemas). Builders refuse
what crud-service would refuse, before any call; parsers raise `WireError`, which the client turns
into CrudBadResponse.
"""

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

# A collection is addressed by its endpointBasePath; one path segment of URL-safe characters.
COLLECTION_NAME = re.compile(r"^[A-Za-z0-9._~-]+$")


class State(StrEnum):
    """`__STATE__` of a document (lib/consts.js STATES)."""

    PUBLIC = "PUBLIC"
    DRAFT = "DRAFT"
    TRASH = "TRASH"
    DELETED = "DELETED"


class WireError(ValueError):
    """A 2xx body that does not have the shape the contract says."""


def iso(moment: datetime) -> str:
    """A date as crud-service writes one (JavaScript toISOString): 2024-06-12T10:00:00.000Z."""
    if moment.tzinfo is None:
        raise ValueError("dates sent to the CRUD Service must be timezone-aware")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _encode_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, State):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be sent to the CRUD Service")


def encode_json(value: Any) -> str:
    """Compact JSON; datetimes become ISO strings, which crud-service casts for Date fields."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_encode_default)


def collection_path(name: str) -> str:
    if not COLLECTION_NAME.match(name):
        raise ValueError(f"not a CRUD collection name: {name!r}")
    return f"/{name}/"  # the documentation asks for the trailing slash on collection routes


def document_path(name: str, document_id: str) -> str:
    if not isinstance(document_id, str) or not document_id:
        raise ValueError("a document id is a non-empty string")
    return collection_path(name) + quote(document_id, safe="")


def _states(states: Iterable[str] | None) -> str | None:
    if states is None:
        return None
    values = [str(State(state)) for state in states]  # ValueError on a name crud-service refuses
    if not values:
        raise ValueError("states, when given, name at least one state")
    return ",".join(values)


def _count(value: int | None, name: str, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}")
    return value


def _fields(value: str | Sequence[str] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ",".join(value)


def filter_params(
    query: Mapping[str, Any] | None, states: Iterable[str] | None
) -> dict[str, str | int]:
    """`_q` (a MongoDB filter as JSON) and `_st` (comma-separated states; crud's default PUBLIC)."""
    params: dict[str, str | int] = {}
    if query:
        params["_q"] = encode_json(query)
    state_list = _states(states)
    if state_list is not None:
        params["_st"] = state_list
    return params


def list_params(
    query: Mapping[str, Any] | None,
    states: Iterable[str] | None,
    *,
    sort: str | Sequence[str] | None,
    limit: int | None,
    skip: int | None,
    projection: str | Sequence[str] | None,
) -> dict[str, str | int]:
    params = filter_params(query, states)
    extra = {
        "_s": _fields(sort),
        "_l": _count(limit, "limit", 1),
        "_sk": _count(skip, "skip", 0),
        "_p": _fields(projection),
    }
    params.update({key: value for key, value in extra.items() if value is not None})
    return params


def update_body(
    *,
    set: Mapping[str, Any] | None = None,  # noqa: A002 - MongoDB's own name for the command
    unset: Iterable[str] | None = None,
    inc: Mapping[str, int | float] | None = None,
    push: Mapping[str, Any] | None = None,
    pull: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """PATCH commands; `unset` is a list of fields (crud-service takes `{field: true}`)."""
    commands = {
        "$set": dict(set or {}),
        "$unset": {field: True for field in unset or ()},
        "$inc": dict(inc or {}),
        "$push": dict(push or {}),
        "$pull": dict(pull or {}),
    }
    body = {command: fields for command, fields in commands.items() if fields}
    if not body:
        raise ValueError("a PATCH needs at least one of set, unset, inc, push or pull")
    return body


def parse_id(payload: Any) -> str:
    """POST / answers {"_id": "<24 hex>"} (or a string id for string-keyed collections)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("_id"), str):
        raise WireError("expected an object with a string _id")
    if not payload["_id"]:
        raise WireError("_id is empty")
    return payload["_id"]


def parse_ids(payload: Any) -> list[str]:
    if not isinstance(payload, list):
        raise WireError("expected an array of {_id}")
    return [parse_id(item) for item in payload]


def parse_document(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict) or not isinstance(payload.get("_id"), str):
        raise WireError("expected a document with a string _id")
    return payload


def parse_documents(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, list):
        raise WireError("expected an array of documents")
    return [parse_document(item) for item in payload]


def parse_count(payload: Any) -> int:
    """GET /count, PATCH / and DELETE / answer a bare integer."""
    if isinstance(payload, bool) or not isinstance(payload, int) or payload < 0:
        raise WireError("expected a non-negative integer")
    return payload


def parse_nothing(payload: Any) -> None:
    """DELETE /:id and POST /:id/state answer 204 with no body."""
    return None
