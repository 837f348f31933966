"""HTTP clients of the user services of AUTH_SERVICE mode: Mia-Platform's auth0-client (the user
directory, at AUTH_SERVICE) and the custom user id map (Mia 1.8.0, CUSTOM_ID_USERS_API_ENDPOINT).

Both are outbound clients (`common.http.client.OutboundClient`: session, timeouts, X-Request-Id,
metrics as service "directory"); `UserServiceClient._fetch` is the only place that calls either.
One `GET {route}` with a `user_id $in [...]` filter looks up every user of a request at once; the
answer's fields are read through configurable dot paths (docs/directory.md says why these
defaults). Every call carries the request id, the client type and the headers named in
ADDITIONAL_HEADERS_TO_PROXY. Failures become API errors here: unreachable, timeout or 5xx -> 503;
a refusal or an unreadable answer -> 502. A service's body is never echoed.
"""

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from common.http.client import Answer, OutboundClient
from common.http.session import DEFAULT_POOL_SIZE, build_session
from teleconsultation_project.errors import ApiError

logger = logging.getLogger("teleconsultation.directory")

T = TypeVar("T")

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


class UserServiceClient(OutboundClient):
    """What the clients of both user services share: one GET of `self._url`, read as JSON, its
    failures as the API errors that name the service (`self._name`)."""

    service = "directory"
    logger = logger

    def __init__(self, *, url: str, name: str, connect_timeout: float, read_timeout: float):
        session = build_session(
            headers={"Accept": "application/json"},
            pool_size=DEFAULT_POOL_SIZE,
            proxy_url="",
            environment="always",
        )
        super().__init__(
            session=session, connect_timeout=connect_timeout, read_timeout=read_timeout
        )
        self._url = url
        self._name = name

    def _fetch(
        self,
        operation: str,
        *,
        params: dict[str, str],
        headers: dict[str, str],
        parse: Callable[[Any], T],
    ) -> T:
        """GET, then `parse` the JSON answer; every failure is the API error naming the service."""

        def read(answer: Answer) -> T:
            status = answer.status
            if status >= 500:
                logger.warning("%s failed with status %s", self._name, status)
                raise ApiError(f"{self._name} answered with an error (status {status})", status=503)
            if not 200 <= status < 300:
                # A refusal is our configuration (route, client type, forwarded cookie), not the
                # caller's request.
                logger.warning("%s refused the lookup with status %s", self._name, status)
                raise ApiError(
                    f"{self._name} refused the user lookup (status {status})", status=502
                )
            try:
                payload = json.loads(answer.content)
            except ValueError:
                raise _bad_answer("not JSON", self._name) from None
            return parse(payload)

        return self._attempt(operation, "GET", self._url, read, params=params, headers=headers)

    def _transport_error(
        self, operation: str, kind: str, exc: Exception | None, resource: str
    ) -> ApiError:
        if kind == "timeout":
            logger.warning("%s timed out: %s", self._name, self._url)
            return ApiError(f"{self._name} did not answer in time", status=503)
        logger.warning("%s unreachable: %s (%s)", self._name, self._url, type(exc).__name__)
        return ApiError(f"{self._name} is unreachable", status=503)


class DirectoryClient(UserServiceClient):
    def __init__(
        self,
        *,
        base_url: str,
        route: str,
        fields: FieldPaths,
        connect_timeout: float,
        read_timeout: float,
    ):
        super().__init__(
            url=base_url.rstrip("/") + "/" + route.lstrip("/"),
            name=DIRECTORY,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self._fields = fields

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
        return self._fetch(
            "find_users",
            params=params,
            headers=outgoing_headers(request_headers),
            parse=lambda answer: self._users(answer, wanted),
        )

    def _users(self, answer: Any, wanted: list[str]) -> dict[str, DirectoryUser]:
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


class CustomIdClient(UserServiceClient):
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
    ):
        if style not in QUERY_STYLES:
            raise ImproperlyConfigured(
                f"CUSTOM_ID_USERS_QUERY_STYLE must be one of {', '.join(QUERY_STYLES)}, "
                f"got {style!r}"
            )
        super().__init__(
            url=url.strip(),
            name=CUSTOM_IDS,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self._style = style

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

        def read_all(answer: Any) -> None:
            if not isinstance(answer, list):
                raise _bad_answer("expected a JSON array of users", CUSTOM_IDS)
            for document in answer:
                self._read(document, source, target, wanted, found)

        for params in queries:
            self._fetch("identity_ids", params=params, headers=headers, parse=read_all)
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
    one, else DEFAULT_CLIENT_TYPE: auth0-client picks its client configuration by it). The base
    adds the id of the request being served, so the services' logs can be joined with ours."""
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
