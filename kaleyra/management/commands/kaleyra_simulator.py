"""`manage.py kaleyra_simulator`: runs the Kaleyra simulator as an HTTP server, for pointing this
service (KALEYRA_BACKEND=http) or any other Kaleyra v2 client at it during development; or, with
--delete-room / --recording-available / --end-session, plays what Kaleyra does on its own side,
and exits."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kaleyra.loopback import is_loopback_url
from kaleyra.simulator.handle import Simulator
from kaleyra.simulator.server import make_simulator_server
from kaleyra.simulator.webhook_sender import WebhookSender

DELIVERY_WAIT_SECONDS = 5.0


class Command(BaseCommand):
    help = "Serve the Kaleyra Video v2 simulator over HTTP (development and tests only)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8787)
        parser.add_argument("--api-key", default=None, help="apikey header clients must send")
        parser.add_argument("--db", default=None, help="state file (KALEYRA_SIMULATOR_DB)")
        parser.add_argument(
            "--latency-ms", type=int, default=0, help="added to every HTTP answer (benchmarks)"
        )
        parser.add_argument(
            "--webhook-url",
            default=None,
            help="loopback URL the simulator posts webhooks to (KALEYRA_SIMULATOR_WEBHOOK_URL)",
        )
        actions = parser.add_mutually_exclusive_group()
        actions.add_argument(
            "--delete-room",
            metavar="ROOM_ID",
            help="delete a room as Kaleyra would on its own (sends on_room_deleted), then exit",
        )
        actions.add_argument(
            "--recording-available",
            metavar="ROOM_ID",
            help="send on_recording_available for a session of the room, then exit",
        )
        actions.add_argument(
            "--end-session",
            metavar="ROOM_ID",
            help="end the session running in the room (a recording follows if it records); exit",
        )
        parser.add_argument("--session-id", default=None, help="with --recording-available")
        parser.add_argument(
            "--rate-limit",
            metavar="REQUESTS/SECONDS",
            default=None,
            help="answer 429 past REQUESTS calls of the API key in SECONDS ('off': no limit, the "
            "default); append ',no-retry-after' to leave out the Retry-After header",
        )

    def handle(self, *args, host, port, api_key, db, latency_ms, webhook_url, **options):
        api_key = api_key or settings.BANDYER_API_SECRET_KEY or settings.KALEYRA_SIMULATOR_API_KEY
        db_path = db or settings.KALEYRA_SIMULATOR_DB
        webhook_url = settings.KALEYRA_SIMULATOR_WEBHOOK_URL if webhook_url is None else webhook_url
        if webhook_url and not is_loopback_url(webhook_url):
            raise CommandError(f"--webhook-url must be a loopback URL, got {webhook_url!r}")
        if latency_ms < 0:
            raise CommandError("--latency-ms cannot be negative")
        # Kaleyra signs with the API key; a KALEYRA_WEBHOOK_KEY set here is what the service
        # verifies with, so it wins.
        webhook_key = settings.KALEYRA_WEBHOOK_KEY or api_key
        # Without --webhook-url, events still go to the URLs registered through the API.
        webhooks = WebhookSender.fixed(webhook_url or "", webhook_key)
        if options["rate_limit"] is not None:
            requests, per_seconds, retry_after = _rate_limit(options["rate_limit"])
            Simulator(db_path).set_rate_limit(
                requests, per_seconds=per_seconds, retry_after=retry_after
            )
        if options["delete_room"] or options["recording_available"] or options["end_session"]:
            self._act(Simulator(db_path, webhooks=webhooks), webhook_url, options)
            return
        try:
            server = make_simulator_server(
                db_path,
                host=host,
                port=port,
                api_key=api_key,
                timeout_delay=settings.KALEYRA_READ_TIMEOUT + 1.0,
                latency=latency_ms / 1000,
                webhooks=webhooks,
            )
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self.stdout.write(f"Kaleyra simulator on {server.base_url} (state: {db_path})")
        self.stdout.write(f"  BANDYER_BASE_URL={server.base_url}")
        self.stdout.write(f"  BANDYER_API_SECRET_KEY={api_key}")
        self.stdout.write("  KALEYRA_BACKEND=http")
        if latency_ms:
            self.stdout.write(f"  every answer delayed by {latency_ms} ms")
        if webhook_url:
            self.stdout.write(f"  webhooks to {webhook_url} while none is registered")
        if options["rate_limit"] not in (None, "off"):
            self.stdout.write(f"  rate limit {options['rate_limit']} per API key")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            server.server_close()

    def _act(self, simulator: Simulator, webhook_url: str, options) -> None:
        room_id = options["delete_room"] or options["recording_available"] or options["end_session"]
        if options["end_session"]:
            try:
                delivery = simulator.end_session(room_id)
            except LookupError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"Ended the session of room {room_id}.")
        elif options["delete_room"]:
            try:
                delivery = simulator.delete_room_on_kaleyra_side(room_id)
            except LookupError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"Deleted room {room_id} on the simulated Kaleyra side.")
        else:
            delivery = simulator.emit_recording_available(room_id, options["session_id"])
        if delivery is None:
            self.stdout.write(
                "No webhook sent (no recording to announce, no URL registered for the event, "
                "or no --webhook-url / KALEYRA_SIMULATOR_WEBHOOK_URL)."
            )
            return
        delivery.join(DELIVERY_WAIT_SECONDS)  # the thread is a daemon: let it finish first
        target = "the URLs registered for it" if simulator.registered_webhooks() else webhook_url
        self.stdout.write(f"Webhook posted to {target} (failures are logged).")


def _rate_limit(value: str) -> tuple[int | None, float, bool]:
    """`--rate-limit` as set_rate_limit's (requests, per_seconds, retry_after)."""
    if value == "off":
        return None, 60.0, True
    limit, _, flag = value.partition(",")
    requests, _, seconds = limit.partition("/")
    if flag not in ("", "no-retry-after") or not requests.isdigit() or int(requests) < 1:
        raise CommandError(
            f"--rate-limit must look like 300/60 or 300/60,no-retry-after: {value!r}"
        )
    try:
        per_seconds = float(seconds)
    except ValueError:
        raise CommandError(f"--rate-limit needs a window in seconds: {value!r}") from None
    if per_seconds <= 0:
        raise CommandError("--rate-limit needs a window over 0 seconds")
    return int(requests), per_seconds, flag != "no-retry-after"
