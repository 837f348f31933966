"""Kaleyra's documented limits, as the simulator enforces them; each refusal is a `Refusal`."""

import json
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

USER_ID = re.compile(r"[a-zA-Z0-9._-]{1,128}")  # [DOC] user create
ROLES = ("basic", "plus")
PARTICIPANTS = (2, 25)  # [DOC] room concepts
MIN_DURATION = 60  # [DOC] v2 room post, seconds
RECORDINGS = ("none", "manual", "automatic")  # [DOC] recording page
EXPIRES_IN = (360, 86400)  # [DOC] sdk credentials
DEFAULT_EXPIRES_IN = 3600  # UNCLEAR upstream; the simulator's choice when omitted
JPEG_MAGIC = b"\xff\xd8\xff"
JPEG_TYPES = ("image/jpeg", "image/jpg")  # [DOC] upload company background
MAX_BACKGROUND_BYTES = 16 * 1024 * 1024
MAX_BACKGROUNDS = 10
DEFAULT_PAGE_LIMIT = 20  # [DOC] uploads example
MAX_PAGE_LIMIT = 100  # UNCLEAR upstream; what first-party clients ask for


class Refusal(Exception):
    """An answer other than success: the HTTP status and a message for the error body."""

    def __init__(self, status: int, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def error_body(status: int, message: str) -> str:
    """The simulator's error body. UNCLEAR upstream (no Kaleyra Video error sample was found)."""
    return json.dumps({"error": HTTPStatus(status).phrase, "message": message})


def bad_request(message: str) -> Refusal:
    return Refusal(400, message)


def not_found(message: str) -> Refusal:
    return Refusal(404, message)


def require_object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise bad_request("the body must be a JSON object")
    return body


def user_id(value: Any, field: str = "id") -> str:
    if not isinstance(value, str) or not USER_ID.fullmatch(value):
        raise bad_request(f"{field} must be 1 to 128 characters from [a-zA-Z0-9._-]")
    return value


def role(value: Any) -> str:
    if value not in ROLES:
        raise bad_request("role must be 'basic' or 'plus'")
    return value


def boolean(value: Any, field: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"{field} must be a boolean")
    return value


def integer(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{field} must be an integer")
    return value


def duration(value: Any) -> int | None:
    if value is None:
        return None
    if integer(value, "duration") < MIN_DURATION:
        raise bad_request(f"duration must be at least {MIN_DURATION} seconds")
    return value


def recording(value: Any) -> str:
    if value is None:
        return "none"
    if value not in RECORDINGS:
        raise bad_request(f"recording must be one of {', '.join(RECORDINGS)}")
    return value


def tools(value: Any) -> dict[str, bool] | None:
    if value is None:
        return None  # absent means every tool on [DOC v1 create room]
    if not isinstance(value, Mapping) or not all(isinstance(v, bool) for v in value.values()):
        raise bad_request("tools must be an object of booleans")
    return dict(value)


def participant_count(participants: Any) -> list[Any]:
    low, high = PARTICIPANTS
    if not isinstance(participants, list) or not low <= len(participants) <= high:
        raise bad_request(f"a room needs {low} to {high} participants")
    return participants


def expires_in(value: Any) -> int:
    if value is None:
        return DEFAULT_EXPIRES_IN
    low, high = EXPIRES_IN
    if not low <= integer(value, "expires_in") <= high:
        raise bad_request(f"expires_in must be between {low} and {high}")
    return value


def page(query: Mapping[str, str]) -> tuple[int, int]:
    try:
        offset = int(query.get("offset", 0))
        limit = int(query.get("limit", DEFAULT_PAGE_LIMIT))
    except ValueError as exc:
        raise bad_request("offset and limit must be integers") from exc
    if offset < 0 or not 1 <= limit <= MAX_PAGE_LIMIT:
        raise bad_request(f"offset must be >= 0 and limit between 1 and {MAX_PAGE_LIMIT}")
    return offset, limit


def background(content: bytes, content_type: str, existing: int) -> None:
    if content_type.split(";")[0].strip().lower() not in JPEG_TYPES:
        raise bad_request("the background must be image/jpeg")
    if not content.startswith(JPEG_MAGIC):
        raise bad_request("the background is not a JPEG image")
    if len(content) > MAX_BACKGROUND_BYTES:
        raise Refusal(413, "the background is larger than 16 MB")
    if existing >= MAX_BACKGROUNDS:
        raise bad_request(f"a company can have at most {MAX_BACKGROUNDS} backgrounds")
