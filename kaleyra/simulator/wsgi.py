"""The simulator over HTTP: a WSGI app speaking the v2 wire format the client expects.

Routes map to the provider's operation names, so the call log and fault injection use the same
names in-process and over HTTP. Injected faults are played as HTTP would show them: a 500, a 429
with or without Retry-After, an answer slower than the client's read timeout, or a connection
closed with no answer at all; the "_after" faults first do the operation. `latency` delays every
answer, for benchmarks.
"""

import email.parser
import email.policy
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from kaleyra import wire
from kaleyra.simulator.engine import Engine
from kaleyra.simulator.faults import Fault
from kaleyra.simulator.join import join_page
from kaleyra.simulator.rules import Refusal, bad_request, error_body
from kaleyra.simulator.sessions import RECORDING_CONTENT_TYPE

logger = logging.getLogger("kaleyra.simulator")

MAX_BODY_BYTES = 32 * 1024 * 1024
Answer = tuple[int, Any]


class Request:
    def __init__(self, environ: dict[str, Any]):
        self.environ = environ
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            raise Refusal(413, "request body too large")
        self.body = environ["wsgi.input"].read(length) if length else b""
        self.query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise bad_request("the body is not valid JSON") from exc

    def file(self, field: str) -> tuple[str, bytes, str]:
        """(filename, content, content type) of multipart field `field`."""
        content_type = self.environ.get("CONTENT_TYPE", "")
        head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
        parser = email.parser.BytesParser(policy=email.policy.HTTP)
        message = parser.parsebytes(head + self.body)
        if message.is_multipart():
            for part in message.iter_parts():
                if part.get_param("name", header="content-disposition") == field:
                    payload = part.get_payload(decode=True)  # bytes, or None for no content
                    content = payload if isinstance(payload, bytes) else b""
                    return part.get_filename() or "", content, part.get_content_type()
        raise bad_request(f"multipart field {field!r} is missing")


def _routes(engine: Engine) -> list[tuple[str, re.Pattern, str, Callable[..., Answer]]]:
    def background(request: Request) -> Answer:
        filename, content, content_type = request.file(wire.BACKGROUND_FIELD)
        return 201, engine.upload_background(
            filename=filename, content=content, content_type=content_type
        )

    def delete_room(request: Request, room_id: str) -> Answer:
        engine.delete_room(room_id)
        return 204, None

    def delete_upload(request: Request, key: str) -> Answer:
        engine.delete_upload(key)
        return 204, None

    def delete_recording(request: Request, session_id: str) -> Answer:
        engine.delete_recording(session_id)
        return 204, None

    def delete_webhook(request: Request, webhook_id: str) -> Answer:
        engine.delete_webhook(webhook_id)
        return 204, None

    table: list[tuple[str, str, str, Callable[..., Answer]]] = [
        ("POST", r"/v2/users", "create_user", lambda r: (201, engine.create_user(r.json()))),
        ("GET", r"/v2/users/([^/]+)", "get_user", lambda r, i: (200, engine.get_user(i))),
        (
            "PUT",
            r"/v2/users/([^/]+)",
            "update_user_role",
            lambda r, i: (200, engine.update_user(i, r.json())),
        ),
        ("POST", r"/v2/rooms", "create_room", lambda r: (201, engine.create_room(r.json()))),
        ("GET", wire.ROOMS_PATH, "iter_rooms", lambda r: (200, engine.list_rooms(r.query))),
        ("GET", r"/v2/rooms/([^/]+)", "get_room", lambda r, i: (200, engine.get_room(i))),
        ("DELETE", r"/v2/rooms/([^/]+)", "delete_room", delete_room),
        ("GET", r"/v2/uploads", "iter_room_uploads", lambda r: (200, engine.list_uploads(r.query))),
        ("DELETE", r"/v2/uploads/(.+)", "delete_upload", delete_upload),
        (
            "POST",
            r"/v2/sdk/credentials",
            "create_sdk_credentials",
            lambda r: (200, engine.create_credentials(r.json())),
        ),
        ("GET", r"/v2/company", "get_company", lambda r: (200, engine.get_company())),
        (
            "PUT",
            r"/v2/company",
            "set_default_background",
            lambda r: (200, engine.update_company(r.json())),
        ),
        ("POST", wire.BACKGROUND_UPLOAD_PATH, "upload_background", background),
        (
            "POST",
            wire.WEBHOOKS_PATH,
            "register_webhook",
            lambda r: (201, engine.register_webhook(r.json())),
        ),
        (
            "GET",
            wire.WEBHOOKS_PATH,
            "list_webhooks",
            lambda r: (200, engine.list_webhooks(r.query)),
        ),
        ("DELETE", wire.WEBHOOKS_PATH + r"/([^/]+)", "delete_webhook", delete_webhook),
        # UNCLEAR upstream (3P kaleyra-laravel): the sessions and recordings paths.
        (
            "GET",
            r"/v2/sessions",
            "iter_room_sessions",
            lambda r: (200, engine.list_sessions(r.query)),
        ),
        (
            "GET",
            r"/v2/sessions/([^/]+)/recording",
            "recording_link",
            lambda r, i: (200, engine.get_recording(i, r.query)),
        ),
        (
            "DELETE",
            r"/v2/sessions/([^/]+)/recording",
            "delete_recording",
            delete_recording,
        ),
    ]
    return [(method, re.compile(pattern), op, handler) for method, pattern, op, handler in table]


