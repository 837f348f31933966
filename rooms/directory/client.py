"""HTTP clients of the user services of AUTH_SERVICE mode: Mia-Platform's auth0-client (the user
directory, at AUTH_SERVICE) and the custom user id map (Mia 1.8.0, CUSTOM_ID_USERS_API_ENDPOINT).

`_fetch` is the only place that calls either. One `GET {route}` with a `user_id $in [...]` filter
looks up every user of a request at once; the answer's fields are read through configurable dot
paths (docs/directory.md says why these defaults). Every call carries the request id, the client
type and the headers named in ADDITIONAL_HEADERS_TO_PROXY. Failures become API errors here:
unreachable, timeout or 5xx -> 503; a refusal or an unreadable answer -> 502. A service's body is
never echoed.
"""

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from teleconsultation_project.errors import ApiError
from teleconsultation_project.logs import request_id_var

logger = logging.getLogger("teleconsultation.directory")

DIRECTORY = "the user directory (AUTH_SERVICE)"
CUSTOM_IDS = "the custom user id service (CUSTOM_ID_USERS_API_ENDPOINT)"
QUERY_STYLES = ("crud", "param")
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


def _bad_answer(detail: str, service: str = DIRECTORY) -> ApiError:
    logger.warning("Answer of %s unusable: %s", service, detail)
    return ApiError(f"{service} gave an answer that cannot be read: {detail}", status=502)


def _groups(raw: Any, user_id: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):  # some directories keep groups comma separated, as Mia's headers
        raw = raw.split(",")
    if not isinstance(raw, list) or not all(isinstance(group, str) for group in raw):
        raise _bad_answer(f"the groups of user {user_id} are not a list of strings")
    return tuple(group.strip() for group in raw if group.strip())


def _fetch(
    session: requests.Session,
    url: str,
    *,
    params: dict[str, str],
    headers: dict[str, str],
    timeout: tuple[float, float],
    service: str,
) -> Any:
    """GET and parse JSON, turning every failure into the API error that names `service`."""
    try:
        response = session.get(url, params=params, headers=headers, timeout=timeout)
    except requests.Timeout:
        logger.warning("%s timed out: %s", service, url)
        raise ApiError(f"{service} did not answer in time", status=503) from None
    except requests.RequestException as exc:
        logger.warning("%s unreachable: %s (%s)", service, url, type(exc).__name__)
        raise ApiError(f"{service} is unreachable", status=503) from None
    status = response.status_code
    if status >= 500:
        logger.warning("%s failed with status %s", service, status)
        raise ApiError(f"{service} answered with an error (status {status})", status=503)
    if not 200 <= status < 300:
        # A refusal is our configuration (route, client type, forwarded cookie), not the
        # caller's request.
        logger.warning("%s refused the lookup with status %s", service, status)
        raise ApiError(f"{service} refused the user lookup (status {status})", status=502)
    try:
        return response.json()
    except ValueError:
        raise _bad_answer("not JSON", service) from None


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
        answer = _fetch(
            self._session,
            self._url,
            params=params,
            headers=outgoing_headers(request_headers),
            timeout=self._timeout,
            service=DIRECTORY,
        )
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


class CustomIdClient:
    """Mia 1.8.0 custom user ids: the users at CUSTOM_ID_USERS_API_ENDPOINT map the id a client
    sends (field `source`) to the identity provider's id (field `target`).

    How Mia queries the endpoint is not documented, so the style is a setting: `crud` sends one
    `?_q={"<source>":{"$in":[...]}}&_l=<n>` for every id of a request (Mia CRUD Service filter),
    `param` one `?<source>=<id>` per id (CRUD field filter, or any service filtering by parameter).
    """

    def __init__(
        self,
        *,
        url: str,
        style: str,
        connect_timeout: float,
        read_timeout: float,
        session: requests.Session | None = None,
    ):
        if style not in QUERY_STYLES:
            raise ImproperlyConfigured(
                f"CUSTOM_ID_USERS_QUERY_STYLE must be one of {', '.join(QUERY_STYLES)}, "
                f"got {style!r}"
            )
        self._url = url.strip()
        self._style = style
        self._timeout = (connect_timeout, read_timeout)
        self._session = session or requests.Session()
        self._session.headers.update({"Accept": "application/json"})

    @classmethod
    def from_settings(cls) -> "CustomIdClient | None":
        """None unless CUSTOM_ID_USERS_API_ENDPOINT is set."""
        url = settings.CUSTOM_ID_USERS_API_ENDPOINT
        if not url.strip():
            return None
        return cls(
            url=url,
            style=settings.CUSTOM_ID_USERS_QUERY_STYLE.strip().lower(),
            connect_timeout=getattr(settings, "AUTH_SERVICE_CONNECT_TIMEOUT", 3.05),
            read_timeout=getattr(settings, "AUTH_SERVICE_READ_TIMEOUT", 5.0),
        )

    def identity_ids(
        self,
        custom_ids: Iterable[str],
        *,
        source: str,
        target: str,
        request_headers: Mapping[str, str],
    ) -> dict[str, str]:
        """{custom id: identity provider id} for the ids the endpoint knows; others left out."""
        wanted = list(dict.fromkeys(custom_ids))
        if not wanted:
            return {}
        if self._style == "crud":
            filter_ = json.dumps({source: {"$in": wanted}}, separators=(",", ":"))
            queries = [{"_q": filter_, "_l": str(len(wanted))}]
        else:
            queries = [{source: custom_id} for custom_id in wanted]
        headers = outgoing_headers(request_headers)
        found: dict[str, str] = {}
        for params in queries:
            answer = _fetch(
                self._session,
                self._url,
                params=params,
                headers=headers,
                timeout=self._timeout,
                service=CUSTOM_IDS,
            )
            if not isinstance(answer, list):
                raise _bad_answer("expected a JSON array of users", CUSTOM_IDS)
            for document in answer:
                self._read(document, source, target, wanted, found)
        return found

    @staticmethod
    def _read(document: Any, source: str, target: str, wanted: list, found: dict) -> None:
        custom_id = value_at(document, source)
        if custom_id not in wanted:
            return  # a user not asked for (a service that ignored the filter)
        identity_id = value_at(document, target)
        if not isinstance(identity_id, str) or not identity_id.strip():
            raise _bad_answer(
                f"the user with {source} {custom_id} has no string `{target}`", CUSTOM_IDS
            )
        if found.setdefault(custom_id, identity_id) != identity_id:
            raise _bad_answer(f"two users have {source} {custom_id}", CUSTOM_IDS)


def outgoing_headers(request_headers: Mapping[str, str]) -> dict[str, str]:
    """The incoming headers named in ADDITIONAL_HEADERS_TO_PROXY, the client type (the incoming
    one, else DEFAULT_CLIENT_TYPE: auth0-client picks its client configuration by it), and the
    id of the request being served, so the services' logs can be joined with ours."""
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
    request_id = request_id_var.get()
    if request_id:
        headers["x-request-id"] = request_id
    return headers


@cache
def get_directory_client() -> DirectoryClient:
    return DirectoryClient.from_settings()


@cache
def get_custom_id_client() -> CustomIdClient | None:
    return CustomIdClient.from_settings()


@receiver(setting_changed)
def _reset_on_setting_change(*, setting: str, **kwargs) -> None:
    # Tests change AUTH_SERVICE with pytest-django's `settings` fixture; the next call must see it.
    if setting.startswith("AUTH_SERVICE"):
        get_directory_client.cache_clear()
    if setting.startswith(("AUTH_SERVICE", "CUSTOM_ID_USERS")):
        get_custom_id_client.cache_clear()
