"""Serves the simulator's WSGI app: threaded wsgiref, for `manage.py kaleyra_simulator` and for
tests (`serve_in_thread`, on a free port)."""

import logging
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from kaleyra.simulator.engine import Engine
from kaleyra.simulator.webhook_sender import WebhookSender
from kaleyra.simulator.wsgi import SimulatorApp

logger = logging.getLogger("kaleyra.simulator")

DEFAULT_API_KEY = "simulator-key"


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - wsgiref's signature
        logger.info("%s " + format, self.address_string(), *args)


class SimulatorServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a request sleeping in a "timeout" fault must not delay shutdown
    allow_reuse_address = True

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
    db_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str = DEFAULT_API_KEY,
    timeout_delay: float = 2.0,
    latency: float = 0.0,
    webhooks: WebhookSender | None = None,
) -> SimulatorServer:
    """A bound server (port 0 picks a free one); its join links use its own base URL. OSError
    when the address cannot be bound (port in use, host not local)."""
    server = SimulatorServer((host, port), _Handler)
    engine = Engine(db_path, link_base=server.base_url, webhooks=webhooks)
    app = SimulatorApp(engine, api_key=api_key, timeout_delay=timeout_delay, latency=latency)
    server.set_app(app)
    return server


@contextmanager
def serve_in_thread(
    db_path: str | Path,
    *,
    api_key: str = DEFAULT_API_KEY,
    host: str = "127.0.0.1",
    timeout_delay: float = 2.0,
    webhooks: WebhookSender | None = None,
) -> Iterator[str]:
    """Runs the simulator on a free port in a daemon thread; yields its base URL."""
    server = make_simulator_server(
        db_path, host=host, api_key=api_key, timeout_delay=timeout_delay, webhooks=webhooks
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
