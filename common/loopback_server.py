"""The HTTP server of the bundled simulators (Kaleyra, CRUD Service): threaded wsgiref on a
local address, bound without a DNS lookup, and run in a daemon thread for tests."""

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from wsgiref.simple_server import WSGIServer


class LoopbackServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server with a thread per connection; it knows its own base URL."""

    daemon_threads = True  # a request still running (a simulated timeout) must not delay shutdown
    # socketserver listens with a backlog of 5: a client opening 25 connections at once (a visit's
    # new users) had the rest wait for the kernel to resend their SYN, a second or more.
    request_queue_size = 128

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can hang without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self._bound_to()
        self.setup_environ()

    @property
    def base_url(self) -> str:
        host, port = self._bound_to()
        return f"http://{host}:{port}"

    def _bound_to(self) -> tuple[str, int]:
        host, port = self.server_address[:2]
        if not isinstance(host, str):  # typeshed allows bytes; getsockname gives an IP as str
            raise TypeError(f"unexpected server address {self.server_address!r}")
        return host, port


@contextmanager
def running_in_thread(server: LoopbackServer) -> Iterator[str]:
    """Serves in a daemon thread and yields the base URL; then shuts the server down and closes
    its socket."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
