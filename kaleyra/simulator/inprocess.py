"""The simulator as a `VideoProvider`, without HTTP (KALEYRA_BACKEND=simulator).

It goes through the same wire bodies, parsers, error builder, retry policy, request deadline and
metrics as the HTTP client, so code that works against it sees Kaleyra's refusals as the same
KaleyraError subclasses.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from common.http import deadline, metrics
from kaleyra import wire
from kaleyra.client import (
    check_expires_in,
    check_recording_link_seconds,
    is_existing_user_refusal,
    walk_pages,
)
from kaleyra.errors import KaleyraBadRequest, KaleyraError, build_error
from kaleyra.retry import Retrier, RetryPolicy
from kaleyra.simulator.engine import Engine
from kaleyra.simulator.faults import Fault
from kaleyra.simulator.rules import Refusal, error_body
from kaleyra.simulator.webhook_sender import WebhookSender
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

T = TypeVar("T")


def _fault_error(operation: str, fault: Fault) -> KaleyraError:
    # A timeout is raised at once: an in-process caller gains nothing from really waiting.
    mode = fault.answer_lost_as
    if mode == "timeout":
        return build_error(operation, secret="", transport="timeout", detail="simulated timeout")
    if mode == "drop":
        return build_error(operation, secret="", transport="unavailable", detail="simulated drop")
    status = int(mode)
    retry_after = fault.retry_after if status == 429 else None
    return build_error(
        operation,
        secret="",
        status=status,
        body=error_body(status, "simulated fault"),
        retry_after=None if retry_after is None else str(retry_after),
    )


class InProcessSimulator:
    def __init__(self, engine: Engine, retrier: Retrier):
        self.engine = engine
        self._retrier = retrier

    @classmethod
    def from_settings(cls) -> "InProcessSimulator":
        from django.conf import settings

        engine = Engine(
            settings.KALEYRA_SIMULATOR_DB,
            link_base=settings.KALEYRA_SIMULATOR_PUBLIC_URL,
            webhooks=WebhookSender.from_settings(),
        )
        return cls(engine, Retrier(RetryPolicy.from_settings()))

    def _call(
        self,
        operation: str,
        run: Callable[[], Any],
        parse: Callable[[Any], T],
        *,
        counted_as: str | None = None,
    ) -> T:
        def attempt() -> T:
            time_left = deadline.time_left()
            if time_left is not None and time_left <= 0:
                error = build_error(operation, secret="", transport="deadline", detail="passed")
                metrics.count_unsent("kaleyra", operation)
                raise error
            with metrics.measured("kaleyra", operation):
                return self._attempt(operation, run, parse, counted_as or operation)

        return self._retrier.call(attempt, operation=operation)

    def _attempt(
        self, operation: str, run: Callable[[], Any], parse: Callable[[Any], T], logged_as: str
    ) -> T:
        """What one HTTP round trip would do: the fault queued for it, if any, else the answer."""
        fault = self.engine.enter(logged_as)
        if fault is not None and not fault.acts_first:
            raise _fault_error(operation, fault)
        try:
            payload = run()
        except Refusal as refusal:
            if fault is not None:
                raise _fault_error(operation, fault) from None
            body = error_body(refusal.status, refusal.message)
            raise build_error(operation, secret="", status=refusal.status, body=body) from None
        if fault is not None:
            raise _fault_error(operation, fault)  # done, but the answer is lost
        return parse(payload)

    def create_user(self, *, user_id: str, role: Role) -> KaleyraUser:
        try:
            return self._call(
                "create_user",
                lambda: self.engine.create_user(wire.create_user_body(user_id, role)),
                lambda payload: wire.parse_created_user(payload, user_id, role),
            )
        except KaleyraBadRequest as error:
            if is_existing_user_refusal(error):
                return self.get_user(user_id)
            raise

    def get_user(self, user_id: str) -> KaleyraUser:
        return self._call("get_user", lambda: self.engine.get_user(user_id), wire.parse_user)

    def update_user_role(self, *, user_id: str, role: Role) -> KaleyraUser:
        return self._call(
            "update_user_role",
            lambda: self.engine.update_user(user_id, wire.update_user_body(role)),
            wire.parse_user,
        )

    def deactivate_user(self, user_id: str) -> None:
        self._call(
            "deactivate_user",
            lambda: self.engine.update_user(user_id, wire.deactivate_user_body()),
            lambda payload: None,
        )

    def create_room(
        self,
        *,
        participants: Sequence[ParticipantSpec],
        duration: int | None,
        live: bool | None,
        description: str | None = None,
        recording: str = "none",
    ) -> Room:
        body = wire.create_room_body(participants, duration, live, description, recording)
        return self._call("create_room", lambda: self.engine.create_room(body), wire.parse_room)

    def get_room(self, room_id: str) -> Room:
        return self._call("get_room", lambda: self.engine.get_room(room_id), wire.parse_room)

    def delete_room(self, room_id: str) -> None:
        self._call("delete_room", lambda: self.engine.delete_room(room_id), lambda payload: None)

    def iter_rooms(self) -> Iterator[Room]:
        def fetch_page(offset: int) -> tuple[list[Room], bool]:
            query = {key: str(value) for key, value in wire.rooms_page_params(offset).items()}
            return self._call(
                "iter_rooms", lambda: self.engine.list_rooms(query), wire.parse_rooms_page
            )

        return walk_pages(fetch_page, operation="iter_rooms")

    def iter_room_uploads(self, room_id: str) -> Iterator[Upload]:
        def fetch_page(offset: int) -> tuple[list[Upload], bool]:
            query = {"room_id": room_id, "offset": str(offset), "limit": "100"}
            return self._call(
                "iter_room_uploads",
                lambda: self.engine.list_uploads(query),
                wire.parse_uploads_page,
            )

        return walk_pages(fetch_page, operation="iter_room_uploads")

    def delete_upload(self, key: str) -> None:
        self._call("delete_upload", lambda: self.engine.delete_upload(key), lambda payload: None)

    def iter_room_sessions(self, room_id: str) -> Iterator[RoomSession]:
        def fetch_page(offset: int) -> tuple[list[RoomSession], bool]:
            params = wire.sessions_page_params(room_id, offset)
            query = {key: str(value) for key, value in params.items()}
            return self._call(
                "iter_room_sessions",
                lambda: self.engine.list_sessions(query),
                wire.parse_sessions_page,
            )

        return walk_pages(fetch_page, operation="iter_room_sessions")

    def recording_link(self, session_id: str, *, expires_in: int) -> RecordingLink:
        check_recording_link_seconds(expires_in)
        query = {key: str(value) for key, value in wire.recording_link_params(expires_in).items()}
        return self._call(
            "recording_link",
            lambda: self.engine.get_recording(session_id, query),
            lambda payload: wire.parse_recording_link(payload, session_id),
        )

    def delete_recording(self, session_id: str) -> None:
        self._call(
            "delete_recording",
            lambda: self.engine.delete_recording(session_id),
            lambda payload: None,
        )

    def create_sdk_credentials(self, *, user_id: str, expires_in: int) -> SdkCredentials:
        check_expires_in(expires_in)
        body = wire.credentials_body(user_id, expires_in)
        return self._call(
            "create_sdk_credentials",
            lambda: self.engine.create_credentials(body),
            wire.parse_credentials,
        )

    def get_company(self) -> Company:
        return self._call("get_company", self.engine.get_company, wire.parse_company)

    def set_default_background(self, *, background_alias: str) -> Company:
        body = wire.set_default_background_body(background_alias)
        return self._call(
            "set_default_background", lambda: self.engine.update_company(body), wire.parse_company
        )

    def set_user_details_provider(self, *, url: str) -> Company:
        body = wire.set_user_details_provider_body(url)
        # Logged as set_default_background, which is what a PUT /v2/company is over HTTP.
        return self._call(
            "set_user_details_provider",
            lambda: self.engine.update_company(body),
            wire.parse_company,
            counted_as="set_default_background",
        )

    def upload_background(
        self, *, filename: str, content: bytes, content_type: str
    ) -> VirtualBackground:
        return self._call(
            "upload_background",
            lambda: self.engine.upload_background(
                filename=filename, content=content, content_type=content_type
            ),
            wire.parse_background,
        )

    def register_webhook(self, *, url: str, events: Iterable[str]) -> Webhook:
        body = wire.register_webhook_body(url, events)
        return self._call(
            "register_webhook", lambda: self.engine.register_webhook(body), wire.parse_webhook
        )

    def list_webhooks(self) -> list[Webhook]:
        def fetch_page(offset: int) -> tuple[list[Webhook], bool]:
            query = {key: str(value) for key, value in wire.webhooks_page_params(offset).items()}
            return self._call(
                "list_webhooks", lambda: self.engine.list_webhooks(query), wire.parse_webhooks_page
            )

        return list(walk_pages(fetch_page, operation="list_webhooks"))

    def delete_webhook(self, webhook_id: str) -> None:
        self._call(
            "delete_webhook", lambda: self.engine.delete_webhook(webhook_id), lambda payload: None
        )

    def ping(self) -> None:
        # Logged as get_company, which is what a ping is over HTTP; retried like a ping (never).
        self._call("ping", self.engine.get_company, lambda payload: None, counted_as="get_company")
