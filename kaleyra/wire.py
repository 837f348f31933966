"""The Kaleyra v2 wire format: request paths and bodies, and response parsing.

EVERY GUESS ABOUT THE WIRE FORMAT LIVES HERE. Where the public sources disagree or are silent
(see docs/kaleyra.md and the research notes), the choice is marked `UNCLEAR:` with its source, and
the parser accepts each plausible variant, so confirming the real shape is one edit in this file.
Parsers raise `WireError`; the client turns it into KaleyraBadResponse with the status and body.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from kaleyra.types import (
    Company,
    KaleyraUser,
    ParticipantSpec,
    RecordingLink,
    Role,
    Room,
    RoomParticipant,
    RoomSession,
    SdkCredentials,
    SessionParticipant,
    Upload,
    VirtualBackground,
    Webhook,
)

UPLOADS_PAGE_LIMIT = 100  # what both first-party clients use [FP-CODE]
ROOMS_PAGE_LIMIT = 100
# Every paginated walk stops after this many pages (100,000 items at 100 a page), so a server
# that never says "no more" cannot keep a worker busy for ever.
MAX_PAGES = 1000
MAX_KEYS_NAMED = 20  # of a page without its items, in the error (bounded for the log line)
# UNCLEAR: listing rooms is `GET rooms` in 3P kaleyra-laravel only; `offset`/`limit` and
# `has_more` as for every v2 list [DOC migration guide]; the items key `rooms` by analogy with
# `users` [FP-CODE] and `uploads` [DOC file-share].
ROOMS_PATH = "/v2/rooms"
# UNCLEAR: webhooks are resources with ids in v2 [DOC migration guide]; `POST webhooks` in 3P
# kaleyra-laravel; its body is shown nowhere. We send the v1 names (`webhook_filters` [DOC v1
# configure webhook]; `post_event_webhook_url`, `webhook_method` [3P v1 usage]) plus a payload
# version, "1" being the version of the only signed sample we have (`event_version` "1.0" [DOC]).
# `webhook_filters` is typed "array of objects" on the configure page [DOC] (3P v1 usage sends
# names): we send one object per event, its field named `event` (UNCLEAR: the name is not shown,
# `event` is the envelope's name for it [DOC signature sample]). Listing (`GET webhooks`) and
# deleting (`DELETE webhooks/{id}`) are 3P kaleyra-laravel only, the listing's shape unseen.
WEBHOOKS_PATH = "/v2/webhooks"
WEBHOOK_VERSION = "1"
WEBHOOK_FILTER_FIELD = "event"
WEBHOOKS_PAGE_LIMIT = 100
# A room records its sessions never, when an admin participant starts it, or always [DOC recording
# page, v2 room page: default "none"]; fixed when the room is created.
RECORDING_MODES = ("none", "manual", "automatic")
# UNCLEAR: the sessions and recording paths are only in 3P kaleyra-laravel; the list is paged as
# every v2 list [DOC migration guide], its items under `sessions` by analogy with `uploads` [DOC].
SESSIONS_PATH = "/v2/sessions"
SESSIONS_PAGE_LIMIT = 100
# A recording's download link lasts between 30 and 3600 seconds [DOC recording page].
RECORDING_LINK_SECONDS = (30, 3600)
BACKGROUND_FIELD = "virtual_background"  # UNCLEAR: name not shown in docs; 3P kaleyra-laravel
BACKGROUND_UPLOAD_PATH = "/v2/company/virtual-background"  # UNCLEAR: 3P kaleyra-laravel


class WireError(ValueError):
    """A 2xx body that does not have the shape we expect."""


def segment(value: str) -> str:
    """One path segment, quoted: ids come from callers and must not change the route."""
    return quote(value, safe="")


def user_path(user_id: str) -> str:
    return f"/v2/users/{segment(user_id)}"  # GET: 3P kaleyra-laravel; PUT (update): UNCLEAR, 3P


def room_path(room_id: str) -> str:
    return f"/v2/rooms/{segment(room_id)}"  # UNCLEAR: get/delete paths only in 3P code


def upload_path(key: str) -> str:
    return f"/v2/uploads/{segment(key)}"  # UNCLEAR: delete path only in 3P code


def webhook_path(webhook_id: str) -> str:
    return f"{WEBHOOKS_PATH}/{segment(webhook_id)}"  # UNCLEAR: 3P kaleyra-laravel


def recording_path(session_id: str) -> str:
    # UNCLEAR: GET (the link) in 3P kaleyra-laravel; DELETE on the same path inferred from "v2
    # recordings can be deleted" [DOC migration guide].
    return f"/v2/sessions/{segment(session_id)}/recording"


# --- request bodies -----------------------------------------------------------------------------


def create_user_body(user_id: str, role: Role) -> dict[str, Any]:
    return {"id": user_id, "role": role.value}  # `id` named in the docs' prose [DOC]


def update_user_body(role: Role) -> dict[str, Any]:
    return {"role": role.value}  # UNCLEAR: updatable fields unknown; 3P sends a JSON body


def deactivate_user_body() -> dict[str, Any]:
    # An inactive user keeps its history, cannot join or be added to a room, and its id is never
    # reused [DOC user management].
    return {"active": False}


def create_room_body(
    participants: Iterable[ParticipantSpec],
    duration: int | None,
    live: bool | None,
    description: str | None = None,
    recording: str = "none",
) -> dict[str, Any]:
    # Participant item fields from the v2 add-participant page [DOC]; `recording` one of
    # RECORDING_MODES, "none" the v2 room page default [DOC]; `description` is a v2 room field
    # [DOC] (treated as PII/PHI by Kaleyra: we put only our own ids in it). UNCLEAR: `live` is not
    # among the v2 room page's body parameters, only in 3P config and CTX: it is sent only when
    # given (None: left out).
    body: dict[str, Any] = {
        "participants": [
            {"user_id": p.user_id, "is_admin": p.is_admin, "tools": dict(p.tools)}
            for p in participants
        ],
        "recording": recording,
    }
    if live is not None:
        body["live"] = live
    if duration is not None:
        body["duration"] = duration  # absent means unlimited [DOC]
    if description is not None:
        body["description"] = description
    return body


def rooms_page_params(offset: int) -> dict[str, Any]:
    return {"offset": offset, "limit": ROOMS_PAGE_LIMIT}


def webhooks_page_params(offset: int) -> dict[str, Any]:
    return {"offset": offset, "limit": WEBHOOKS_PAGE_LIMIT}  # as every v2 list [DOC]


def sessions_page_params(room_id: str, offset: int) -> dict[str, Any]:
    return {"room_id": room_id, "offset": offset, "limit": SESSIONS_PAGE_LIMIT}


def recording_link_params(expires_in: int) -> dict[str, Any]:
    return {"expires_in": expires_in}  # [DOC recording page: "expires_in", 30..3600 seconds]


def register_webhook_body(url: str, events: Iterable[str]) -> dict[str, Any]:
    return {
        "post_event_webhook_url": url,
        "webhook_method": "POST",
        "webhook_filters": [{WEBHOOK_FILTER_FIELD: event} for event in events],
        "version": WEBHOOK_VERSION,
    }


def credentials_body(user_id: str, expires_in: int) -> dict[str, Any]:
    return {"user_id": user_id, "expires_in": expires_in}  # [DOC, FP-CODE]


def set_default_background_body(background_alias: str) -> dict[str, Any]:
    return {"background_alias": background_alias}  # UNCLEAR: v1 body name [LEGACY-DOC]


def set_user_details_provider_body(url: str) -> dict[str, Any]:
    # v1's field name [LEGACY-DOC]; the v2 GET shows the same [DOC migration guide]. UNCLEAR: the
    # v2 PUT body, and whether fields left out are kept (the background update leaves them out too).
    return {"user_details_provider_url": url}


# --- response parsing ---------------------------------------------------------------------------


def _object(payload: Any, wrapper: str | None = None) -> Mapping[str, Any]:
    """The JSON object, unwrapped from `{wrapper: {...}}` when v1-style wrapped."""
    if not isinstance(payload, Mapping):
        raise WireError("expected a JSON object")
    if wrapper and isinstance(payload.get(wrapper), Mapping):
        return payload[wrapper]
    return payload


def _first(obj: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if obj.get(name) is not None:
            return obj[name]
    return None


def _str(obj: Mapping[str, Any], *names: str) -> str | None:
    value = _first(obj, *names)
    if value is not None and not isinstance(value, str):
        raise WireError(f"field {names[0]!r} is not a non-empty string")
    return value


def _required_str(obj: Mapping[str, Any], *names: str) -> str:
    value = _first(obj, *names)
    if value is None:
        raise WireError(f"missing field {names[0]!r}")
    if not isinstance(value, str) or not value:
        raise WireError(f"field {names[0]!r} is not a non-empty string")
    return value


def _int(obj: Mapping[str, Any], name: str) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise WireError(f"field {name!r} is not an integer")
    return value


def _bool(obj: Mapping[str, Any], name: str) -> bool | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise WireError(f"field {name!r} is not a boolean")
    return value


def parse_datetime(value: Any, name: str = "date") -> datetime:
    """ISO 8601; a date without offset is taken as UTC (v1 samples omit it [LEGACY-DOC])."""
    if not isinstance(value, str):
        raise WireError(f"field {name!r} is not a date string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise WireError(f"field {name!r} is not an ISO 8601 date") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _date(obj: Mapping[str, Any], name: str) -> datetime | None:
    value = obj.get(name)
    return None if value is None else parse_datetime(value, name)


def _role(value: Any) -> Role | None:
    if value is None:
        return None
    try:
        return Role(value)
    except ValueError as exc:
        raise WireError(f"unknown role {value!r}") from exc


def parse_user(payload: Any) -> KaleyraUser:
    # UNCLEAR: get-user fields; `id` as in the v2 user list [FP-CODE], `role` inferred.
    user = _object(payload, "user")
    return KaleyraUser(id=_required_str(user, "id", "user_id"), role=_role(user.get("role")))


def parse_created_user(payload: Any, user_id: str, role: Role) -> KaleyraUser:
    """UNCLEAR: the create-user response body is not shown [DOC]; an empty body or one without
    the fields means the user we asked for; a different id is a wrong answer."""
    if payload is None:
        return KaleyraUser(id=user_id, role=role)
    user = _object(payload, "user")
    returned_id = _str(user, "id", "user_id") or user_id
    if returned_id != user_id:
        raise WireError(f"asked for user {user_id!r}, got {returned_id!r}")
    return KaleyraUser(id=user_id, role=_role(user.get("role")) or role)


def _participant(item: Any) -> RoomParticipant:
    if not isinstance(item, Mapping):
        raise WireError("room participant is not an object")
    # v2-plausible `{user_id, link}` (webhook sample [DOC]) or v1 `{user, url}` [LEGACY-DOC].
    return RoomParticipant(
        user_id=_required_str(item, "user_id", "user"),
        is_admin=bool(_bool(item, "is_admin")),
        link=_required_str(item, "link", "url"),
    )


def parse_room(payload: Any, *, listed: bool = False) -> Room:
    """UNCLEAR: v2 room shape. Accepts `{"id"|"room_id", "participants"|"user_urls", ...}`, bare
    or wrapped in `{"room": ...}` (v1 example [LEGACY-DOC]; `id` read by 3P kaleyra-laravel).
    A room in a listing (`listed`) may come without participants (UNCLEAR: no list sample)."""
    room = _object(payload, "room")
    items = _first(room, "participants", "user_urls")
    if items is None and listed:
        items = []
    if not isinstance(items, list):
        raise WireError("missing field 'participants'")
    return Room(
        id=_required_str(room, "id", "room_id"),
        participants=tuple(_participant(item) for item in items),
        recording=_str(room, "recording"),
        recording_status=_str(room, "recording_status"),
        call_type=_str(room, "call_type"),
        description=_str(room, "description"),
        status=_str(room, "status"),
        disabled=_bool(room, "disabled"),
        creation_date=_date(room, "creation_date"),
        duration=_int(room, "duration"),
        duration_used=_int(room, "duration_used"),
        live=_bool(room, "live"),
    )


def _page(payload: Any, items_key: str) -> tuple[list[Any], bool]:
    """The items of one page of a v2 list and whether more follow [DOC migration guide]. A page
    without them names the keys it has (never their values), so the log tells what came."""
    page = _object(payload)
    items = page.get(items_key)
    if not isinstance(items, list):
        keys = ", ".join(repr(str(key)[:40]) for key in sorted(page, key=str)[:MAX_KEYS_NAMED])
        raise WireError(f"missing field {items_key!r}; the page's keys: {keys or 'none'}")
    return items, bool(_bool(page, "has_more"))


def parse_rooms_page(payload: Any) -> tuple[list[Room], bool]:
    """One page of `GET /v2/rooms` (UNCLEAR, see ROOMS_PATH): the rooms and whether more follow."""
    items, has_more = _page(payload, "rooms")
    return [parse_room(item, listed=True) for item in items], has_more


def parse_upload(item: Any) -> Upload:
    if not isinstance(item, Mapping):
        raise WireError("upload is not an object")
    return Upload(
        key=_required_str(item, "key"),
        user_id=_str(item, "user_id"),
        room_id=_str(item, "room_id"),
        session_id=_str(item, "session_id"),
        upload_type=_str(item, "upload_type"),
        creation_date=_date(item, "creation_date"),
    )


def parse_uploads_page(payload: Any) -> tuple[list[Upload], bool]:
    """One page of `GET /v2/uploads` [DOC file-share]: the uploads and whether more follow."""
    items, has_more = _page(payload, "uploads")
    return [parse_upload(item) for item in items], has_more


def _session_participant(item: Any) -> SessionParticipant:
    if not isinstance(item, Mapping):
        raise WireError("session participant is not an object")
    return SessionParticipant(
        user_id=_required_str(item, "user_id", "user"),
        join_date=_date(item, "join_date"),
        leave_date=_date(item, "leave_date"),
    )


def parse_session(item: Any) -> RoomSession:
    """UNCLEAR: no session sample; `id` or `session_id`, bare or wrapped in `{"session": ...}`,
    participants optional (3P kaleyra-laravel reads only the ids)."""
    session = _object(item, "session")
    participants = session.get("participants") or []
    if not isinstance(participants, list):
        raise WireError("field 'participants' is not a list")
    return RoomSession(
        id=_required_str(session, "id", "session_id"),
        room_id=_str(session, "room_id"),
        start_date=_date(session, "start_date"),
        end_date=_date(session, "end_date"),
        participants=tuple(_session_participant(member) for member in participants),
    )


def parse_sessions_page(payload: Any) -> tuple[list[RoomSession], bool]:
    """One page of `GET /v2/sessions?room_id=` (UNCLEAR, see SESSIONS_PATH)."""
    items, has_more = _page(payload, "sessions")
    return [parse_session(item) for item in items], has_more


def parse_recording_link(payload: Any, session_id: str) -> RecordingLink:
    """UNCLEAR: the recording's answer, bare or wrapped in `{"recording": ...}`, its link as
    `url`, `link` or `download_url`; without `session_id` it is the session asked about."""
    recording = _object(payload, "recording")
    return RecordingLink(
        session_id=_str(recording, "session_id") or session_id,
        url=_required_str(recording, "url", "link", "download_url"),
        room_id=_str(recording, "room_id"),
        expires_in=_int(recording, "expires_in"),
        expiration_date=_date(recording, "expiration_date"),
    )


def parse_credentials(payload: Any) -> SdkCredentials:
    # [DOC, FP-CODE]: `expires_at` is UTC with milliseconds.
    credentials = _object(payload)
    return SdkCredentials(
        access_token=_required_str(credentials, "access_token"),
        expires_at=parse_datetime(credentials.get("expires_at"), "expires_at"),
        user_id=_required_str(credentials, "user_id"),
    )


def _background_alias(value: Any) -> str | None:
    """UNCLEAR: a string in the v2 migration guide [DOC], an object in v1 [LEGACY-DOC]."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return _str(value, "background_alias", "alias")
    raise WireError("field 'default_background' is neither a string nor an object")


