"""What the rest of the project sees of the video provider: the `VideoProvider` protocol and the
configured backend (real HTTP client or the in-process simulator), built once and cached."""

from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import Protocol

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

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


class VideoProvider(Protocol):
    def create_user(self, *, user_id: str, role: Role) -> KaleyraUser: ...

    def get_user(self, user_id: str) -> KaleyraUser: ...

    def update_user_role(self, *, user_id: str, role: Role) -> KaleyraUser: ...

    def deactivate_user(self, user_id: str) -> None: ...

    def create_room(
        self,
        *,
        participants: Sequence[ParticipantSpec],
        duration: int | None,
        live: bool | None,
        description: str | None = None,
        recording: str = "none",
    ) -> Room: ...

    def get_room(self, room_id: str) -> Room: ...

    def delete_room(self, room_id: str) -> None: ...

    def iter_rooms(self) -> Iterator[Room]: ...

    def iter_room_uploads(self, room_id: str) -> Iterator[Upload]: ...

    def delete_upload(self, key: str) -> None: ...

    def iter_room_sessions(self, room_id: str) -> Iterator[RoomSession]: ...

    def recording_link(self, session_id: str, *, expires_in: int) -> RecordingLink: ...

    def delete_recording(self, session_id: str) -> None: ...

    def create_sdk_credentials(self, *, user_id: str, expires_in: int) -> SdkCredentials: ...

    def get_company(self) -> Company: ...

    def set_default_background(self, *, background_alias: str) -> Company: ...

    def set_user_details_provider(self, *, url: str) -> Company:
        """Where Kaleyra asks for display names (the company's `user_details_provider_url`)."""
        ...

    def upload_background(
        self, *, filename: str, content: bytes, content_type: str
    ) -> VirtualBackground: ...

    def register_webhook(self, *, url: str, events: Iterable[str]) -> Webhook: ...

    def list_webhooks(self) -> list[Webhook]: ...

    def delete_webhook(self, webhook_id: str) -> None: ...

    def ping(self) -> None: ...


# Calls a process makes at once beyond KALEYRA_POOL_SIZE (a support command's --concurrency).
_calls_at_once = 0


@cache
def get_video_provider() -> VideoProvider:
    """The backend named by KALEYRA_BACKEND (the system check refuses unknown values)."""
    if settings.KALEYRA_BACKEND == "simulator":
        from kaleyra.simulator.inprocess import InProcessSimulator

        return InProcessSimulator.from_settings()
    if settings.KALEYRA_BACKEND == "http":
        from kaleyra.client import KaleyraClient

        return KaleyraClient.from_settings(
            pool_size=max(settings.KALEYRA_POOL_SIZE, _calls_at_once)
        )
    raise ValueError(
        f"KALEYRA_BACKEND must be 'http' or 'simulator', not {settings.KALEYRA_BACKEND!r}"
    )


def reset_video_provider() -> None:
    get_video_provider.cache_clear()


def expect_calls_at_once(count: int) -> None:
    """This process is about to make up to `count` provider calls at once: the HTTP client's pool
    keeps a connection for each, rather than opening and discarding those beyond
    KALEYRA_POOL_SIZE ("Connection pool is full, discarding connection")."""
    global _calls_at_once
    if count > max(_calls_at_once, settings.KALEYRA_POOL_SIZE):
        _calls_at_once = count
        if settings.KALEYRA_BACKEND == "http":  # the simulator has no pool to widen
            reset_video_provider()


@receiver(setting_changed)
def _reset_on_setting_change(*, setting: str, **kwargs) -> None:
    # Tests change settings with pytest-django's `settings` fixture; the next call must see them.
    if setting.startswith(("KALEYRA_", "BANDYER_")) or setting == "DEBUG":
        reset_video_provider()
