"""`manage.py kaleyra_webhooks --register URL`: asks Kaleyra (or the configured simulator) to post
its webhooks to URL, the service's `POST /webhooks/kaleyra`."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kaleyra.errors import KaleyraError
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
    help = "Register this service's webhook URL with Kaleyra Video."

    def add_arguments(self, parser):
        parser.add_argument("--register", metavar="URL", required=True, help="where to post")
        parser.add_argument(
            "--event",
            action="append",
            dest="events",
            help=f"an event to receive; repeatable (default: {', '.join(DEFAULT_EVENTS)}; "
            "on_recording_available only when KALEYRA_RECORDING is not none)",
        )

    def handle(self, *args, register, events, **options):
        events = events or default_events()
        try:
            with background_work():
                webhook = get_video_provider().register_webhook(url=register, events=events)
        except KaleyraError as exc:
            raise CommandError(f"Kaleyra refused or failed: {exc}") from None
        self.stdout.write(
            f"Registered webhook {webhook.id or '(no id returned)'} for {', '.join(events)} "
            f"to {register}"
        )
