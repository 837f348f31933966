"""`manage.py crud_simulator`: runs the CRUD Service simulator as an HTTP server, for pointing this
service (CRUD_SERVICE_URL) or any other crud-service client at it during development."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crud.simulator.engine import Engine
from crud.simulator.rules import STATES
from crud.simulator.server import make_simulator_server
from crud.simulator.store import Store

DEFAULT_DB = Path("var") / "crud-simulator.sqlite3"  # under BASE_DIR


def _unique_index(value: str) -> tuple[str, tuple[str, ...]]:
    name, _, fields = value.partition(":")
    if not name or not fields:
        raise ValueError(value)
    return name, tuple(fields.split("+"))


def _default_state(value: str) -> tuple[str, str]:
    name, _, state = value.partition(":")
    if not name or state not in STATES:
        raise ValueError(value)
    return name, state


class Command(BaseCommand):
    help = "Serve the Mia-Platform CRUD Service simulator over HTTP (development and tests only)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=3000)
        parser.add_argument("--db", default=None, help="state file (default CRUD_SIMULATOR_DB)")
        parser.add_argument(
            "--unique",
            action="append",
            default=[],
            type=_unique_index,
            metavar="COLLECTION:FIELD[+FIELD]",
            help="a unique index, e.g. users:receivedUserId (repeatable)",
        )
        parser.add_argument(
            "--default-state",
            action="append",
            default=[],
            type=_default_state,
            metavar="COLLECTION:STATE",
            help="__STATE__ given to inserted documents that name none (default DRAFT)",
        )

    def handle(self, *args, host, port, db, unique, default_state, **options):
        db_path = db or settings.CRUD_SIMULATOR_DB or str(Path(settings.BASE_DIR) / DEFAULT_DB)
        header = settings.CRUD_USER_ID_HEADER
        engine = Engine(Store(db_path))
        states = dict(default_state)
        indexes: dict[str, list[tuple[str, ...]]] = {}
        for name, fields in unique:
            indexes.setdefault(name, []).append(fields)
        try:
            for name in sorted(indexes.keys() | states.keys()):
                engine.configure(
                    name, default_state=states.get(name, "DRAFT"), unique=indexes.get(name, [])
                )
            server = make_simulator_server(db_path, host=host, port=port, user_id_header=header)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self.stdout.write(f"CRUD Service simulator on {server.base_url} (state: {db_path})")
        self.stdout.write(f"  CRUD_SERVICE_URL={server.base_url}")
        self.stdout.write(f"  CRUD_USER_ID_HEADER={header}")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            server.server_close()
