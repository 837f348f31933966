"""HTTP client for Mia-Platform's CRUD Service (crud-service v7): the only code that calls it.

`CrudClient` is an outbound client (`common.http.client.OutboundClient`: session, (connect, read)
timeouts, X-Request-Id, metrics, one DEBUG line per attempt with status and duration, never a
body or a filter: both can hold personal data). Its `_request` adds the acting-user header, maps
failures to the CrudError tree and parses the answer with a `crud.wire` parser. Only GETs are
repeated after a transient failure.

A 404 on a route addressing one document (`get`, `patch`, `delete`, `change_state`) means "no
document with that id, in those states, matching that filter" and is an answer (None / False),
not an error: it is how a compare-and-set PATCH reports that it lost.
"""

from __future__ import annotations  # the method named `list` shadows the builtin in this class

import builtins
import copy
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from common.http.client import Answer, OutboundClient
from common.http.errors import OutboundError
from common.http.retry import call_repeating
from common.http.session import DEFAULT_POOL_SIZE, Session, build_session
from crud import wire
from crud.errors import CrudError, CrudTimeout, CrudUnavailable, build_error

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


class CrudClient(OutboundClient):
    """Calls one CRUD Service. Methods take the collection `name` (its endpointBasePath without
    slashes), `query` a MongoDB filter (crud's `_q`; operators $eq $ne $gt $gte $lt $lte $in $nin
    $all $exists $regex $elemMatch, combined with $and/$or), `states` the `__STATE__` values to
    match (crud's `_st`; crud-service's default is PUBLIC only). Datetimes in queries and documents
    are sent as ISO strings. Every method raises CrudError subclasses (crud.errors) on failure.
    """

    service = "crud"
    logger = logger

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
        session: Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[float, float], float] = random.uniform,
    ):
        if not HEADER_NAME.match(user_id_header):
            raise ValueError(f"not an HTTP header name: {user_id_header!r}")
        _check_user_id(user_id)
        # In-cluster service: no proxy or CA bundle from the environment unless one is configured.
        session = build_session(
            headers={"Accept": "application/json"},
            pool_size=DEFAULT_POOL_SIZE,
            proxy_url=proxy_url,
            environment="never",
            session=session,
        )
        super().__init__(
            session=session, connect_timeout=connect_timeout, read_timeout=read_timeout
        )
        self._base_url = base_url.rstrip("/")
        self._user_id_header = user_id_header
        self._user_id = user_id
        self._get_retries = get_retries
        self._sleep = sleep
        self._rand = rand

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
        headers = {}
        if has_body:
            headers["Content-Type"] = "application/json"
        if self._user_id is not None:
            headers[self._user_id_header] = self._user_id
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

        def read(answer: Answer) -> T:
            if answer.status == 404 and missing is not _RAISE:
                return missing
            if not 200 <= answer.status < 300:
                raise build_error(operation, collection, status=answer.status, body=answer.text)
            try:
                text = answer.text
                return parse(json.loads(text) if text.strip() else None)
            except ValueError as exc:  # not JSON, or a wire.WireError from the parser
                raise build_error(
                    operation, collection, status=answer.status, detail=str(exc)
                ) from None

        def attempt() -> T:
            return self._attempt(
                operation,
                method,
                url,
                read,
                headers=headers,
                params=params,
                data=data,
                resource=collection,
            )

        if method != "GET":
            return attempt()
        return call_repeating(
            attempt,
            delay_before_retry=self._delay_before_retry,
            sleep=self._sleep,
            logger=logger,
            label="CRUD",
            operation=operation,
            max_retries=self._get_retries,
        )

    def _delay_before_retry(self, error: OutboundError, retries: int) -> float | None:
        """A read is repeated after a failure with no answer or a gateway's 502/503/504."""
        if not isinstance(error, CrudUnavailable | CrudTimeout) or retries >= self._get_retries:
            return None
        if error.status is not None and error.status not in RETRIED_STATUSES:
            return None
        return self._rand(0.0, BACKOFF_SECONDS * 2**retries)

    def _transport_error(
        self, operation: str, kind: str, exc: Exception | None, resource: str
    ) -> CrudError:
        # The exception's class, never its text: it quotes the URL and so the filter.
        return build_error(operation, resource, transport=kind, detail=type(exc).__name__)

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

    def bulk_create(
        self, name: str, documents: Sequence[Mapping[str, Any]]
    ) -> builtins.list[str]:  # `list` here is the method below
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
