"""HTTP client of the user directory: Mia-Platform's auth0-client, at AUTH_SERVICE.

`DirectoryClient._get` is the only place that calls the directory. One `GET {route}` with a
`user_id $in [...]` filter looks up every user of a request at once; the answer's fields are read
through configurable dot paths (docs/directory.md says why these defaults). Failures become API
errors here: unreachable, timeout or 5xx -> 503; a refusal or an unreadable answer -> 502. The
directory's body is never echoed.
"""

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import requests
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from teleconsultation_project.errors import ApiError

logger = logging.getLogger("teleconsultation.directory")

DIRECTORY = "the user directory (AUTH_SERVICE)"
# Headers of the incoming request that describe its body or connection, never a lookup's.
NEVER_FORWARDED = frozenset(
    {"connection", "content-length", "content-type", "keep-alive", "te", "transfer-encoding"}
)


@dataclass(frozen=True)
class DirectoryUser:
    id: str
    full_name: str | None
    groups: tuple[str, ...]


@dataclass(frozen=True)
class FieldPaths:
    """Where the id, the full name and the groups are in one user object of the answer."""

    id: str
    name: str
    groups: str


def base_url(auth_service: str) -> str:
    """AUTH_SERVICE may be a bare host (`auth0-client`, as Mia configures it) or a URL."""
    url = auth_service.strip()
    if "://" not in url:
        url = "http://" + url
    return url.rstrip("/")


def value_at(document: Any, path: str) -> Any:
    """The value at a dot path (`app_metadata.groups`), or None when any step is missing."""
    current = document
    for key in path.split("."):
        if not isinstance(current, Mapping) or key not in current:
            return None
        current = current[key]
    return current


def _bad_answer(detail: str) -> ApiError:
    logger.warning("User directory answer unusable: %s", detail)
    return ApiError(f"{DIRECTORY} gave an answer that cannot be read: {detail}", status=502)


def _groups(raw: Any, user_id: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):  # some directories keep groups comma separated, as Mia's headers
        raw = raw.split(",")
    if not isinstance(raw, list) or not all(isinstance(group, str) for group in raw):
        raise _bad_answer(f"the groups of user {user_id} are not a list of strings")
    return tuple(group.strip() for group in raw if group.strip())


class DirectoryClient:
    def __init__(
        self,
        *,
        base_url: str,
        route: str,
        fields: FieldPaths,
        connect_timeout: float,
        read_timeout: float,
        session: requests.Session | None = None,
    ):
        self._url = base_url.rstrip("/") + "/" + route.lstrip("/")
        self._fields = fields
        self._timeout = (connect_timeout, read_timeout)
        self._session = session or requests.Session()  # one session: keep-alive across calls
        self._session.headers.update({"Accept": "application/json"})

    @classmethod
    def from_settings(cls) -> "DirectoryClient":
        return cls(
            base_url=base_url(settings.AUTH_SERVICE),
            route=getattr(settings, "AUTH_SERVICE_USER_ROUTE", "/users"),
            fields=FieldPaths(
                id=getattr(settings, "AUTH_SERVICE_ID_PATH", "user_id"),
                name=getattr(settings, "AUTH_SERVICE_NAME_PATH", "name"),
                groups=getattr(settings, "AUTH_SERVICE_GROUPS_PATH", "app_metadata.groups"),
            ),
            connect_timeout=getattr(settings, "AUTH_SERVICE_CONNECT_TIMEOUT", 3.05),
            read_timeout=getattr(settings, "AUTH_SERVICE_READ_TIMEOUT", 5.0),
        )

    def find_users(
        self, user_ids: Iterable[str], *, request_headers: Mapping[str, str]
    ) -> dict[str, DirectoryUser]:
        """{id: user} for the ids the directory knows, in one call; unknown ids are left out."""
        wanted = list(dict.fromkeys(user_ids))
        if not wanted:
            return {}
        params = {
            "_q": json.dumps({self._fields.id: {"$in": wanted}}, separators=(",", ":")),
            "_l": str(len(wanted)),
        }
        answer = self._get(params, headers=outgoing_headers(request_headers))
        if not isinstance(answer, list):
            raise _bad_answer("expected a JSON array of users")
        found = {}
        for document in answer:
            user = self._user(document)
            if user.id in wanted:
                found[user.id] = user
        return found

    def _user(self, document: Any) -> DirectoryUser:
        user_id = value_at(document, self._fields.id)
        if not isinstance(user_id, str) or not user_id:
            raise _bad_answer(f"a user has no string `{self._fields.id}`")
        name = value_at(document, self._fields.name)
        if not isinstance(name, str) or not name.strip():
            name = None
        return DirectoryUser(
            id=user_id,
            full_name=name.strip() if name else None,
            groups=_groups(value_at(document, self._fields.groups), user_id),
        )

    def _get(self, params: dict[str, str], *, headers: dict[str, str]) -> Any:
        try:
            response = self._session.get(
                self._url, params=params, headers=headers, timeout=self._timeout
            )
        except requests.Timeout:
            logger.warning("User directory timed out: %s", self._url)
            raise ApiError(f"{DIRECTORY} did not answer in time", status=503) from None
        except requests.RequestException as exc:
            logger.warning("User directory unreachable: %s (%s)", self._url, type(exc).__name__)
            raise ApiError(f"{DIRECTORY} is unreachable", status=503) from None
        status = response.status_code
        if status >= 500:
            logger.warning("User directory failed with status %s", status)
            raise ApiError(f"{DIRECTORY} answered with an error (status {status})", status=503)
        if not 200 <= status < 300:
            # A refusal is our configuration (route, client type, forwarded cookie), not the
            # caller's request.
            logger.warning("User directory refused the lookup with status %s", status)
            raise ApiError(f"{DIRECTORY} refused the user lookup (status {status})", status=502)
        try:
            return response.json()
        except ValueError:
            raise _bad_answer("not JSON") from None


def outgoing_headers(request_headers: Mapping[str, str]) -> dict[str, str]:
    """The incoming headers named in ADDITIONAL_HEADERS_TO_PROXY, plus the client type: the
    incoming one, else DEFAULT_CLIENT_TYPE (auth0-client picks its client configuration by it)."""
    incoming = {name.lower(): value for name, value in request_headers.items()}
    headers = {}
    for name in settings.ADDITIONAL_HEADERS_TO_PROXY:
        key = name.strip().lower()
        if key and key not in NEVER_FORWARDED and incoming.get(key):
            headers[key] = incoming[key]
    client_type_key = settings.CLIENTTYPE_HEADER_KEY.lower()
    client_type = (incoming.get(client_type_key) or "").strip() or settings.DEFAULT_CLIENT_TYPE
    if client_type:
        headers[client_type_key] = client_type
    return headers


@cache
def get_directory_client() -> DirectoryClient:
    return DirectoryClient.from_settings()


@receiver(setting_changed)
def _reset_on_setting_change(*, setting: str, **kwargs) -> None:
    # Tests change AUTH_SERVICE with pytest-django's `settings` fixture; the next call must see it.
    if setting.startswith("AUTH_SERVICE"):
        get_directory_client.cache_clear()