class SimulatorApp:
    def __init__(
        self,
        engine: Engine,
        *,
        api_key: str,
        timeout_delay: float,
        latency: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.engine = engine
        self.api_key = api_key
        self.timeout_delay = timeout_delay
        self.latency = latency
        self.sleep = sleep
        self.routes = _routes(engine)

    def __call__(self, environ: dict[str, Any], start_response) -> Iterable[bytes]:
        if self.latency:
            self.sleep(self.latency)
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if path.startswith(("/join/", "/recordings/")):
            return self._page(method, path, environ, start_response)
        try:
            status, payload, headers = self._answer(method, path, environ)
        except Refusal as refusal:
            status, payload = refusal.status, error_body(refusal.status, refusal.message)
            headers = []
        body = b"" if payload is None else payload.encode()
        return self._send(start_response, status, body, "application/json", headers)

    def _page(self, method: str, path: str, environ: dict[str, Any], start_response):
        """The pages a browser opens: join links (GET joins, POST presses a button) and
        recording links (GET)."""
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if method not in ("GET", "POST") or (method == "POST" and path.startswith("/rec")):
            return self._send(start_response, 405, b"", "text/plain")
        if path.startswith("/recordings/"):
            token, expires = path[len("/recordings/") :], (query.get("expires") or [None])[0]
            status, content = self.engine.recording_file(token, expires)
            content_type = RECORDING_CONTENT_TYPE if status == 200 else "text/plain; charset=utf-8"
            return self._send(start_response, status, content, content_type)
        try:
            body = Request(environ).body
        except Refusal as refusal:
            return self._send(start_response, refusal.status, b"", "text/plain")
        status, html = join_page(
            self.engine,
            path[len("/join/") :],
            method=method,
            query=query,
            form=parse_qs(body.decode("utf-8", "replace")),
        )
        return self._send(start_response, status, html.encode(), "text/html; charset=utf-8")

    def _route(self, method: str, path: str) -> tuple[str, Callable[..., Answer], tuple]:
        path_known = False
        for route_method, pattern, operation, handler in self.routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                return operation, handler, match.groups()
            path_known = path_known or match is not None
        if path_known:
            raise Refusal(405, f"{method} is not allowed on {path}")
        raise Refusal(404, f"no route for {method} {path}")

    def _answer(self, method: str, path: str, environ: dict[str, Any]):
        operation, handler, arguments = self._route(method, path)
        if environ.get("HTTP_APIKEY") != self.api_key:
            raise Refusal(401, "missing or wrong apikey")
        request = Request(environ)
        fault = self.engine.enter(operation, api_key=self.api_key)
        if fault is not None and not fault.acts_first:
            return self._play(fault)
        try:
            status, payload = handler(request, *arguments)
        except Refusal:
            if fault is None:
                raise
        if fault is not None:
            return self._play(fault)  # done, but the client never gets to know
        return status, None if payload is None else json.dumps(payload), []

    def _play(self, fault: Fault):
        mode = fault.answer_lost_as
        if mode == "drop":
            # wsgiref treats this as the client going away: it closes without writing anything.
            raise ConnectionAbortedError("simulated dropped connection")
        if mode == "timeout":
            self.sleep(self.timeout_delay if fault.delay is None else fault.delay)
            return 504, error_body(504, "simulated timeout"), []
        if mode == "429":
            if fault.retry_after is None:
                return 429, error_body(429, "rate limit exceeded"), []
            retry_after = f"{fault.retry_after:g}"
            return 429, error_body(429, "rate limit exceeded"), [("Retry-After", retry_after)]
        return 500, error_body(500, "simulated fault"), []

    def _send(self, start_response, status: int, body: bytes, content_type: str, headers=()):
        phrase = HTTPStatus(status).phrase
        all_headers = [("Content-Length", str(len(body)))]
        if body:
            all_headers.append(("Content-Type", content_type))
        start_response(f"{status} {phrase}", all_headers + list(headers))
        return [body]
