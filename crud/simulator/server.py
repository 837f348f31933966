"""Serves the simulator's WSGI app over HTTP: threaded wsgiref, for `manage.py crud_simulator`
and for tests (`serve_in_thread`, on a free loopback port)."""

import logging
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from crud.simulator.inprocess import simulator_app

logger = logging.getLogger("crud.simulator")


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - wsgiref's signature
        # The request line holds `_q`, which can hold personal data: method and path only.
        logger.debug("%s %s", self.command, self.path.split("?", 1)[0])


class SimulatorServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a request still running must not delay shutdown
    allow_reuse_address = False  # a busy port is an error, not a second server on it
    request_queue_size = 128  # socketserver's 5 drops connections when many clients start at once

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can hang without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = host, port
        self.setup_environ()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


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
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
