"""crud-service's fixed rules the simulator reproduces: states and their transitions, the fields
the service owns, dates, ids, and the exact bodies of its error answers.

Sources (mia-platform/crud-service): lib/consts.js, lib/CrudService.js (ALLOWED_STATES_MAP,
STANDARD_FIELDS), lib/JSONSchemaGenerator.js (date pattern, ObjectId pattern), lib/hooks.js and
lib/httpInterface.js (user id), tests/httpInterface.utils.js (NOT_FOUND_BODY).
"""

import re
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

STATES = ("PUBLIC", "DRAFT", "TRASH", "DELETED")
DEFAULT_STATE_ON_INSERT = "DRAFT"  # a collection definition's defaultState unless configured
DEFAULT_STATES_FILTER = ("PUBLIC",)  # `_st` default on every read and write route
# POST /:id/state: from the current state (key) to any of these; no current state allows any.
ALLOWED_TRANSITIONS = {
    "PUBLIC": ("DRAFT", "PUBLIC", "TRASH"),
    "DRAFT": ("DRAFT", "PUBLIC", "TRASH"),
    "TRASH": ("DELETED", "DRAFT", "TRASH"),
    "DELETED": ("DELETED", "TRASH"),
}
STANDARD_FIELDS = ("creatorId", "createdAt", "updaterId", "updatedAt")
SERVICE_FIELDS = ("_id", "__STATE__", *STANDARD_FIELDS)  # PATCH may not touch these
DATE_FIELDS = ("createdAt", "updatedAt")
INVALID_USER_IDS = ("", "null", "undefined")  # they read as no user: "public"
PUBLIC_USER = "public"

OBJECT_ID = re.compile(r"^[a-fA-F\d]{24}$")
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2}))?$"
DATE = re.compile(DATE_PATTERN)


class Refusal(Exception):
    """An answer other than success, with crud-service's status and message."""

    def __init__(self, status: int, message: str = ""):
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message


def error_body(status: int, message: str) -> dict[str, Any]:
    """crud-service's bodies: 404s are {"error": "not found"} (index.js notFoundHandler); the
    rest are Fastify's {"statusCode", "error", "message"}."""
    if status == 404:
        return {"error": "not found"}
    return {"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}


def bad_request(message: str) -> Refusal:
    return Refusal(400, message)


def not_found() -> Refusal:
    return Refusal(404)


def additional_property(where: str, name: str) -> Refusal:
    return bad_request(
        f'{where} must NOT have additional properties. Property "{name}" is not defined in '
        "validation schema"
    )


def acting_user(header_value: str | None) -> str:
    """lib/httpInterface.js injectContextInRequest: missing or invalid ids become "public"."""
    if header_value is None or header_value in INVALID_USER_IDS:
        return PUBLIC_USER
    return header_value


def iso(moment: datetime) -> str:
    """As JavaScript's Date.toISOString(), which is how crud-service writes every date."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_date(value: Any) -> str | None:
    """A date value as crud-service stores it (lib/QueryParser.js castDate: a number is epoch
    milliseconds, a string is parsed); None when it is not a date."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return iso(datetime.fromtimestamp(value / 1000, UTC))
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def date_value(value: Any, where: str) -> str | None:
    """A date written in a body, checked against the schema's pattern and stored as crud-service
    stores dates; None stays None."""
    if value is None:
        return None
    date = parse_date(value) if isinstance(value, str) and DATE.match(value) else None
    if date is None:
        raise bad_request(f'{where} must match pattern "{DATE_PATTERN}"')
    return date
