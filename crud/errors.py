"""The one exception tree for CRUD Service trouble, and the one function that builds it.

Response bodies are never kept: documents hold personal data, and a duplicate-key message quotes
the duplicated value. An error keeps the status, crud-service's message for a 4xx (it names fields
and operators, not values) and, for a duplicate key, the name of the unique index. The tree
stands under `common.http.errors.OutboundError`, which names each failure's outcome in the
outbound metrics.
"""

import json
import re

from common.http.errors import OutboundError

MESSAGE_LIMIT = 300
# MongoDB's text for error 11000, passed through by crud-service: "E11000 duplicate key error
# collection: db.users index: receivedUserId_1 dup key: { receivedUserId: "..." }".
DUPLICATE_KEY = re.compile(r"^E11000 duplicate key error.*? index: (\S+)", re.DOTALL)


class CrudError(OutboundError):
    """Base of every failure of a CRUD Service call."""

    def __init__(self, message: str, *, operation: str, collection: str, status: int | None = None):
        super().__init__(
            f"CRUD {operation} {collection}: {message}", operation=operation, status=status
        )
        self.collection = collection


class CrudNotFound(CrudError):
    """404 where a missing document is not an answer: the route (the collection) does not exist."""


class CrudBadRequest(CrudError):
    """400 and any other 4xx: crud-service refused what we sent; `message` is its reason."""

    def __init__(self, message: str, *, crud_message: str = "", **kwargs):
        super().__init__(message, **kwargs)
        self.message = crud_message


class CrudConflict(CrudError):
    """A unique index refused the write (409 on insert; a 500 carrying E11000 on PATCH)."""

    def __init__(self, message: str, *, index: str = "", **kwargs):
        super().__init__(message, **kwargs)
        self.index = index


class CrudUnavailable(CrudError):
    """Connection refused, reset or dropped, or a 5xx: crud-service (or MongoDB) failed."""


class CrudTimeout(CrudError):
    """No connection or no answer within the configured timeouts."""

    no_answer_outcome = "timeout"


class CrudBadResponse(CrudError):
    """An answer the contract does not allow: not JSON, or JSON of the wrong shape."""


TRANSPORT_FAILURES = {"timeout": CrudTimeout, "unavailable": CrudUnavailable}


def crud_message(body: str) -> str:
    """The `message` of a Fastify error body ({"statusCode", "error", "message"}), or ''."""
    try:
        payload = json.loads(body)
    except ValueError:
        return ""
    message = payload.get("message") if isinstance(payload, dict) else None
    return message if isinstance(message, str) else ""


def build_error(
    operation: str,
    collection: str,
    *,
    status: int | None = None,
    body: str = "",
    transport: str | None = None,
    detail: str = "",
) -> CrudError:
    """The only place a CrudError is made: from a transport failure (`transport` = "timeout" |
    "unavailable"; `detail` names the exception class, never its text, which quotes the URL and so
    the filter), or from an HTTP status and body. `detail` says what was wrong with a 2xx body."""
    where = {"operation": operation, "collection": collection}
    if transport is not None:
        failure = TRANSPORT_FAILURES[transport]
        return failure(detail or transport, operation=operation, collection=collection)
    if status is None:
        raise ValueError("build_error needs a status or a transport failure")
    message = crud_message(body)
    duplicate = DUPLICATE_KEY.match(message)
    if status == 409 or (status == 500 and duplicate):
        index = duplicate.group(1) if duplicate else ""
        text = f"HTTP {status}: duplicate key" + (f" on index {index}" if index else "")
        return CrudConflict(text, index=index, status=status, **where)
    if status == 404:
        return CrudNotFound("HTTP 404: no such route", status=status, **where)
    if 400 <= status < 500:
        short = message[:MESSAGE_LIMIT]
        return CrudBadRequest(f"HTTP {status}: {short}", crud_message=short, status=status, **where)
    if status >= 500:
        return CrudUnavailable(f"HTTP {status}", status=status, **where)
    # A 2xx with a body we cannot use, or a 1xx/3xx (redirects are not followed).
    return CrudBadResponse(
        f"HTTP {status}: {detail or 'unexpected answer'}", status=status, **where
    )
