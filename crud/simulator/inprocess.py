"""The simulator without sockets: a `requests` transport adapter that hands each request to the
simulator's WSGI app, mounted on the client's own session.

So a test (or `CRUD_SIMULATOR_DB` in development) runs the very code path production runs:
CrudClient builds the same URL, query string, headers and body, `requests` prepares them, and
only the last hop, the socket, is replaced by a function call.
"""

import io
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from crud.simulator.engine import Engine
from crud.simulator.store import Store
from crud.simulator.wsgi import CrudSimulatorApp


class WsgiAdapter(BaseAdapter):
    """Answers every request sent to the URL prefix it is mounted on with `app`."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        parts = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        environ = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(parts.path, "iso-8859-1"),  # as wsgiref decodes the path
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": parts.hostname or "crud-simulator",
            "SERVER_PORT": str(parts.port or 80),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": parts.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in request.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = value
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers

        content = b"".join(self.app(environ, start_response))
        response = requests.Response()
        response.status_code = int(answer["status"].split(" ", 1)[0])
        response.reason = answer["status"].split(" ", 1)[1]
        response.headers = CaseInsensitiveDict(answer["headers"])
        response._content = content
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        response.raw = io.BytesIO(content)
        return response

    def close(self) -> None:
        return None


def simulator_app(db_path: str | Path, *, user_id_header: str = "userid") -> CrudSimulatorApp:
    return CrudSimulatorApp(Engine(Store(db_path)), user_id_header=user_id_header)


def simulator_session(
    db_path: str | Path, *, base_url: str, user_id_header: str = "userid"
) -> requests.Session:
    """A session whose requests to `base_url` are answered by the simulator on `db_path`;
    requests to any other URL would go to the network, as with any session."""
    session = requests.Session()
    prefix = base_url.rstrip("/") + "/"
    session.mount(prefix, WsgiAdapter(simulator_app(db_path, user_id_header=user_id_header)))
    return session
