"""HTTP client for Mia-Platform's CRUD Service (crud-service v7): the only code that calls it.

`CrudClient._request` is the one place that touches the network: it sets the (connect, read)
timeouts, the acting-user and request-id headers, maps failures to the CrudError tree, parses the
answer with a `crud.wire` parser and logs one line per attempt (status and duration, never a body
or a filter: both can hold personal data). Only GETs are repeated after a transient failure.

A 404 on a route addressing one document (`get`, `patch`, `delete`, `change_state`) means "no
document with that id, in those states, matching that filter" and is an answer (None / False),
not an error: it is how a compare-and-set PATCH reports that it lost.
"""

from __future__ import annotations  # the method named `list` shadows the builtin in this class

import copy
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import requests

from common.request_ids import request_id_var
from crud import wire
from crud.errors import CrudTimeout, CrudUnavailable, build_error

logger = logging.getLogger("crud")

T = TypeVar("T")
Document = dict[str, Any]

RETRIED_STATUSES = (502, 503, 504)  # gateway trouble; a 500 is crud-service failing on this call
BACKOFF_SECONDS = 0.1
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_RAISE = object()


def _check_user_id(user_id: str | None) -> None:
    if user_id is not None and (not user_id or any(ord(c) < 32 or ord(c) == 127 for c in user_id)):
        raise ValueError("a user id sent to the CRUD Service must be non-empty printable text")


