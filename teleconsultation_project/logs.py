"""JSON-lines logging with the request id, and a filter that keeps secrets out of the logs.

Every line carries the request id of the request being served (set by RequestIdMiddleware), so a
support engineer can follow one request across lines. API keys and access links never reach a
log line: the redaction filter removes the configured key and anything shaped like a join link.
"""

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

from django.conf import settings

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

# Join links: Kaleyra's `.../rest-call-handler/<token>` (and direct- variant) and the simulator's
# `/join/<token>`; the token is what grants access, so it is what must not be written.
LINK_PATTERN = re.compile(r"(rest-call-handler|/join)/[^\s\"'?&#]+")
TOKEN_PATTERN = re.compile(r"(eyJ[\w-]+\.[\w-]+\.)[\w-]+")


def redact(text: str) -> str:
    key = getattr(settings, "BANDYER_API_SECRET_KEY", "") if settings.configured else ""
    if key and len(key) >= 4:
        text = text.replace(key, "[redacted-api-key]")
    text = LINK_PATTERN.sub(r"\1/[redacted]", text)
    return TOKEN_PATTERN.sub(r"\1[redacted]", text)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a failed response after the middleware has returned; its record carries
        # the request, which carries the id.
        request = getattr(record, "request", None)
        record.request_id = request_id_var.get() or getattr(request, "request_id", None)
        return True


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "operation", "teleconsultation")


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        line.update({key: getattr(record, key) for key in EXTRA_FIELDS if hasattr(record, key)})
        if record.exc_text or record.exc_info:
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(line, default=str)
