"""`manage.py kaleyra_webhooks --register URL`: asks Kaleyra (or the configured simulator) to post
its webhooks to URL, the service's `POST /webhooks/kaleyra`; `--list` shows what is registered."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kaleyra import wire
from kaleyra.errors import KaleyraBadRequest, KaleyraError
from kaleyra.provider import get_video_provider
from kaleyra.retry import background_work

DEFAULT_EVENTS = ("on_room_deleted", "on_recording_available")
RECORDING_AVAILABLE = "on_recording_available"


def default_events() -> list[str]:
    """DEFAULT_EVENTS, but `on_recording_available` only when calls are recorded: with
    KALEYRA_RECORDING=none (a visit may still ask for recording: pass --event then)."""
    records = settings.KALEYRA_RECORDING != "none"
    return [event for event in DEFAULT_EVENTS if records or event != RECORDING_AVAILABLE]


class Command(BaseCommand):
    help = "Register this service's webhook URL with Kaleyra Video, or list the registered ones."

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--register", metavar="URL", help="where to post")
        action.add_argument("--list", action="store_true", help="show the registered webhooks")
        parser.add_argument(
            "--event",
            action="append",
            dest="events",
            help=f"an event to receive; repeatable (default: {', '.join(DEFAULT_EVENTS)}; "
            "on_recording_available only when KALEYRA_RECORDING is not none)",
        )

    def handle(self, *args, **options):
        if options["list"]:
            self._list()
        else:
            self._register(options["register"], options["events"] or default_events())

    def _register(self, url: str, events: list[str]) -> None:
        try:
            with background_work():
                webhook = get_video_provider().register_webhook(url=url, events=events)
        except KaleyraBadRequest as exc:
            # The body is our guess at an undocumented shape (wire.WEBHOOKS_PATH): show it, so a
            # refusal says which guess was wrong. It holds no secret, only the URL and events.
            sent = json.dumps(wire.register_webhook_body(url, events))
            raise CommandError(
                f"Kaleyra refused the registration ({exc}). Body sent: {sent}. "
                f"Kaleyra answered: {exc.body or '(empty)'}"
            ) from None
        except KaleyraError as exc:
            raise CommandError(f"Kaleyra refused or failed: {exc}") from None
        self.stdout.write(
            f"Registered webhook {webhook.id or '(no id returned)'} for {', '.join(events)} "
            f"to {url}"
        )

    def _list(self) -> None:
        try:
            with background_work():
                webhooks = get_video_provider().list_webhooks()
        except KaleyraError as exc:
            raise CommandError(f"Kaleyra refused or failed: {exc}") from None
        if not webhooks:
            self.stdout.write("No webhook is registered.")
        for webhook in webhooks:
            self.stdout.write(
                f"{webhook.id or '(no id)'}  {webhook.url or '(no url)'}  "
                f"{', '.join(webhook.events) or '(no events)'}"
            )
