"""Serves the simulator's WSGI app: threaded wsgiref, for `manage.py kaleyra_simulator` and for
tests (`serve_in_thread`, on a free port). Connections are kept alive (HTTP/1.1), as Kaleyra's
are: a client's pool reuses them, and a benchmark does not pay a connection per call."""

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from common.loopback_server import LoopbackServer, running_in_thread
from kaleyra.simulator.engine import Engine
from kaleyra.simulator.webhook_sender import WebhookSender
from kaleyra.simulator.wsgi import SimulatorApp

logger = logging.getLogger("kaleyra.simulator")


KEEP_ALIVE_SECONDS = 75.0  # an idle connection is closed after this (clients close theirs first)
MAX_REQUESTS_PER_CONNECTION = 100_000


class _ResponseHandler(ServerHandler):
    http_version = "1.1"
    answered = False  # set once the whole answer is written (a simulated drop writes none)
    # wsgiref's own attributes, which typeshed leaves out: set by BaseHandler and by _Handler.
    headers_sent: bool
    request_handler: WSGIRequestHandler

    def close(self) -> None:
        self.answered = self.headers_sent
        super().close()


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = KEEP_ALIVE_SECONDS
    server: WSGIServer  # a SimulatorServer: the one server class this handler is made for
    # wsgiref writes the headers and the body apart: with Nagle's algorithm on a kept-alive
    # connection, the body waits for the client's delayed ACK (40 ms).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - wsgiref's signature
        logger.info("%s " + format, self.address_string(), *args)

    def handle(self) -> None:
        """Requests one after another on the connection, until the client closes it, asks to,
        goes quiet, or a fault drops it."""
        try:
            for _ in range(MAX_REQUESTS_PER_CONNECTION):
                if not self._handle_one() or self.close_connection:
                    return
        except (TimeoutError, ConnectionError):
            return

    def _handle_one(self) -> bool:
        """One request; False when the connection must close."""
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            return False
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return False
        if not self.parse_request():  # an error has been sent
            return False
        # The body is read whole first, so what the app leaves unread cannot run into the next
        # request on the connection.
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        handler = _ResponseHandler(
            io.BytesIO(body),
            self.wfile,  # type: ignore[arg-type]  # typeshed: BufferedIOBase is no IO[bytes]
            self.get_stderr(),
            self.get_environ(),
            multithread=False,
        )
        handler.request_handler = self  # for its access log line
        app = self.server.get_app()
        if app is None:  # make_simulator_server sets it before it serves
            raise RuntimeError("the simulator server has no application")
        handler.run(app)
        return handler.answered


class SimulatorServer(LoopbackServer):
    allow_reuse_address = True


def make_simulator_server(
    db_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str,
    timeout_delay: float = 2.0,
    latency: float = 0.0,
    webhooks: WebhookSender | None = None,
) -> SimulatorServer:
    """A bound server (port 0 picks a free one); its join links use its own base URL. OSError
    when the address cannot be bound (port in use, host not local)."""
    server = SimulatorServer((host, port), _Handler)
    # Without a sender of its own, events go only to the URLs registered through the API,
    # signed with the API key as Kaleyra signs with the company's [DOC].
    webhooks = webhooks or WebhookSender.fixed("", api_key)
    engine = Engine(db_path, link_base=server.base_url, webhooks=webhooks)
    app = SimulatorApp(engine, api_key=api_key, timeout_delay=timeout_delay, latency=latency)
    server.set_app(app)
    return server


@contextmanager
def serve_in_thread(
    db_path: str | Path,
    *,
    api_key: str,
    host: str = "127.0.0.1",
    timeout_delay: float = 2.0,
    webhooks: WebhookSender | None = None,
) -> Iterator[str]:
    """Runs the simulator on a free port in a daemon thread; yields its base URL."""
    server = make_simulator_server(
        db_path, host=host, api_key=api_key, timeout_delay=timeout_delay, webhooks=webhooks
    )
    with running_in_thread(server) as base_url:
        yield base_url
