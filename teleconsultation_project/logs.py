"""One JSON log format for the service, gunicorn and management commands, with no secret in it.

Every line is one JSON object (python-json-logger) with `time`, `level`, `logger`, `message`,
`request_id` and whatever `extra` the caller gave. The request id of the request being served lives
in `request_id_var` (common/request_ids.py), so code that calls other services (Kaleyra, the user
directory) can send it along. With tracing on (teleconsultation_project/tracing.py), a line written
inside a span also has its `trace_id` and `span_id`, as OpenTelemetry writes them (32 and 16 hex
digits), to find the trace of a line and the lines of a trace. API keys, join-link tokens and JWTs
are redacted from every field of a line.
"""

import logging
import logging.config
import re
from datetime import UTC, datetime

from django.conf import settings
from opentelemetry import trace
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

# The variable lives at the bottom (common/), where the clients of Kaleyra and the CRUD Service
# can import it; this is its project-level name, which rooms/ imports.
from common.request_ids import request_id_var

# Join links: Kaleyra's `.../rest-call-handler/<token>` (and direct- variant) and the simulator's
# `/join/<token>`; the token is what grants access, so it is what must not be written. So is a
# calendar feed's secret, `/calendar/<secret>.ics` (access lines name the path).
LINK_PATTERN = re.compile(r"(rest-call-handler|/join|/calendar)/[^\s\"'?&#]+")
TOKEN_PATTERN = re.compile(r"(eyJ[\w-]+\.[\w-]+\.)[\w-]+")

TRACE_RESPONSE = re.compile(r"00-(?P<trace_id>[0-9a-f]{32})-(?P<span_id>[0-9a-f]{16})-[0-9a-f]{2}")

# Paths whose requests are never logged: probes and scrapes come every few seconds.
QUIET_PATHS = frozenset({"/-/healthz", "/-/ready", "/-/check-up", "/-/metrics"})


def redact(text: str, key: str | None = None) -> str:
    """`text` without the Kaleyra API key (`key`, read from the settings when not given), join
    link tokens, calendar feed secrets or JWTs. Each pattern is looked for only when its fixed
    part (`rest-call-handler/`, `/join/`, `/calendar/`; `eyJ`) is in the text: a line has a
    handful of fields, and most hold none of them."""
    if key is None:
        key = _api_key()
    if key and len(key) >= 4:
        text = text.replace(key, "[redacted-api-key]")
    if "rest-call-handler/" in text or "/join/" in text or "/calendar/" in text:
        text = LINK_PATTERN.sub(r"\1/[redacted]", text)
    if "eyJ" in text:
        text = TOKEN_PATTERN.sub(r"\1[redacted]", text)
    return text


def _api_key() -> str:
    return getattr(settings, "BANDYER_API_SECRET_KEY", "") if settings.configured else ""


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            # Django logs a failed response after the middleware has returned; its record
            # carries the request, which carries the id.
            request = getattr(record, "request", None)
            record.request_id = request_id_var.get() or getattr(request, "request_id", None)
        span = trace.get_current_span().get_span_context()
        if span.is_valid and getattr(record, "trace_id", None) is None:
            record.trace_id = trace.format_trace_id(span.trace_id)
            record.span_id = trace.format_span_id(span.span_id)
        return True


class OneLineWarningFilter(logging.Filter):
    """Makes a record one WARNING line without its traceback.

    For what Django logs as an ERROR with a traceback although the client caused it: a request
    for a Host the service does not serve (`django.security.DisallowedHost`). The message names
    the host; the traceback only shows where Django checks it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info = record.exc_text = None
        return True


class JsonLineFormatter(JsonFormatter):
    """`{"time", "level", "logger", "message", "request_id", ...extra}`, secrets redacted."""

    # Django's `request` (its repr carries the query string) and runserver's `server_time` are
    # context for other handlers, not fields of a line.
    NOT_FIELDS = (*RESERVED_ATTRS, "request", "server_time", "taskName")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "exc_info": "exception",
            },
            reserved_attrs=self.NOT_FIELDS,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def process_log_record(self, log_data: dict) -> dict:
        api_key = _api_key()
        return {
            key: redact(value, api_key) if isinstance(value, str) else value
            for key, value in log_data.items()
        }


def configure_logging(config: dict) -> None:
    """Django's `LOGGING_CONFIG`: the `LOGGING` dictionary, then Python's warnings as log lines.

    Django configures logging in `django.setup()`, before it loads the apps and the middleware,
    under runserver, gunicorn and every command alike: from then on a warning (whitenoise's "No
    directory at" when collectstatic has not run) is a JSON line, not raw text on stderr.
    """
    logging.config.dictConfig(config)
    logging.captureWarnings(True)


class GunicornAccessFilter(logging.Filter):
    """Turns gunicorn's access record into fields; drops the lines of probes and scrapes."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if not isinstance(atoms, dict):
            return True
        path = atoms.get("U") or "-"
        if path in QUIET_PATHS:
            return False
        method, status = atoms.get("m") or "-", atoms.get("s")
        record.msg, record.args = f"{method} {path} {status}", None
        record.method, record.path = method, path
        record.status = int(status) if status is not None and str(status).isdigit() else status
        record.duration_ms = round(atoms.get("D", 0) / 1000, 1)
        record.bytes = atoms.get("B")
        record.remote_addr = atoms.get("h")
        record.user_agent = atoms.get("a")
        request_id = atoms.get("{x-request-id}o")
        record.request_id = None if request_id in (None, "-") else request_id
        # With tracing on, the response's `traceresponse` (00-<trace id>-<span id>-<flags>).
        trace = TRACE_RESPONSE.fullmatch(atoms.get("{traceresponse}o") or "")
        if trace:
            record.trace_id, record.span_id = trace["trace_id"], trace["span_id"]
        return True


# A support command's run summary (rooms/management/progress.py): whatever the verbosity.
ALWAYS_LOGGED = frozenset({"teleconsultation.commands"})


class CommandVerbosityFilter(logging.Filter):
    """In a management command, lets INFO lines through only at `-v 2` or more, but for the
    loggers in ALWAYS_LOGGED."""

    threshold = logging.NOTSET

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= CommandVerbosityFilter.threshold or record.name in ALWAYS_LOGGED


# Commands that serve requests: their log is their output, whatever the verbosity.
SERVING_COMMANDS = frozenset({"runserver", "kaleyra_simulator"})


def configure_command_logging(verbosity: int) -> None:
    """Management commands print to stdout; their log (stderr) shows INFO only from `-v 2`."""
    CommandVerbosityFilter.threshold = logging.NOTSET if verbosity >= 2 else logging.WARNING


def command_verbosity(argv: list[str]) -> int | None:
    """The `-v`/`--verbosity` of a `manage.py` command line (default 1); None for a server."""
    if len(argv) < 2 or argv[1] in SERVING_COMMANDS:
        return None
    verbosity = 1
    arguments = iter(argv[2:])
    for argument in arguments:
        if argument == "--":
            break
        if argument in ("-v", "--verbosity"):
            value = next(arguments, "")
        elif argument.startswith("--verbosity="):
            value = argument.partition("=")[2]
        elif argument.startswith("-v") and argument[2:].isdigit():
            value = argument[2:]
        else:
            continue
        if value.isdigit():
            verbosity = int(value)
    return verbosity