def parse_company(payload: Any) -> Company:
    company = _object(payload, "company")  # v2 is unwrapped, v1 wrapped [DOC migration guide]
    return Company(
        name=_str(company, "name"),
        default_language=_str(company, "default_language"),
        default_background=_background_alias(company.get("default_background")),
        end_call_redirect_url=_str(company, "end_call_redirect_url"),
        user_details_provider_url=_str(company, "user_details_provider_url"),
        end_call_redirect_timeout_ms=_int(company, "end_call_redirect_timeout_ms"),
    )


def parse_background(payload: Any) -> VirtualBackground:
    """UNCLEAR: alias field `background_alias` or `alias` [LEGACY-DOC]; maybe wrapped."""
    background = _object(payload, "virtual_background")
    return VirtualBackground(
        background_alias=_required_str(background, "background_alias", "alias"),
        url=_required_str(background, "url"),
        creation_date=_date(background, "creation_date"),
    )


def _webhook_event(item: Any) -> str:
    """An event name, as a string (v1, 3P) or a filter object (see WEBHOOKS_PATH)."""
    if isinstance(item, Mapping):
        item = _first(item, WEBHOOK_FILTER_FIELD, "name")
    if not isinstance(item, str) or not item:
        raise WireError("field 'webhook_filters' is not a list of event names or filter objects")
    return item


