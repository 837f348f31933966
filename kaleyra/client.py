"""HTTP client for the Kaleyra Video REST API v2.

`KaleyraClient` is an outbound client (`common.http.client.OutboundClient`: session, timeouts
capped by the request's deadline, X-Request-Id, metrics). Its `_request` applies the retry policy
(`kaleyra.retry`), maps failures to the KaleyraError tree and parses the body with a `wire`
parser. The public methods say which calls are safe to repeat; paths and bodies come from
`kaleyra.wire`.
"""

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from common.http.client import Answer, Observer, OutboundClient
from common.http.session import Session, build_session
from kaleyra import wire
from kaleyra.errors import KaleyraBadRequest, KaleyraError, build_error
from kaleyra.retry import Retrier, RetryPolicy
from kaleyra.types import (
    Company,
    KaleyraUser,
    ParticipantSpec,
    RecordingLink,
    Role,
    Room,
    RoomSession,
    SdkCredentials,
    Upload,
    VirtualBackground,
    Webhook,
)

logger = logging.getLogger("kaleyra")

T = TypeVar("T")

EXPIRES_IN_RANGE = (360, 86400)  # [DOC] sdk credentials


def check_expires_in(expires_in: int) -> None:
    """Refuses a token lifetime Kaleyra would refuse, before any call is made."""
    low, high = EXPIRES_IN_RANGE
    if isinstance(expires_in, bool) or not low <= expires_in <= high:
        raise ValueError(f"expires_in must be between {low} and {high} seconds")


def check_recording_link_seconds(expires_in: int) -> None:
    """Refuses a link lifetime Kaleyra would refuse, before any call is made."""
    low, high = wire.RECORDING_LINK_SECONDS
    if isinstance(expires_in, bool) or not low <= expires_in <= high:
        raise ValueError(f"a recording link's expires_in must be between {low} and {high} seconds")


def _no_body(payload: Any) -> None:
    return None


def is_existing_user_refusal(error: KaleyraBadRequest) -> bool:
    # UNCLEAR: duplicate-id status is undocumented; 409 is the HTTP way, some APIs send a 400.
    return error.status == 409 or (error.status == 400 and "already exist" in error.body.lower())


def walk_pages(fetch_page: Callable[[int], tuple[list[T], bool]], *, operation: str) -> Iterator[T]:
    """Follows a v2 list from offset 0 until `has_more` is false or a page is empty, for at most
    wire.MAX_PAGES pages."""
    offset = 0
    for _ in range(wire.MAX_PAGES):
        items, has_more = fetch_page(offset)
        yield from items
        if not has_more or not items:
            return
        offset += len(items)
    logger.warning("Kaleyra %s stopped after %d pages", operation, wire.MAX_PAGES)


def kaleyra_session(*, api_key: str, pool_size: int, proxy_url: str) -> Session:
    """The API key and JSON on every call, a pool as large as the worker's threads, and no scan
    of proxy environment variables per call unless the environment names an HTTPS proxy."""
    return build_session(
        headers={"apikey": api_key, "Accept": "application/json"},
        pool_size=pool_size,
        proxy_url=proxy_url,
        environment="when_proxied",
    )


