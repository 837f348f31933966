"""HTTP client for the Kaleyra Video REST API v2.

`KaleyraClient._request` is the only place that calls the network: it sets the timeouts, applies
the retry policy, maps failures to the KaleyraError tree and parses the body with a `wire` parser.
The public methods say which calls are safe to repeat; paths and bodies come from `kaleyra.wire`.
"""

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import requests

from kaleyra import wire
from kaleyra.errors import KaleyraBadRequest, build_error
from kaleyra.retry import Retrier, RetryPolicy
from kaleyra.types import (
    Company,
    KaleyraUser,
    ParticipantSpec,
    Role,
    Room,
    SdkCredentials,
    Upload,
    VirtualBackground,
)

T = TypeVar("T")

EXPIRES_IN_RANGE = (360, 86400)  # [DOC] sdk credentials


def check_expires_in(expires_in: int) -> None:
    """Refuses a token lifetime Kaleyra would refuse, before any call is made."""
    low, high = EXPIRES_IN_RANGE
    if isinstance(expires_in, bool) or not low <= expires_in <= high:
        raise ValueError(f"expires_in must be between {low} and {high} seconds")


def _no_body(payload: Any) -> None:
    return None


def is_existing_user_refusal(error: KaleyraBadRequest) -> bool:
    # UNCLEAR: duplicate-id status is undocumented; 409 is the HTTP way, some APIs send a 400.
    return error.status == 409 or (error.status == 400 and "already exist" in error.body.lower())


class KaleyraClient:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        connect_timeout: float,
        read_timeout: float,
        retrier: Retrier,
        session: requests.Session | None = None,
    ):
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = (connect_timeout, read_timeout)
        self._retrier = retrier
        self._session = session or requests.Session()  # one session: keep-alive across calls
        self._session.headers.update({"apikey": api_key, "Accept": "application/json"})

    @classmethod
    def from_settings(cls) -> "KaleyraClient":
        from django.conf import settings

        return cls(
            base_url=settings.BANDYER_BASE_URL,
            api_key=settings.BANDYER_API_SECRET_KEY,
            connect_timeout=settings.KALEYRA_CONNECT_TIMEOUT,
            read_timeout=settings.KALEYRA_READ_TIMEOUT,
            retrier=Retrier(RetryPolicy.from_settings()),
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

        def attempt() -> T:
            try:
                response = self._session.request(
                    method, url, json=body, params=params, files=files, timeout=self._timeout
                )
            except requests.Timeout as exc:
                raise self._error(operation, transport="timeout", detail=str(exc)) from None
            except requests.RequestException as exc:
                raise self._error(operation, transport="unavailable", detail=str(exc)) from None
            status, text = response.status_code, response.text
            if not 200 <= status < 300:
                retry_after = response.headers.get("Retry-After")
                raise self._error(operation, status=status, body=text, retry_after=retry_after)
            try:
                payload = json.loads(text) if text.strip() else None
                return parse(payload)
            except ValueError as exc:  # bad JSON, or a wire.WireError from the parser
                raise self._error(operation, status=status, body=text, detail=str(exc)) from None

        return self._retrier.call(attempt, operation=operation)

    def _error(self, operation: str, **details: Any):
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

    # --- rooms -------------------------------------------------------------------------------

    def create_room(
        self, *, participants: Sequence[ParticipantSpec], duration: int | None, live: bool
    ) -> Room:
        return self._request(
            "create_room",
            "POST",
            "/v2/rooms",
            wire.parse_room,
            body=wire.create_room_body(participants, duration, live),
        )

    def get_room(self, room_id: str) -> Room:
        return self._request("get_room", "GET", wire.room_path(room_id), wire.parse_room)

    def delete_room(self, room_id: str) -> None:
        self._request("delete_room", "DELETE", wire.room_path(room_id), _no_body)

    # --- uploads ----------------------------------------------------------------------------

    def iter_room_uploads(self, room_id: str) -> Iterator[Upload]:
        offset = 0
        while True:
            params = {"room_id": room_id, "offset": offset, "limit": wire.UPLOADS_PAGE_LIMIT}
            uploads, has_more = self._request(
                "iter_room_uploads",
                "GET",
                "/v2/uploads",
                wire.parse_uploads_page,
                params=params,
            )
            yield from uploads
            # An empty page ends the walk too, so a server that always says has_more cannot loop.
            if not has_more or not uploads:
                return
            offset += len(uploads)

    def delete_upload(self, key: str) -> None:
        self._request("delete_upload", "DELETE", wire.upload_path(key), _no_body)

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

    def ping(self) -> None:
        self._request("ping", "GET", "/v2/company", _no_body)
