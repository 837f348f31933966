"""Request-level middleware: probes, request ids and access logs, body size limits, JSON errors."""

import logging
import re
import time
import uuid

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.urls import resolve

from teleconsultation_project.errors import json_error
from teleconsultation_project.logs import QUIET_PATHS, request_id_var

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


class RequestIdMiddleware:
    """Takes `x-request-id` from the gateway (or makes one), echoes it, logs one access line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
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
