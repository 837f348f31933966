"""`manage.py kaleyra_simulator`: runs the Kaleyra simulator as an HTTP server, for pointing this
service (KALEYRA_BACKEND=http) or any other Kaleyra v2 client at it during development."""

from django.conf import settings
from django.core.management.base import BaseCommand

from kaleyra.simulator.server import DEFAULT_API_KEY, make_simulator_server


class Command(BaseCommand):
    help = "Serve the Kaleyra Video v2 simulator over HTTP (development and tests only)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8787)
        parser.add_argument("--api-key", default=None, help="apikey header clients must send")
        parser.add_argument("--db", default=None, help="state file (KALEYRA_SIMULATOR_DB)")

    def handle(self, *args, host, port, api_key, db, **options):
        api_key = api_key or settings.BANDYER_API_SECRET_KEY or DEFAULT_API_KEY
        db_path = db or settings.KALEYRA_SIMULATOR_DB
        server = make_simulator_server(
            db_path,
            host=host,
            port=port,
            api_key=api_key,
            timeout_delay=settings.KALEYRA_READ_TIMEOUT + 1.0,
        )
        self.stdout.write(f"Kaleyra simulator on {server.base_url} (state: {db_path})")
        self.stdout.write(f"  BANDYER_BASE_URL={server.base_url}")
        self.stdout.write(f"  BANDYER_API_SECRET_KEY={api_key}")
        self.stdout.write("  KALEYRA_BACKEND=http")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            server.server_close()
