"""One request to the project's WSGI application, in-process: no HTTP, no server. Used by
the bench's in-process scripts and `scripts/trace_paths.py`."""

import io
import json
from datetime import datetime


def call_application(
    application, method: str, path: str, headers: dict, body: bytes = b""
) -> tuple[str, bytes]:
    """(status line, body) of one request; `path` may carry a query string."""
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        **headers,
    }
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = status

    chunks = application(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return answer["status"], content


def schedule_visit(
    application, people: list[tuple[str, str]], *, start: datetime, duration: int = 1800
) -> str:
    """The id of a visit scheduled through POST /teleconsultation as the back office; `people`
    are (external id, group) pairs, each named after its id."""
    payload = {
        "participants": {
            "number": len(people),
            "data": [{"userExternalId": u, "groups": [g], "fullName": u} for u, g in people],
        },
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_in_seconds": duration,
    }
    status, content = call_application(
        application,
        "POST",
        "/teleconsultation",
        {"HTTP_ISBACKOFFICE": "true"},
        json.dumps(payload).encode(),
    )
    if not status.startswith("201"):
        raise RuntimeError(f"POST /teleconsultation answered {status}: {content[:300]!r}")
    return json.loads(content)["roomId"]
