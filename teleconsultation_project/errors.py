"""One error shape for every answer the service gives: `{statusCode, error, message[, details]}`.

API code raises `ApiError` (or DRF's exceptions); video-provider failures arrive as `KaleyraError`.
`api_exception_handler` (DRF) and the JSON error views and middleware turn them all into the
documented body, so no caller ever sees an HTML page or a traceback.
"""

import logging
import math
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from kaleyra.errors import (
    DEFAULT_RATE_LIMIT_WAIT,
    KaleyraError,
    KaleyraRateLimited,
    KaleyraTimeout,
    KaleyraUnavailable,
)

logger = logging.getLogger("teleconsultation.errors")

PROVIDER = "the video provider (Kaleyra)"


class ApiError(drf.APIException):
    """An error with a contract text: `error` is that text when given, else the reason phrase."""

    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error: str | None = None,
        details: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if status is not None:
            self.status_code = status
        self.error = error
        self.details = details
        self.headers = headers or {}
        super().__init__(detail=message)


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(status: int, message: str, *, error: str | None = None, details=None) -> dict:
    body: dict[str, Any] = {"statusCode": status, "error": error or reason(status)}
    body["message"] = message
    if details:
        body["details"] = details
    return body


def json_error(status: int, message: str, **kwargs: Any) -> JsonResponse:
    return JsonResponse(error_body(status, message, **kwargs), status=status)


def provider_trouble(exc: KaleyraError) -> str:
    """What went wrong with Kaleyra, in words; never its body, which may echo what we sent."""
    if isinstance(exc, KaleyraTimeout):
        return f"{PROVIDER} did not answer in time"
    if isinstance(exc, KaleyraUnavailable):
        return f"{PROVIDER} is unreachable"
    if isinstance(exc, KaleyraRateLimited):
        return f"{PROVIDER} is rate limiting requests"
    status = f" (status {exc.status})" if exc.status else ""
    return f"{PROVIDER} answered with an error{status}"


def provider_error(exc: KaleyraError) -> ApiError:
    """Map a provider failure to 502/503/504 without echoing its body or our key."""
    operation = f" while trying to {exc.operation.replace('_', ' ')}" if exc.operation else ""
    message = provider_trouble(exc) + operation
    if isinstance(exc, KaleyraTimeout):
        return ApiError(message, status=504)
    if isinstance(exc, KaleyraUnavailable):
        return ApiError(message, status=503)
    if isinstance(exc, KaleyraRateLimited):
        # At once, with Kaleyra's own wait (whole seconds, never shorter) or the polite default.
        wait = DEFAULT_RATE_LIMIT_WAIT if exc.retry_after is None else exc.retry_after
        retry = math.ceil(wait)
        return ApiError(
            f"{message}; retry in {retry} seconds", status=503, headers={"Retry-After": str(retry)}
        )
    return ApiError(message, status=502)


def flatten_details(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation detail as {"participants.data[0].groups": ["..."]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            if name.isdigit():  # DRF keys list items by their index
                path = f"{prefix}[{name}]"
            else:
                path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            flat.update(flatten_details(value, path))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            if value:
                flat.update(flatten_details(value, f"{prefix}[{index}]"))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "body": [str(message) for message in messages]}


def validation_message(details: dict[str, list[str]]) -> str:
    parts = [f"{path}: {' '.join(messages)}" for path, messages in details.items()]
    return "Invalid request: " + "; ".join(parts)


def _as_api_error(exc: Exception) -> ApiError | None:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, KaleyraError):
        return provider_error(exc)
    if isinstance(exc, RequestDataTooBig):
        return ApiError("The request body is too large", status=413)
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return ApiError(f"Too many parameters in the query string: the limit is {limit}")
    if isinstance(exc, SuspiciousOperation):
        return ApiError("The request could not be understood")
    if isinstance(exc, Http404):
        return ApiError("Not found", status=404)
    if isinstance(exc, PermissionDenied):
        return ApiError("You are not allowed to do this", status=403)
    if isinstance(exc, DjangoValidationError):
        details = flatten_details(getattr(exc, "message_dict", None) or exc.messages)
        return ApiError(validation_message(details), details=details)
    if isinstance(exc, drf.ValidationError):
        details = flatten_details(exc.detail)
        return ApiError(validation_message(details), details=details)
    if isinstance(exc, drf.APIException):
        headers: dict[str, str] = {}
        # The stubs leave out the `wait` Throttled sets (whole seconds, or None).
        wait = exc.wait if isinstance(exc, drf.Throttled) else None  # type: ignore[attr-defined]
        if wait:
            headers["Retry-After"] = str(int(wait))
        return ApiError(str(exc.detail), status=exc.status_code, headers=headers)
    return None


def api_exception_handler(exc: Exception, context: dict) -> Response:
    error = _as_api_error(exc)
    if error is None:
        logger.exception("Unhandled error", exc_info=exc)
        error = ApiError("An unexpected error occurred; it has been logged", status=500)
    elif isinstance(exc, KaleyraError):
        logger.warning(
            "Video provider failure: %s (status %s) during %s",
            type(exc).__name__,
            exc.status,
            exc.operation,
        )
    body = error_body(
        error.status_code, str(error.detail), error=error.error, details=error.details
    )
    return Response(body, status=error.status_code, headers=error.headers)