class CrudClient:
    """Calls one CRUD Service. Methods take the collection `name` (its endpointBasePath without
    slashes), `query` a MongoDB filter (crud's `_q`; operators $eq $ne $gt $gte $lt $lte $in $nin
    $all $exists $regex $elemMatch, combined with $and/$or), `states` the `__STATE__` values to
    match (crud's `_st`; crud-service's default is PUBLIC only). Datetimes in queries and documents
    are sent as ISO strings. Every method raises CrudError subclasses (crud.errors) on failure.
    """

    def __init__(
        self,
        *,
        base_url: str,
        connect_timeout: float,
        read_timeout: float,
        user_id_header: str = "userid",
        user_id: str | None = None,
        get_retries: int = 2,
        proxy_url: str = "",
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[float, float], float] = random.uniform,
    ):
        if not HEADER_NAME.match(user_id_header):
            raise ValueError(f"not an HTTP header name: {user_id_header!r}")
        _check_user_id(user_id)
        self._base_url = base_url.rstrip("/")
        self._timeout = (connect_timeout, read_timeout)
        self._user_id_header = user_id_header
        self._user_id = user_id
        self._get_retries = get_retries
        self._sleep = sleep
        self._rand = rand
        self._session = session or requests.Session()  # one session: keep-alive across calls
        # In-cluster service: no proxy or .netrc from the environment unless one is configured.
        self._session.trust_env = False
        if proxy_url:
            self._session.proxies = {"http": proxy_url, "https": proxy_url}

    @classmethod
    def from_settings(cls) -> CrudClient:
        """The configured client; with CRUD_SIMULATOR_DB set, the in-process simulator answers."""
        from django.conf import settings

        session = None
        if settings.CRUD_SIMULATOR_DB:
            from crud.simulator.inprocess import simulator_session

            session = simulator_session(
                settings.CRUD_SIMULATOR_DB,
                base_url=settings.CRUD_SERVICE_URL,
                user_id_header=settings.CRUD_USER_ID_HEADER,
            )
        return cls(
            base_url=settings.CRUD_SERVICE_URL,
            connect_timeout=settings.CRUD_SERVICE_CONNECT_TIMEOUT_SECONDS,
            read_timeout=settings.CRUD_SERVICE_TIMEOUT_SECONDS,
            user_id_header=settings.CRUD_USER_ID_HEADER,
            get_retries=settings.CRUD_SERVICE_GET_RETRIES,
            proxy_url=settings.CRUD_SERVICE_PROXY_URL,
            session=session,
        )

    def as_user(self, user_id: str | None) -> CrudClient:
        """The same client (same session) acting for `user_id`, which crud-service stores as
        creatorId / updaterId; None sends no header, and crud-service then writes "public"."""
        _check_user_id(user_id)
        acting = copy.copy(self)
        acting._user_id = user_id
        return acting

    # --- the choke point ----------------------------------------------------------------------

    def _headers(self, has_body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if has_body:
            headers["Content-Type"] = "application/json"
        if self._user_id is not None:
            headers[self._user_id_header] = self._user_id
        request_id = request_id_var.get()
        if request_id:
            headers["X-Request-Id"] = request_id
        return headers

    def _request(
        self,
        operation: str,
        method: str,
        collection: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        missing: Any = _RAISE,
    ) -> T:
        url = self._base_url + path
        data = wire.encode_json(body).encode("utf-8") if body is not None else None
        headers = self._headers(data is not None)

        def attempt() -> T:
            started = time.perf_counter()
            status: int | str = "error"
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=self._timeout,
                    allow_redirects=False,
                )
                status = response.status_code
            except requests.Timeout as exc:
                status = "timeout"
                raise build_error(
                    operation, collection, transport="timeout", detail=type(exc).__name__
                ) from None
            except requests.RequestException as exc:
                raise build_error(
                    operation, collection, transport="unavailable", detail=type(exc).__name__
                ) from None
            finally:
                duration_ms = round((time.perf_counter() - started) * 1000, 1)
                logger.debug(
                    "CRUD %s %s: %s in %.1f ms",
                    operation,
                    collection,
                    status,
                    duration_ms,
                    extra={"operation": operation, "status": status, "duration_ms": duration_ms},
                )
            if response.status_code == 404 and missing is not _RAISE:
                return missing
            if not 200 <= response.status_code < 300:
                raise build_error(
                    operation, collection, status=response.status_code, body=response.text
                )
            try:
                text = response.text
                return parse(json.loads(text) if text.strip() else None)
            except ValueError as exc:  # not JSON, or a wire.WireError from the parser
                raise build_error(
                    operation, collection, status=response.status_code, detail=str(exc)
                ) from None

        return self._call(attempt, operation=operation, repeatable=method == "GET")

    def _call(self, attempt: Callable[[], T], *, operation: str, repeatable: bool) -> T:
        retries = 0
        while True:
            try:
                return attempt()
            except (CrudUnavailable, CrudTimeout) as error:
                transient = error.status is None or error.status in RETRIED_STATUSES
                if not (repeatable and transient and retries < self._get_retries):
                    raise
                delay = self._rand(0.0, BACKOFF_SECONDS * 2**retries)
                retries += 1
                logger.warning(
                    "CRUD %s failed (%s), retry %d/%d in %.3fs",
                    operation,
                    type(error).__name__,
                    retries,
                    self._get_retries,
                    delay,
                    extra={"operation": operation, "status": error.status},
                )
                self._sleep(delay)

    # --- reads (repeated on transient failures) -------------------------------------------------

    def list(
        self,
        name: str,
        *,
        query: Mapping[str, Any] | None = None,
        states: Iterable[str] | None = None,
        sort: str | Sequence[str] | None = None,
        limit: int | None = None,
        skip: int | None = None,
        projection: str | Sequence[str] | None = None,
    ) -> list[Document]:
        """GET /<name>/: one page. `sort` is "field" or "-field" (or several); `limit` is crud's
        `_l` (crud-service: default 25, at most CRUD_MAX_LIMIT, 200 by default); `skip` is `_sk`;
        `projection` the fields to return (`_id` always comes)."""
        params = wire.list_params(
            query, states, sort=sort, limit=limit, skip=skip, projection=projection
        )
        path = wire.collection_path(name)
        return self._request("list", "GET", name, path, wire.parse_documents, params=params)

    def count(
        self,
        name: str,
        *,
        query: Mapping[str, Any] | None = None,
        states: Iterable[str] | None = None,
    ) -> int:
        """GET /<name>/count: how many documents match."""
        path = wire.collection_path(name) + "count"
        params = wire.filter_params(query, states)
        return self._request("count", "GET", name, path, wire.parse_count, params=params)

    def get(
        self,
        name: str,
        document_id: str,
        *,
        query: Mapping[str, Any] | None = None,
        states: Iterable[str] | None = None,
    ) -> Document | None:
        """GET /<name>/<id>: the document, or None when none has that id in those states and
        matching `query`."""
        path = wire.document_path(name, document_id)
        params = wire.filter_params(query, states)
        return self._request(
            "get", "GET", name, path, wire.parse_document, params=params, missing=None
        )

    # --- writes (never repeated: a lost answer plus a repeat could write twice) ----------------

    def create(self, name: str, document: Mapping[str, Any]) -> str:
        """POST /<name>/: the new document's `_id`. crud-service sets creatorId, updaterId (the
        acting user), createdAt, updatedAt and, unless the document has one, `__STATE__` to the
        collection's default state (DRAFT unless configured). CrudConflict on a unique index."""
        path = wire.collection_path(name)
        return self._request("create", "POST", name, path, wire.parse_id, body=dict(document))

    def bulk_create(self, name: str, documents: Sequence[Mapping[str, Any]]) -> list[str]:
        """POST /<name>/bulk: the new `_id`s, in order. On a duplicate key crud-service stops at
        that document (MongoDB's ordered insertMany): the ones before it are written."""
        if not documents:
            return []
        path = wire.collection_path(name) + "bulk"
        body = [dict(document) for document in documents]
        return self._request("bulk_create", "POST", name, path, wire.parse_ids, body=body)

    def patch(
        self,
        name: str,
        document_id: str,
        *,
        query: Mapping[str, Any] | None = None,
        states: Iterable[str] | None = None,
        set: Mapping[str, Any] | None = None,  # noqa: A002 - MongoDB's own name for the command
        unset: Iterable[str] | None = None,
        inc: Mapping[str, int | float] | None = None,
        push: Mapping[str, Any] | None = None,
        pull: Mapping[str, Any] | None = None,
    ) -> Document | None:
        """PATCH /<name>/<id>: applies the commands atomically and returns the document after
        them, or None when no document has that id in those states and matching `query`.
        Compare-and-set: `query={"version": 3}, set=..., inc={"version": 1}`; None means another
        writer got there first. Dotted paths work (`participants.0.fullName`,
        `participants.$.fullName` with a `query` selecting the element)."""
        path = wire.document_path(name, document_id)
        params = wire.filter_params(query, states)
        body = wire.update_body(set=set, unset=unset, inc=inc, push=push, pull=pull)
        return self._request(
            "patch",
            "PATCH",
            name,
            path,
            wire.parse_document,
            params=params,
            body=body,
            missing=None,
        )

    def patch_many(
        self,
        name: str,
        *,
        query: Mapping[str, Any],
        states: Iterable[str] | None = None,
        set: Mapping[str, Any] | None = None,  # noqa: A002 - MongoDB's own name for the command
        unset: Iterable[str] | None = None,
        inc: Mapping[str, int | float] | None = None,
        push: Mapping[str, Any] | None = None,
        pull: Mapping[str, Any] | None = None,
    ) -> int:
        """PATCH /<name>/: applies the commands to every match; how many were modified."""
        path = wire.collection_path(name)
        params = wire.filter_params(query, states)
        body = wire.update_body(set=set, unset=unset, inc=inc, push=push, pull=pull)
        return self._request(
            "patch_many", "PATCH", name, path, wire.parse_count, params=params, body=body
        )

    def delete(
        self,
        name: str,
        document_id: str,
        *,
        query: Mapping[str, Any] | None = None,
        states: Iterable[str] | None = None,
    ) -> bool:
        """DELETE /<name>/<id>: a hard delete; False when nothing matched. (A soft delete is
        `change_state(name, id, State.TRASH)`.)"""
        path = wire.document_path(name, document_id)
        params = wire.filter_params(query, states)
        deleted = self._request(
            "delete", "DELETE", name, path, wire.parse_nothing, params=params, missing=False
        )
        return deleted is not False

    def delete_many(
        self,
        name: str,
        *,
        query: Mapping[str, Any],
        states: Iterable[str] | None = None,
    ) -> int:
        """DELETE /<name>/: hard-deletes every match; how many. An empty `query` is refused here:
        it would empty the collection (in `states`)."""
        if not query:
            raise ValueError("delete_many needs a non-empty query")
        path = wire.collection_path(name)
        params = wire.filter_params(query, states)
        return self._request("delete_many", "DELETE", name, path, wire.parse_count, params=params)

    def change_state(
        self,
        name: str,
        document_id: str,
        state: str,
        *,
        query: Mapping[str, Any] | None = None,
    ) -> bool:
        """POST /<name>/<id>/state {"stateTo": state}, whatever the current state; False when no
        document has that id (and matches `query`). crud-service allows PUBLIC/DRAFT -> PUBLIC,
        DRAFT, TRASH; TRASH -> DRAFT, TRASH, DELETED; DELETED -> TRASH, DELETED; any other move
        is a CrudBadRequest ("transition from X to Y not allowed.")."""
        path = wire.document_path(name, document_id) + "/state"
        body = {"stateTo": str(wire.State(state))}
        params = wire.filter_params(query, None)
        changed = self._request(
            "change_state",
            "POST",
            name,
            path,
            wire.parse_nothing,
            params=params,
            body=body,
            missing=False,
        )
        return changed is not False