def parse_webhook(payload: Any) -> Webhook:
    """UNCLEAR (see WEBHOOKS_PATH): the created webhook, bare or wrapped in `{"webhook": ...}`,
    with its v2 id [DOC migration guide] as `id` or `webhook_id`; an empty body is no id. Events
    come as names or as filter objects."""
    if payload is None:
        return Webhook(id=None, url=None, events=())
    webhook = _object(payload, "webhook")
    events = _first(webhook, "events", "webhook_filters") or []
    if not isinstance(events, list):
        raise WireError("field 'webhook_filters' is not a list of event names or filter objects")
    return Webhook(
        id=_str(webhook, "id", "webhook_id"),
        url=_str(webhook, "url", "post_event_webhook_url"),
        events=tuple(_webhook_event(event) for event in events),
    )


def parse_webhooks_page(payload: Any) -> tuple[list[Webhook], bool]:
    """One page of `GET /v2/webhooks` (UNCLEAR, see WEBHOOKS_PATH): items under `webhooks` as for
    every v2 list, or a bare array; and whether more follow."""
    items, has_more = (payload, False) if isinstance(payload, list) else _page(payload, "webhooks")
    if not all(isinstance(item, Mapping) for item in items):
        raise WireError("webhook is not an object")
    return [parse_webhook(item) for item in items], has_more
