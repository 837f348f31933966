"""gunicorn's gthread worker, answering in the service's error shape even what gunicorn refuses
itself: a request it cannot parse (a NUL or an ESC in a header, a malformed request line) or one
past its limits (a header over `limit_request_field_size`, a URL over `limit_request_line`) never
reaches Django, and gunicorn would answer it with an HTML page.

gunicorn has no setting or hook for that page: its workers write it through one function,
`gunicorn.util.write_error`, which the worker replaces with `write_json_error` when it starts.
"""

import json

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """`gunicorn.util.write_error`'s answer (status, then `Connection: close`) with the JSON body
    of `teleconsultation_project.errors.error_body`."""
    body = json.dumps(
        {"statusCode": status_int, "error": reason, "message": mesg or reason}
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    util.write_nonblock(sock, head + body)


class JsonErrorWorker(ThreadWorker):
    def init_process(self) -> None:
        util.write_error = write_json_error
        super().init_process()
