"""pytest fixtures for code that talks to Kaleyra: register with
`pytest_plugins = ["kaleyra.simulator.pytest_plugin"]` in the top-level conftest.

- `simulator`: KALEYRA_BACKEND=simulator on a fresh state file; yields the `Simulator` handle.
- `simulator_http`: the simulator served over HTTP on a free port, KALEYRA_BACKEND=http pointed
  at it (real client, real sockets, small timeouts); yields the handle.
- `simulator_webhooks`: a loopback server that receives the simulator's webhooks, with
  KALEYRA_SIMULATOR_WEBHOOK_URL pointed at it; yields its `WebhookInbox`.

The first two shrink the retry waits so injected faults cost milliseconds, not seconds. Both
simulators send webhooks to KALEYRA_SIMULATOR_WEBHOOK_URL as it is when the event happens.
"""

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kaleyra.provider import reset_video_provider
from kaleyra.simulator.handle import Simulator
from kaleyra.simulator.server import serve_in_thread
from kaleyra.simulator.webhook_sender import WebhookSender
from kaleyra.webhooks import SIGNATURE_HEADER

HTTP_API_KEY = "ak_simulator_test"
HTTP_READ_TIMEOUT = 0.3
HTTP_TIMEOUT_FAULT_DELAY = 0.6  # longer than the read timeout, so a "timeout" fault times out
WEBHOOK_WAIT_SECONDS = 5.0
WEBHOOK_RETRY_BACKOFF = 0.01  # a refused delivery is tried again in milliseconds, not seconds


def _fast_retries(settings, budget: float) -> None:
    settings.KALEYRA_RETRY_BACKOFF_SECONDS = 0.001
    # The budget also caps waits on Retry-After (fail_next(..., retry_after=0) waits not at all).
    settings.KALEYRA_RETRY_MAX_SECONDS = budget


@pytest.fixture
def simulator(settings, tmp_path):
    db_path = tmp_path / "kaleyra-simulator.sqlite3"
    settings.KALEYRA_SIMULATOR_DB = str(db_path)
    settings.KALEYRA_BACKEND = "simulator"
    _fast_retries(settings, budget=0.2)
    reset_video_provider()
    yield Simulator(
        db_path,
        link_base=settings.KALEYRA_SIMULATOR_PUBLIC_URL,
        webhooks=WebhookSender.from_settings(backoff=WEBHOOK_RETRY_BACKOFF),
    )
    reset_video_provider()


@pytest.fixture
def simulator_http(settings, tmp_path):
    db_path = tmp_path / "kaleyra-simulator-http.sqlite3"
    webhooks = WebhookSender.from_settings(backoff=WEBHOOK_RETRY_BACKOFF)
    with serve_in_thread(
        db_path,
        api_key=HTTP_API_KEY,
        timeout_delay=HTTP_TIMEOUT_FAULT_DELAY,
        webhooks=webhooks,
    ) as base_url:
        settings.KALEYRA_SIMULATOR_DB = str(db_path)
        settings.KALEYRA_BACKEND = "http"
        settings.BANDYER_BASE_URL = base_url
        settings.BANDYER_API_SECRET_KEY = HTTP_API_KEY
        settings.KALEYRA_CONNECT_TIMEOUT = 1.0
        settings.KALEYRA_READ_TIMEOUT = HTTP_READ_TIMEOUT
        _fast_retries(settings, budget=1.0)  # room for one read timeout and a retry
        reset_video_provider()
        yield Simulator(db_path, link_base=base_url, webhooks=webhooks)
    reset_video_provider()


@dataclass(frozen=True)
class ReceivedWebhook:
    path: str
    signature: str | None  # the bandyer-signature header
    body: bytes


class WebhookInbox:
    """What the loopback receiver got, in arrival order; it answers `status` (200 by default),
    after answering 500 to the first `fail_first(n)` posts."""

    def __init__(self) -> None:
        self.url = ""
        self.status = 200
        self._failures_left = 0
        self._received: list[ReceivedWebhook] = []
        self._arrived = threading.Condition()

    def fail_first(self, count: int) -> None:
        with self._arrived:
            self._failures_left = count

    def add(self, webhook: ReceivedWebhook) -> int:
        """Keeps `webhook`; the status to answer it with."""
        with self._arrived:
            self._received.append(webhook)
            self._arrived.notify_all()
            if self._failures_left:
                self._failures_left -= 1
                return 500
            return self.status

    def wait_for(self, count: int, timeout: float = WEBHOOK_WAIT_SECONDS) -> list[ReceivedWebhook]:
        """The webhooks received once there are `count` of them; AssertionError after `timeout`
        seconds without them (deliveries run in background threads)."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self._received) >= count, timeout)
            if not arrived:
                raise AssertionError(f"expected {count} webhooks, got {len(self._received)}")
            return list(self._received)

    @property
    def received(self) -> list[ReceivedWebhook]:
        with self._arrived:
            return list(self._received)


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can hang without DNS.
        socketserver.TCPServer.server_bind(self)


def _receiver(inbox: WebhookInbox) -> type[BaseHTTPRequestHandler]:
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            webhook = ReceivedWebhook(self.path, self.headers.get(SIGNATURE_HEADER), body)
            self.send_response(inbox.add(webhook))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Receiver


@contextmanager
def webhook_receiver() -> Iterator[WebhookInbox]:
    """A loopback server receiving webhooks at `<inbox.url>` while the block runs."""
    inbox = WebhookInbox()
    server = _ReceiverServer(("127.0.0.1", 0), _receiver(inbox))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    inbox.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/kaleyra"
    try:
        yield inbox
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def simulator_webhooks(settings):
    with webhook_receiver() as inbox:
        settings.KALEYRA_SIMULATOR_WEBHOOK_URL = inbox.url
        yield inbox
