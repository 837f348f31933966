"""The simulator as a `VideoProvider`, without HTTP (KALEYRA_BACKEND=simulator).

It goes through the same wire bodies, parsers, error builder and retry policy as the HTTP client,
so code that works against it sees Kaleyra's refusals as the same KaleyraError subclasses.
"""

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from kaleyra import wire
from kaleyra.client import check_expires_in, is_existing_user_refusal
from kaleyra.errors import KaleyraBadRequest, KaleyraError, build_error
from kaleyra.retry import Retrier, RetryPolicy
from kaleyra.simulator.engine import Engine
from kaleyra.simulator.faults import Fault
from kaleyra.simulator.rules import Refusal, error_body
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


def _fault_error(operation: str, fault: Fault) -> KaleyraError:
    # A timeout is raised at once: an in-process caller gains nothing from really waiting.
    if fault.mode == "timeout":
        return build_error(operation, secret="", transport="timeout", detail="simulated timeout")
    if fault.mode == "drop":
        return build_error(operation, secret="", transport="unavailable", detail="simulated drop")
    status = int(fault.mode)
    return build_error(
        operation,
        secret="",
        status=status,
        body=error_body(status, "simulated fault"),
        retry_after=str(fault.retry_after) if status == 429 else None,
    )


class InProcessSimulator:
    def __init__(self, engine: Engine, retrier: Retrier):
        self.engine = engine
        self._retrier = retrier

    @classmethod
    def from_settings(cls) -> "InProcessSimulator":
        from django.conf import settings

        engine = Engine(
            settings.KALEYRA_SIMULATOR_DB, link_base=settings.KALEYRA_SIMULATOR_PUBLIC_URL
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
            fault = self.engine.enter(counted_as or operation)
            if fault is not None:
                raise _fault_error(operation, fault)
            try:
                payload = run()
            except Refusal as refusal:
                body = error_body(refusal.status, refusal.message)
                raise build_error(operation, secret="", status=refusal.status, body=body) from None
            return parse(payload)

        return self._retrier.call(attempt, operation=operation)

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

    def create_room(
        self, *, participants: Sequence[ParticipantSpec], duration: int | None, live: bool
    ) -> Room:
        body = wire.create_room_body(participants, duration, live)
        return self._call("create_room", lambda: self.engine.create_room(body), wire.parse_room)

    def get_room(self, room_id: str) -> Room:
        return self._call("get_room", lambda: self.engine.get_room(room_id), wire.parse_room)

    def delete_room(self, room_id: str) -> None:
        self._call("delete_room", lambda: self.engine.delete_room(room_id), lambda payload: None)

    def iter_room_uploads(self, room_id: str) -> Iterator[Upload]:
        offset = 0
        while True:
            query = {"room_id": room_id, "offset": str(offset), "limit": "100"}
            uploads, has_more = self._call(
                "iter_room_uploads",
                lambda query=query: self.engine.list_uploads(query),
                wire.parse_uploads_page,
            )
            yield from uploads
            if not has_more or not uploads:
                return
            offset += len(uploads)

    def delete_upload(self, key: str) -> None:
        self._call("delete_upload", lambda: self.engine.delete_upload(key), lambda payload: None)

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

    def ping(self) -> None:
        # Logged as get_company, which is what a ping is over HTTP; retried like a ping (never).
        self._call("ping", self.engine.get_company, lambda payload: None, counted_as="get_company")
