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
# [DOC] v2 room post shows the default `audio_video` only; the other two are the SDKs' call
# types (audio only, audio upgradable): UNCLEAR upstream.
CALL_TYPES = ("audio_video", "audio_upgradable", "audio_only")
# The create-room body fields of the v2 room page [DOC] (the ringing boolean's name is not shown:
# `ringing` is the simulator's guess), plus `live`, which Kaleyra does not document but the 3P
# config and Mia's LIVE_TELECONSULTATION use, and which this service still sends.
ROOM_FIELDS = (
    "participants",
    "recording",
    "duration",
    "call_type",
    "ringing",
    "description",
    "offline_transcription",
    "live",
)
PARTICIPANT_FIELDS = ("user_id", "is_admin", "tools")  # [DOC] v2 add participant
USER_UPDATE_FIELDS = ("role", "active")  # `active` [DOC] user management; `role` 3P
RECORDING_LINK_EXPIRES_IN = (30, 3600)  # [DOC] recording page, seconds
EXPIRES_IN = (360, 86400)  # [DOC] sdk credentials
DEFAULT_EXPIRES_IN = 3600  # UNCLEAR upstream; the simulator's choice when omitted
JPEG_MAGIC = b"\xff\xd8\xff"
MIN_BACKGROUND_SIDE = 1280  # [DOC] upload company background: at least 1280x1280
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


def known_fields(body: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise bad_request(f"unknown {what} field {unknown[0]!r}; known: {', '.join(allowed)}")


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


def call_type(value: Any) -> str:
    if value is None:
        return CALL_TYPES[0]
    if value not in CALL_TYPES:
        raise bad_request(f"call_type must be one of {', '.join(CALL_TYPES)}")
    return value


def optional_boolean(value: Any, field: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise bad_request(f"{field} must be a boolean")
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


def recording_link_expires_in(value: str | None) -> int:
    low, high = RECORDING_LINK_EXPIRES_IN
    if value is None:
        return high
    try:
        seconds = int(value)
    except ValueError:
        seconds = -1
    if not low <= seconds <= high:
        raise bad_request(f"expires_in must be an integer from {low} to {high}")
    return seconds


def background(content: bytes, content_type: str, existing: int) -> None:
    if content_type.split(";")[0].strip().lower() not in JPEG_TYPES:
        raise bad_request("the background must be image/jpeg")
    if len(content) > MAX_BACKGROUND_BYTES:
        raise bad_request("the background is larger than 16 MB")
    size = jpeg_size(content)
    if size is None:
        raise bad_request("the background is not a JPEG image")
    width, height = size
    if width < MIN_BACKGROUND_SIDE or height < MIN_BACKGROUND_SIDE:
        raise bad_request(
            f"the background is {width}x{height}; it must be at least "
            f"{MIN_BACKGROUND_SIDE}x{MIN_BACKGROUND_SIDE}"
        )
    if existing >= MAX_BACKGROUNDS:
        raise bad_request(f"a company can have at most {MAX_BACKGROUNDS} backgrounds")


# Start-of-frame markers, which carry the image size: SOF0..SOF15 but DHT, JPG and DAC.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE_MARKERS = frozenset(range(0xD0, 0xD8)) | {0x01}  # RSTn and TEM carry no length


def jpeg_size(content: bytes) -> tuple[int, int] | None:
    """(width, height) from the JPEG's start-of-frame segment; None when it is not a JPEG or
    has no frame header before the image data."""
    if not content.startswith(JPEG_MAGIC):
        return None
    position = 2
    while position + 4 <= len(content):
        if content[position] != 0xFF:
            return None
        marker = content[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE_MARKERS:
            position += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or the scan data: no frame header came
            return None
        length = int.from_bytes(content[position + 2 : position + 4], "big")
        if marker in _SOF_MARKERS:
            frame = content[position + 5 : position + 9]  # after length and sample precision
            if len(frame) < 4:
                return None
            height, width = int.from_bytes(frame[:2], "big"), int.from_bytes(frame[2:], "big")
            return width, height
        if length < 2:
            return None
        position += 2 + length
    return None
