"""The simulator over HTTP: a WSGI app answering crud-service v7's routes and status codes.

Routes (lib/httpInterface.js), for any collection name: GET / (list), GET /count, GET /:id,
POST / (200 {"_id"}), POST /bulk, PATCH /:id, PATCH /, DELETE /:id (204), DELETE /,
POST /:id/state (204); GET /-/healthz and /-/ready (lc39). Query parameters are checked as the
route's querystring schema would (lib/JSONSchemaGenerator.js): an unknown `_x` is a 400, `_l` is
1..200 and 25 by default, `_st` defaults to PUBLIC. The same app answers in-process
(crud.simulator.inprocess) and over sockets (crud.simulator.server).
"""

import json
import logging
import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from crud.simulator.engine import Engine
from crud.simulator.rules import (
    DEFAULT_STATES_FILTER,
    STATES,
    Refusal,
    acting_user,
    additional_property,
    bad_request,
    error_body,
    not_found,
)
from crud.simulator.shaping import project, sort_documents

logger = logging.getLogger("crud.simulator")

DEFAULT_LIMIT = 25
MAX_BODY_BYTES = 16 * 1024 * 1024
STATE_PATTERN = "(PUBLIC|DRAFT|TRASH|DELETED)(,(PUBLIC|DRAFT|TRASH|DELETED))*"
INTEGER = re.compile(r"^-?\d+$")
HEALTH_ROUTES = ("healthz", "ready", "check-up")

LIST_PARAMS = frozenset({"_q", "_st", "_l", "_sk", "_s", "_p", "_id"})
GET_PARAMS = frozenset({"_q", "_st", "_p"})
FILTER_PARAMS = frozenset({"_q", "_st"})
STATE_PARAMS = frozenset({"_q"})

Answer = tuple[int, Any]