class KaleyraClient(OutboundClient):
    service = "kaleyra"
    logger = logger

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        connect_timeout: float,
        read_timeout: float,
        retrier: Retrier,
        pool_size: int = 10,
        proxy_url: str = "",
        observer: Observer | None = None,
    ):
        super().__init__(
            session=kaleyra_session(api_key=api_key, pool_size=pool_size, proxy_url=proxy_url),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            honours_deadline=True,
            observer=observer,
        )
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._retrier = retrier

    @classmethod
    def from_settings(cls, *, pool_size: int | None = None) -> "KaleyraClient":
        """The configured client; `pool_size` (connections kept) defaults to KALEYRA_POOL_SIZE."""
        from django.conf import settings

        return cls(
            base_url=settings.BANDYER_BASE_URL,
            api_key=settings.BANDYER_API_SECRET_KEY,
            connect_timeout=settings.KALEYRA_CONNECT_TIMEOUT,
            read_timeout=settings.KALEYRA_READ_TIMEOUT,
            retrier=Retrier(RetryPolicy.from_settings()),
            pool_size=pool_size or settings.KALEYRA_POOL_SIZE,
            proxy_url=settings.KALEYRA_PROXY_URL,
        )

    def _request(
        self,
        operation: str,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> T:
        url = self._base_url + path

        def read(answer: Answer) -> T:
            """The parsed answer, or its failure as a KaleyraError."""
            status, text = answer.status, answer.text
            if not 200 <= status < 300:
                retry_after = answer.headers.get("Retry-After")
                raise self._error(operation, status=status, body=text, retry_after=retry_after)
            try:
                payload = json.loads(text) if text.strip() else None
                return parse(payload)
            except ValueError as exc:  # bad JSON, or a wire.WireError from the parser
                raise self._error(operation, status=status, body=text, detail=str(exc)) from None

        def attempt() -> T:
            return self._attempt(
                operation, method, url, read, json=body, params=params, files=files
            )

        return self._retrier.call(attempt, operation=operation)

    def _transport_error(
        self, operation: str, kind: str, exc: Exception | None, resource: str
    ) -> KaleyraError:
        detail = "deadline passed" if exc is None else str(exc)
        return self._error(operation, transport=kind, detail=detail)

    def _error(self, operation: str, **details: Any) -> KaleyraError:
        return build_error(operation, secret=self._api_key, **details)

    # --- users (retry policy per operation: kaleyra.retry.SAFE_TO_REPEAT) --------------------

    def create_user(self, *, user_id: str, role: Role) -> KaleyraUser:
        try:
            return self._request(
                "create_user",
                "POST",
                "/v2/users",
                lambda payload: wire.parse_created_user(payload, user_id, role),
                body=wire.create_user_body(user_id, role),
            )
        except KaleyraBadRequest as error:
            if is_existing_user_refusal(error):
                return self.get_user(user_id)
            raise

    def get_user(self, user_id: str) -> KaleyraUser:
        return self._request("get_user", "GET", wire.user_path(user_id), wire.parse_user)

    def update_user_role(self, *, user_id: str, role: Role) -> KaleyraUser:
        return self._request(
            "update_user_role",
            "PUT",
            wire.user_path(user_id),
            lambda payload: wire.parse_created_user(payload, user_id, role),
            body=wire.update_user_body(role),
        )

    def deactivate_user(self, user_id: str) -> None:
        """`active: false`: the user stays, with its history, but can no longer join a call (a
        person's data erased, `erase_person`). Deactivating an inactive user changes nothing."""
        self._request(
            "deactivate_user",
            "PUT",
            wire.user_path(user_id),
            lambda payload: None,
            body=wire.deactivate_user_body(),
        )

    # --- rooms -------------------------------------------------------------------------------

    def create_room(
        self,
        *,
        participants: Sequence[ParticipantSpec],
        duration: int | None,
        live: bool | None,
        description: str | None = None,
        recording: str = "none",
    ) -> Room:
        return self._request(
            "create_room",
            "POST",
            "/v2/rooms",
            wire.parse_room,
            body=wire.create_room_body(participants, duration, live, description, recording),
        )

    def get_room(self, room_id: str) -> Room:
        return self._request("get_room", "GET", wire.room_path(room_id), wire.parse_room)

    def iter_rooms(self) -> Iterator[Room]:
        """Every room of the company, page by page (each page is one retried call)."""

        def fetch_page(offset: int) -> tuple[list[Room], bool]:
            params = wire.rooms_page_params(offset)
            return self._request(
                "iter_rooms", "GET", wire.ROOMS_PATH, wire.parse_rooms_page, params=params
            )

        return walk_pages(fetch_page, operation="iter_rooms")

    def delete_room(self, room_id: str) -> None:
        self._request("delete_room", "DELETE", wire.room_path(room_id), _no_body)

    # --- uploads ----------------------------------------------------------------------------

    def iter_room_uploads(self, room_id: str) -> Iterator[Upload]:
        def fetch_page(offset: int) -> tuple[list[Upload], bool]:
            params = {"room_id": room_id, "offset": offset, "limit": wire.UPLOADS_PAGE_LIMIT}
            return self._request(
                "iter_room_uploads", "GET", "/v2/uploads", wire.parse_uploads_page, params=params
            )

        return walk_pages(fetch_page, operation="iter_room_uploads")

    def delete_upload(self, key: str) -> None:
        self._request("delete_upload", "DELETE", wire.upload_path(key), _no_body)

    # --- sessions and their recordings ------------------------------------------------------

    def iter_room_sessions(self, room_id: str) -> Iterator[RoomSession]:
        """Every session (call) held in the room, page by page."""

        def fetch_page(offset: int) -> tuple[list[RoomSession], bool]:
            params = wire.sessions_page_params(room_id, offset)
            return self._request(
                "iter_room_sessions",
                "GET",
                wire.SESSIONS_PATH,
                wire.parse_sessions_page,
                params=params,
            )

        return walk_pages(fetch_page, operation="iter_room_sessions")

    def recording_link(self, session_id: str, *, expires_in: int) -> RecordingLink:
        """A temporary download link of the session's recording; KaleyraNotFound when the session
        has none (not recorded, still processing, or deleted)."""
        check_recording_link_seconds(expires_in)
        return self._request(
            "recording_link",
            "GET",
            wire.recording_path(session_id),
            lambda payload: wire.parse_recording_link(payload, session_id),
            params=wire.recording_link_params(expires_in),
        )

    def delete_recording(self, session_id: str) -> None:
        """Deletes the session's recording; KaleyraNotFound when it has none."""
        self._request("delete_recording", "DELETE", wire.recording_path(session_id), _no_body)

    # --- SDK credentials --------------------------------------------------------------------

    def create_sdk_credentials(self, *, user_id: str, expires_in: int) -> SdkCredentials:
        check_expires_in(expires_in)
        return self._request(
            "create_sdk_credentials",
            "POST",
            "/v2/sdk/credentials",
            wire.parse_credentials,
            body=wire.credentials_body(user_id, expires_in),
        )

    # --- company ------------------------------------------------------------------------------

    def get_company(self) -> Company:
        return self._request("get_company", "GET", "/v2/company", wire.parse_company)

    def set_default_background(self, *, background_alias: str) -> Company:
        return self._request(
            "set_default_background",
            "PUT",
            "/v2/company",
            wire.parse_company,
            body=wire.set_default_background_body(background_alias),
        )

    def set_user_details_provider(self, *, url: str) -> Company:
        return self._request(
            "set_user_details_provider",
            "PUT",
            "/v2/company",
            wire.parse_company,
            body=wire.set_user_details_provider_body(url),
        )

    def upload_background(
        self, *, filename: str, content: bytes, content_type: str
    ) -> VirtualBackground:
        return self._request(
            "upload_background",
            "POST",
            wire.BACKGROUND_UPLOAD_PATH,
            wire.parse_background,
            files={wire.BACKGROUND_FIELD: (filename, content, content_type)},
        )

    # --- webhooks ----------------------------------------------------------------------------

    def register_webhook(self, *, url: str, events: Iterable[str]) -> Webhook:
        return self._request(
            "register_webhook",
            "POST",
            wire.WEBHOOKS_PATH,
            wire.parse_webhook,
            body=wire.register_webhook_body(url, events),
        )

    def list_webhooks(self) -> list[Webhook]:
        """Every registered webhook, page by page (each page is one retried call)."""

        def fetch_page(offset: int) -> tuple[list[Webhook], bool]:
            params = wire.webhooks_page_params(offset)
            return self._request(
                "list_webhooks", "GET", wire.WEBHOOKS_PATH, wire.parse_webhooks_page, params=params
            )

        return list(walk_pages(fetch_page, operation="list_webhooks"))

    def delete_webhook(self, webhook_id: str) -> None:
        self._request("delete_webhook", "DELETE", wire.webhook_path(webhook_id), _no_body)

    def ping(self) -> None:
        self._request("ping", "GET", "/v2/company", _no_body)
