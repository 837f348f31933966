"""Who is calling, from the headers the API gateway sets (Mia-Platform's platform headers).

The header names come from USERID_HEADER_KEY, GROUPS_HEADER_KEY, USER_PROPERTIES_HEADER_KEY,
CLIENTTYPE_HEADER_KEY and BACKOFFICE_HEADER_KEY. The service configuration's
`userIdPathInRequest` may move where the user id is read (see `user_id_from_path`).
"""

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from rest_framework.authentication import BaseAuthentication

from teleconsultation_project.input_limits import loads as json_loads
from teleconsultation_project.service_config import PathStep, get_service_config

# User ids are stored in 255 characters (user map, audit fields); a longer one, or one with control
# characters (PostgreSQL refuses a NUL), is no identity.
MAX_USER_ID_LENGTH = 255


@dataclass(frozen=True)
class Caller:
    """The authenticated end user as the gateway describes them."""

    id: str
    groups: tuple[str, ...] = ()
    properties: dict[str, Any] | None = None
    client_type: str | None = None
    is_backoffice: bool = False
    headers: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    # DRF and Django treat request.user as an authenticated user when this is true.
    is_authenticated = True
    is_anonymous = False

    def __str__(self) -> str:
        return self.id


def split_groups(raw: str | None) -> tuple[str, ...]:
    """Comma separated, as Mia sends them; blanks dropped, spaces around names trimmed."""
    return tuple(group.strip() for group in (raw or "").split(",") if group.strip())


def parse_properties(raw: str | None) -> dict[str, Any] | None:
    """The properties header is a JSON object; anything else reads as no properties (as Mia)."""
    if not raw:
        return None
    try:
        value = json_loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def is_truthy(raw: str | None) -> bool:
    """Any value but blank, 0, false or no. Mia's Boolean("0") is true; gateways send "0" for no."""
    return (raw or "").strip().lower() not in ("", "0", "false", "no")


def user_id_from_path(steps: tuple[PathStep, ...], request_view: dict[str, Any]) -> str | None:
    """Walk `userIdPathInRequest` over a view of the request ({"headers", "query"}).

    `object` takes a key of the current object, `json` parses the current string as JSON and then
    takes the key, `array` takes an index of the current list. Any miss means no identity.
    """
    current: Any = request_view
    for step in steps:
        if step.source == "json":
            if not isinstance(current, str):
                return None
            try:
                current = json_loads(current)
            except ValueError:
                return None
        if step.source == "array":
            if not isinstance(current, list) or not step.extract.lstrip("-").isdigit():
                return None
            index = int(step.extract)
            current = current[index] if -len(current) <= index < len(current) else None
        else:
            current = current.get(step.extract) if isinstance(current, dict) else None
        if current is None:
            return None
    if isinstance(current, bool) or not isinstance(current, str | int):
        return None
    return str(current).strip() or None


def request_headers(meta: dict) -> dict[str, str]:
    """A request's headers from its WSGI environ, names in lower case with dashes: what
    `caller_from_headers` makes of `request.headers`, without building that first."""
    headers = {
        name[5:].replace("_", "-").lower(): value
        for name, value in meta.items()
        if name.startswith("HTTP_")
    }
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if name in meta:  # as Django's HttpHeaders, which lists them unprefixed
            headers[name.replace("_", "-").lower()] = meta[name]
    return headers


def caller_from_headers(headers: Any, query: Any = None) -> Caller | None:
    """The caller described by the request headers, or None when no user id is present."""
    lowered = {name.lower(): value for name, value in headers.items()}
    steps = get_service_config().user_id_path
    if steps:
        user_id = user_id_from_path(steps, {"headers": lowered, "query": dict(query or {})})
    else:
        user_id = (lowered.get(settings.USERID_HEADER_KEY.lower()) or "").strip() or None
    if not user_id or len(user_id) > MAX_USER_ID_LENGTH or not user_id.isprintable():
        return None
    return Caller(
        id=user_id,
        groups=split_groups(lowered.get(settings.GROUPS_HEADER_KEY.lower())),
        properties=parse_properties(lowered.get(settings.USER_PROPERTIES_HEADER_KEY.lower())),
        client_type=(lowered.get(settings.CLIENTTYPE_HEADER_KEY.lower()) or "").strip() or None,
        is_backoffice=is_truthy(lowered.get(settings.BACKOFFICE_HEADER_KEY.lower())),
        headers=lowered,
    )


class GatewayHeaderAuthentication(BaseAuthentication):
    """DRF authentication: `request.user` is a `Caller`, or None when the gateway sent no id."""

    def authenticate(self, request):
        caller = caller_from_headers(request.headers, request.query_params)
        return (caller, None) if caller else None

    def authenticate_header(self, request) -> str:
        # A value here makes DRF answer 401 (not 403) to unauthenticated callers.
        return "Gateway"