class Request:
    def __init__(self, environ: dict[str, Any]):
        self.environ = environ
        self.method = environ["REQUEST_METHOD"].upper()
        self.path = environ.get("PATH_INFO") or "/"
        self.query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            raise Refusal(413, "Request body is too large")
        self.body = environ["wsgi.input"].read(length) if length else b""

    def header(self, name: str) -> str | None:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"))

    def last(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise bad_request(
                "Body is not valid JSON but content-type is set to 'application/json'"
            ) from None


def _integer(request: Request, name: str, minimum: int, maximum: int | None = None) -> int | None:
    raw = request.last(name)
    if raw is None:
        return None
    if not INTEGER.match(raw):
        raise bad_request(f"querystring/{name} must be integer")
    value = int(raw)
    if value < minimum:
        raise bad_request(f"querystring/{name} must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise bad_request(f"querystring/{name} must be <= {maximum}")
    return value


def _readings(raw: str) -> list[Any]:
    """A `?field=value` filter: crud-service coerces the text to the field's schema type; without
    a schema, the text matches itself or what it reads as (a number, a boolean)."""
    readings: list[Any] = [raw]
    if raw in ("true", "false"):
        readings.append(raw == "true")
    try:
        number = float(raw)
    except ValueError:
        return readings
    readings.append(int(number) if number.is_integer() else number)
    return readings


def _fields(request: Request, name: str) -> list[str]:
    return [item for raw in request.query.get(name, []) for item in raw.split(",") if item]


class CrudSimulatorApp:
    def __init__(self, engine: Engine, *, user_id_header: str = "userid", max_limit: int = 200):
        self.engine = engine
        self.user_id_header = user_id_header  # looked up case-insensitively, as HTTP headers are
        self.max_limit = max_limit

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        try:
            status, payload = self._route(Request(environ))
        except Refusal as refusal:
            status, payload = refusal.status, error_body(refusal.status, refusal.message)
        except Exception as exc:  # a simulator bug still answers like a failing crud-service
            logger.exception("CRUD simulator failed on %s", environ.get("PATH_INFO"))
            status, payload = 500, error_body(500, type(exc).__name__)
        if status == 204:
            start_response("204 No Content", [])
            return [b""]
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    # --- request parts -------------------------------------------------------------------------

    def _filter(self, request: Request, allowed: frozenset[str]) -> Any:
        """`_q`, `?field=value` filters and `_id`, combined with AND (resolveMongoQuery)."""
        for key in request.query:
            if key.startswith("_") and key not in allowed:
                raise additional_property("querystring", key)
        parts = []
        raw_query = request.last("_q")
        if raw_query:
            try:
                parts.append(json.loads(raw_query))
            except ValueError:
                raise bad_request("querystring/_q must be a JSON object") from None
        for key, values in request.query.items():
            if key == "_id":
                parts.append({"_id": values[-1]})
            elif not key.startswith("_"):
                parts.append({key: {"$in": _readings(values[-1])}})
        return {"$and": parts} if parts else {}

    def _states(self, request: Request) -> tuple[str, ...]:
        raw = request.last("_st")
        if raw is None:
            return DEFAULT_STATES_FILTER
        if not re.search(STATE_PATTERN, raw):
            raise bad_request(f'querystring/_st must match pattern "{STATE_PATTERN}"')
        return tuple(raw.split(","))

    def _user(self, request: Request) -> str:
        return acting_user(request.header(self.user_id_header))

    # --- routes --------------------------------------------------------------------------------

    def _route(self, request: Request) -> Answer:
        segments = request.path[1:].split("/")
        if len(segments) == 2 and segments[0] == "-" and segments[1] in HEALTH_ROUTES:
            return 200, {"status": "OK"}
        name, rest = segments[0], segments[1:]
        if not name:
            raise not_found()
        if rest in ([], [""]):
            return self._collection_route(request, name)
        if rest == ["count"] and request.method == "GET":
            return 200, len(self._find(request, name, FILTER_PARAMS))
        if rest == ["bulk"] and request.method == "POST":
            return self._create(request, name, bulk=True)
        if len(rest) == 1 and rest[0]:
            return self._document_route(request, name, rest[0])
        if len(rest) == 2 and rest[0] and rest[1] == "state" and request.method == "POST":
            return self._change_state(request, name, rest[0])
        raise not_found()

    def _collection_route(self, request: Request, name: str) -> Answer:
        if request.method == "GET":
            return 200, self._list(request, name)
        if request.method == "POST":
            return self._create(request, name, bulk=False)
        if request.method == "PATCH":
            return 200, len(self._patch(request, name, None))
        if request.method == "DELETE":
            query, states = self._filter(request, FILTER_PARAMS), self._states(request)
            return 200, self.engine.delete(name, document_id=None, query=query, states=states)
        raise not_found()

    def _document_route(self, request: Request, name: str, document_id: str) -> Answer:
        if request.method == "GET":
            query, states = self._filter(request, GET_PARAMS), self._states(request)
            document = self.engine.get(name, document_id, query=query, states=states)
            if document is None:
                raise not_found()
            fields = _fields(request, "_p")
            return 200, project(document, fields) if fields else document
        if request.method == "PATCH":
            patched = self._patch(request, name, document_id)
            if not patched:
                raise not_found()
            return 200, patched[0]
        if request.method == "DELETE":
            query, states = self._filter(request, FILTER_PARAMS), self._states(request)
            if not self.engine.delete(name, document_id=document_id, query=query, states=states):
                raise not_found()
            return 204, None
        raise not_found()

    def _find(self, request: Request, name: str, allowed: frozenset[str]) -> list[dict]:
        query, states = self._filter(request, allowed), self._states(request)
        return self.engine.find(name, query=query, states=states)

    def _list(self, request: Request, name: str) -> list[dict]:
        limit = _integer(request, "_l", 1, self.max_limit) or DEFAULT_LIMIT
        skip = _integer(request, "_sk", 0) or 0
        documents = sort_documents(self._find(request, name, LIST_PARAMS), _fields(request, "_s"))
        page = documents[skip : skip + limit]
        fields = _fields(request, "_p")
        return [project(document, fields) for document in page] if fields else page

    def _create(self, request: Request, name: str, *, bulk: bool) -> Answer:
        body = request.json()
        if bulk and not isinstance(body, list):
            raise bad_request("body must be array")
        if bulk and not body:
            raise bad_request("body must NOT have fewer than 1 items")
        bodies = body if bulk else [body]
        ids = self.engine.insert(name, bodies, user_id=self._user(request), bulk=bulk)
        answers = [{"_id": document_id} for document_id in ids]
        return 200, answers if bulk else answers[0]

    def _patch(self, request: Request, name: str, document_id: str | None) -> list[dict]:
        return self.engine.patch(
            name,
            document_id=document_id,
            query=self._filter(request, FILTER_PARAMS),
            states=self._states(request),
            commands=request.json(),
            user_id=self._user(request),
        )

    def _change_state(self, request: Request, name: str, document_id: str) -> Answer:
        query = self._filter(request, STATE_PARAMS)
        body = request.json()
        if not isinstance(body, dict):
            raise bad_request("body must be object")
        if "stateTo" not in body:
            raise bad_request("body must have required property 'stateTo'")
        if body["stateTo"] not in STATES:
            raise bad_request("body/stateTo must be equal to one of the allowed values")
        changed = self.engine.change_state(
            name,
            document_id=document_id,
            state_to=body["stateTo"],
            query=query,
            user_id=self._user(request),
        )
        if not changed:
            raise not_found()
        return 204, None
