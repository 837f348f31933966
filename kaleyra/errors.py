"""The one exception tree for provider trouble, and the one function that builds it.

Callers map these to their own answers (502 bad answer, 503 unreachable, 504 timeout); the body is
kept for logs, truncated and with the API key removed, because bodies and exception texts end up in
log lines and error reports. The tree stands under `common.http.errors.OutboundError`, which
names each failure's outcome in the outbound metrics.
"""

from common.http.errors import OutboundError

BODY_LIMIT = 500
REDACTED = "[redacted]"
# How long to wait after a 429 that names no time: Kaleyra's own sample clients wait 60 s.
DEFAULT_RATE_LIMIT_WAIT = 60


class KaleyraError(OutboundError):
    """Base of every failure of a Kaleyra call."""

    def __init__(self, message: str, *, operation: str, status: int | None = None, body: str = ""):
        super().__init__(f"Kaleyra {operation}: {message}", operation=operation, status=status)
        self.body = body


class KaleyraUnavailable(KaleyraError):
    """Connection refused, reset or dropped before an answer."""


class KaleyraTimeout(KaleyraError):
    """No connection or no answer within the configured timeouts."""

    no_answer_outcome = "timeout"


class KaleyraDeadlineExceeded(KaleyraTimeout):
    """The incoming request's deadline had passed: the call was not sent (common.http.deadline)."""

    no_answer_outcome = "deadline_exceeded"


class KaleyraAuthError(KaleyraError):
    """401/403: the API key is wrong, revoked, or not allowed from this address."""


class KaleyraNotFound(KaleyraError):
    """404: the user, room or upload does not exist (any more)."""


class KaleyraRateLimited(KaleyraError):
    """429: too many requests; `retry_after` is the server's hint in seconds, or None when the
    answer named no time (then DEFAULT_RATE_LIMIT_WAIT is the polite wait)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class KaleyraBadRequest(KaleyraError):
    """400/409/422 and any other 4xx: Kaleyra refused what we sent."""


class KaleyraServerError(KaleyraError):
    """5xx: Kaleyra failed."""


class KaleyraBadResponse(KaleyraError):
    """2xx whose body is not what the wire format says (unparseable, missing or wrong fields)."""


TRANSPORT_FAILURES = {
    "timeout": KaleyraTimeout,
    "unavailable": KaleyraUnavailable,
    "deadline": KaleyraDeadlineExceeded,
}


def redact(text: str, secret: str) -> str:
    """Removes the API key from `text` (bodies may echo headers; exception texts may quote URLs)."""
    if secret:
        text = text.replace(secret, REDACTED)
    return text


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; the HTTP-date form is ignored (never seen from Kaleyra)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0)


def _class_for_status(status: int) -> type[KaleyraError]:
    if 200 <= status < 300:
        return KaleyraBadResponse
    if status in (401, 403):
        return KaleyraAuthError
    if status == 404:
        return KaleyraNotFound
    if status == 429:
        return KaleyraRateLimited
    if 400 <= status < 500:
        return KaleyraBadRequest
    if status >= 500:
        return KaleyraServerError
    # 1xx/3xx: redirects are not followed (common.http.session.send), so an answer we cannot use.
    return KaleyraBadResponse


def build_error(
    operation: str,
    *,
    secret: str,
    status: int | None = None,
    body: str = "",
    transport: str | None = None,
    detail: str = "",
    retry_after: str | None = None,
) -> KaleyraError:
    """The only place a KaleyraError is made: from an HTTP status, or from a failure with no
    status (`transport` = "timeout" | "unavailable" | "deadline"). `detail` says what was wrong
    with a 2xx body."""
    safe_body = redact(body, secret)[:BODY_LIMIT]
    safe_detail = redact(detail, secret)[:BODY_LIMIT]
    if transport is not None:
        cls = TRANSPORT_FAILURES[transport]
        return cls(safe_detail or transport, operation=operation, body="")
    if status is None:
        raise ValueError("build_error needs a status or a transport failure")
    cls = _class_for_status(status)
    message = f"HTTP {status}" + (f": {safe_detail}" if safe_detail else "")
    if cls is KaleyraRateLimited:
        return KaleyraRateLimited(
            message,
            operation=operation,
            status=status,
            body=safe_body,
            retry_after=parse_retry_after(retry_after),
        )
    return cls(message, operation=operation, status=status, body=safe_body)
