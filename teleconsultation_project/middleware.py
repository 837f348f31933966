"""Request-level middleware: probes, request metrics, request ids and access logs, the deadline of
outbound calls, body size limits, chunked bodies, JSON errors, and the admin's own stack that only
`/admin/` goes through."""

import logging
import re
import tempfile
import time
import uuid

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import LimitedStream
from django.http import Http404
from django.urls import resolve
from django.utils.module_loading import import_string
from django_prometheus.middleware import Metrics

from common.http.deadline import request_deadline
from common.request_ids import request_id_var
from teleconsultation_project.errors import json_error
from teleconsultation_project.logs import QUIET_PATHS

access_logger = logging.getLogger("teleconsultation.access")
error_logger = logging.getLogger("teleconsultation.errors")

REQUEST_ID_HEADER = "x-request-id"
EXPECTED = (Http404, PermissionDenied, SuspiciousOperation, BadRequest)
# ASCII only, matched whole: `$` alone would let a trailing newline into a header and a log line.
ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9_.:/+=-]{1,128}")


class ProbeMiddleware:
    """Answers probes and scrapes before anything else, whatever the Host, and logs nothing.

    Kubelets, Docker and Prometheus address a pod by its IP, which is no host name the service
    serves; every other path keeps Django's ALLOWED_HOSTS check (CommonMiddleware's get_host()).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info not in QUIET_PATHS:
            return self.get_response(request)
        match = resolve(request.path_info)
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
        if hasattr(response, "render"):
            response = response.render()
        # A 503 while not ready is expected during every rollout: not an error for django.request.
        response._has_been_logged = True
        return response


class RequestMetricsMiddleware:
    """Counts each request and its answer by status, and times it by route name and method: the
    series docs/operations.md promises (`django_http_requests_before_middlewares_total`,
    `django_http_responses_total_by_status`, `django_http_requests_latency_seconds_by_view_method`),
    django-prometheus' own metric objects, and nothing more per request. Its two middlewares wrote
    19 values per request (by transport, charset, body size...), a tenth of a poll's CPU.

    It runs outermost but for the probes, so the latency is what the client waits for once past
    them, the middleware included, and an answer the body limits give is counted too.
    """

    METHODS = frozenset(
        {"GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH"}
    )

    def __init__(self, get_response):
        self.get_response = get_response
        metrics = Metrics.get_instance()
        self.requests = metrics.requests_total
        self.by_status = metrics.responses_by_status
        self.latency = metrics.requests_latency_by_view_method
        # Each label set's child, found once: `labels()` validates and locks on every call. The
        # sets are bounded: route names, the methods above, statuses.
        self.children: dict[tuple, object] = {}

    def __call__(self, request):
        self.requests.inc()
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match is not None else None) or "<unnamed view>"
        method = request.method if request.method in self.METHODS else "<invalid method>"
        self._child(self.latency, view, method).observe(elapsed)
        self._child(self.by_status, str(response.status_code)).inc()
        return response

    def _child(self, metric, *labels):
        key = (metric, *labels)
        child = self.children.get(key)
        if child is None:
            child = self.children[key] = metric.labels(*labels)
        return child


class RequestIdMiddleware:
    """Takes `x-request-id` from the gateway (or makes one), echoes it, logs one access line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")  # REQUEST_ID_HEADER
        request_id = incoming if ACCEPTABLE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class RequestDeadlineMiddleware:
    """Gives each incoming request KALEYRA_REQUEST_DEADLINE_SECONDS for all its Kaleyra calls, so
    timeouts and retries of several calls cannot add up past what the gateway waits for us (the
    deadline itself is `common.http.deadline`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_deadline(settings.KALEYRA_REQUEST_DEADLINE_SECONDS):
            return self.get_response(request)


class BodySizeLimitMiddleware:
    """Refuses a body larger than REQUEST_MAX_BODY_BYTES before any of it is read."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
        except ValueError:
            return json_error(400, f"Content-Length header is not a number: {raw_length[:20]!r}")
        limit = settings.REQUEST_MAX_BODY_BYTES
        if length > limit:
            return json_error(413, f"The request body is {length} bytes; the limit is {limit}")
        return self.get_response(request)


class ChunkedBodyMiddleware:
    """Reads a body sent without Content-Length (`Transfer-Encoding: chunked`).

    Django's WSGI request reads `Content-Length` bytes, so such a body would read as empty and
    draw a misleading 400. When the server has already decoded the chunks (`wsgi.input_terminated`,
    as gunicorn does) the body is read here, up to REQUEST_MAX_BODY_BYTES, and handed on with its
    length; a server that cannot (Django's runserver) gets a 411 asking for a Content-Length.
    """

    CHUNK = 64 * 1024

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        if meta.get("CONTENT_LENGTH") or "HTTP_TRANSFER_ENCODING" not in meta:
            return self.get_response(request)
        if "wsgi.input" not in meta:  # ASGI: Django has read the whole body already
            return self.get_response(request)
        if not meta.get("wsgi.input_terminated"):
            return json_error(
                411,
                "A request body needs a Content-Length header; this server cannot read "
                f"Transfer-Encoding: {meta['HTTP_TRANSFER_ENCODING'][:20]}",
            )
        limit = settings.REQUEST_MAX_BODY_BYTES
        body = tempfile.SpooledTemporaryFile(max_size=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        length = 0
        while chunk := meta["wsgi.input"].read(self.CHUNK):
            length += len(chunk)
            if length > limit:
                body.close()
                return json_error(413, f"The request body is over the limit of {limit} bytes")
            body.write(chunk)
        body.seek(0)
        meta["CONTENT_LENGTH"] = str(length)
        # WSGIRequest made its stream from the CONTENT_LENGTH it had (none, so empty); a stream
        # of the body just read takes its place, before anything has read from it.
        request._stream = LimitedStream(body, length)
        try:
            return self.get_response(request)
        finally:
            body.close()


class JsonErrorMiddleware:
    """Unhandled exceptions outside DRF views become a logged JSON 500, never a traceback."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, EXPECTED):
            return None  # Django answers these through the JSON handler400/403/404 views.
        if settings.DEBUG and request.path.startswith("/admin/"):
            return None  # Django's debug page is the developer's tool there.
        error_logger.exception("Unhandled error", exc_info=exception)
        return json_error(500, "An unexpected error occurred; it has been logged")


class AdminOnlyMiddleware:
    """Runs `ADMIN_MIDDLEWARE` (sessions, authentication, messages) for `/admin/` only.

    The API authenticates by the gateway's headers and keeps no session, so its requests skip
    what only the admin needs: one session lookup, the user and the message storage per request.
    Inside, the chain is built as Django builds `MIDDLEWARE` (each step turns its exceptions into
    responses). The admin's views are CSRF-protected by their own decorators (`csrf_protect`,
    which Django's admin applies to every view), so CSRF needs no middleware here; Django's admin
    checks of these middleware in `MIDDLEWARE` are silenced in settings for that reason.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        handler = get_response
        for path in reversed(settings.ADMIN_MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        self.admin = handler

    def __call__(self, request):
        if request.path_info.startswith(ADMIN_PREFIX):
            return self.admin(request)
        return self.get_response(request)


ADMIN_PREFIX = "/admin/"
