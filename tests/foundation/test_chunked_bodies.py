"""A body sent without Content-Length (`Transfer-Encoding: chunked`) is read, or refused with 411;
never read as empty. Over real sockets: Django's test client always sends a Content-Length."""

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.core.wsgi import get_wsgi_application

from scripts.fuzz import live_server

LIMIT = 4096
IDENTITY = {"miauserid": "doctor-1", "miausergroups": "doctor"}


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory) -> Iterator[str]:
    """The project under gunicorn, which decodes chunks and says so (`wsgi.input_terminated`)."""
    directory = tmp_path_factory.mktemp("gunicorn")
    with (
        open(directory / "server.log", "w+b") as server_log,
        live_server(directory, server_log, REQUEST_MAX_BODY_BYTES=str(LIMIT)) as url,
    ):
        yield url


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def wsgiref_server() -> Iterator[str]:
    """The project's WSGI application under wsgiref (as runserver), which cannot decode chunks."""
    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def post_chunked(base_url: str, path: str, chunks: list[bytes]) -> tuple[int, dict]:
    """POST `chunks` with Transfer-Encoding: chunked and no Content-Length."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        try:
            connection.request(
                "POST",
                path,
                body=iter(chunks),
                headers={"Content-Type": "application/json", **IDENTITY},
                encode_chunked=True,
            )
        except (BrokenPipeError, ConnectionResetError):
            pass  # a server that refuses the body may answer and close before it is all sent
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_a_chunked_body_is_read_under_gunicorn(gunicorn):
    status, error = post_chunked(gunicorn, "/credentials", [b'{"expires', b'In": 1}'])
    # Read as empty, the body would have asked for default credentials (201).
    assert status == 400
    assert error["message"] == (
        "Invalid request: expiresIn: Ensure this value is greater than or equal to 360."
    )


def test_a_chunked_body_is_refused_when_it_passes_the_size_limit(gunicorn):
    chunks = [b'{"expiresIn": 3600, "padding": "'] + [b"x" * 1024] * 4 + [b'"}']
    status, error = post_chunked(gunicorn, "/credentials", chunks)
    assert status == 413
    assert error == {
        "statusCode": 413,
        "error": "Request Entity Too Large",
        "message": f"The request body is over the limit of {LIMIT} bytes",
    }


def test_a_chunked_body_within_the_limit_reaches_the_view_whole(gunicorn):
    chunks = [b'{"expiresIn": 3600, "padding": "'] + [b"x" * 1024] * 3 + [b'"}']
    status, error = post_chunked(gunicorn, "/credentials", chunks)
    assert status == 400
    assert error["details"] == {"padding": ["Unknown field; allowed: expiresIn"]}


def test_a_chunked_body_is_a_411_where_the_server_cannot_decode_it():
    with wsgiref_server() as base_url:
        status, error = post_chunked(base_url, "/credentials", [b'{"expiresIn": 1}'])
    assert status == 411
    assert error == {
        "statusCode": 411,
        "error": "Length Required",
        "message": "A request body needs a Content-Length header; this server cannot read "
        "Transfer-Encoding: chunked",
    }
