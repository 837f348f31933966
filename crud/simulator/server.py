"""Serves the simulator's WSGI app over HTTP: threaded wsgiref, for `manage.py crud_simulator`
and for tests (`serve_in_thread`, on a free loopback port)."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler

from common.loopback_server import LoopbackServer, running_in_thread
from crud.simulator.inprocess import simulator_app

logger = logging.getLogger("crud.simulator")


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - wsgiref's signature
        # The request line holds `_q`, which can hold personal data: method and path only.
        logger.debug("%s %s", self.command, self.path.split("?", 1)[0])


class SimulatorServer(LoopbackServer):
    allow_reuse_address = False  # a busy port is an error, not a second server on it
    request_queue_size = 128  # socketserver's 5 drops connections when many clients start at once


def make_simulator_server(
    db_path: str | Path, *, host: str = "127.0.0.1", port: int = 0, user_id_header: str = "userid"
) -> SimulatorServer:
    """A bound server (port 0 picks a free one). OSError when the port is taken."""
    server = SimulatorServer((host, port), _Handler)
    server.set_app(simulator_app(db_path, user_id_header=user_id_header))
    return server


@contextmanager
def serve_in_thread(
    db_path: str | Path, *, host: str = "127.0.0.1", user_id_header: str = "userid"
) -> Iterator[str]:
    """Runs the simulator on a free port in a daemon thread; yields its base URL."""
    server = make_simulator_server(db_path, host=host, user_id_header=user_id_header)
    with running_in_thread(server) as base_url:
        yield base_url
