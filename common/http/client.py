"""`OutboundClient`, the base of the clients of Kaleyra, the CRUD Service and the user directory.

`_attempt` is the only place an outbound call meets the network: it refuses to call once the
request's deadline has passed (for a client that honours it) and caps the timeouts to the time
left, adds `X-Request-Id` and, when tracing is on, the call's span and its `traceparent`
(common/http/tracing.py), sends through the session's pool, turns a transport failure into the
client's own error (`_transport_error`), counts and times the attempt in the outbound metrics and
logs it at DEBUG (operation, status, duration; never a URL, query or body), shows the exchange to
the client's `observer` when it has one (the Kaleyra smoke check prints what was sent and
answered), then hands the answer, read whole, to the caller's `read`, which returns a value or
raises the client's error.
"""

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests

from common.http import deadline, metrics, tracing
from common.http.session import Session, request_id_headers, send

T = TypeVar("T")


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, its body read: all a client sees of `requests`."""

    status: int
    content: bytes
    text: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Exchange:
    """One call that got an answer: what was asked (`sent` is the JSON body, None for none or a
    multipart upload) and what came back."""

    operation: str
    method: str
    url: str
    params: Mapping[str, Any] | None
    sent: Any
    answer: Answer


Observer = Callable[[Exchange], None]


class OutboundClient:
    """Subclasses name their `service` (the metrics label) and `logger`, and say in
    `_transport_error` how a failure with no answer (`kind` "timeout", "unavailable", or
    "deadline" when the deadline had passed and nothing was sent) becomes their error."""

    service: str
    logger: logging.Logger

    def __init__(
        self,
        *,
        session: Session,
        connect_timeout: float,
        read_timeout: float,
        honours_deadline: bool = False,
        observer: Observer | None = None,
    ):
        self._session = session
        self._timeout = (connect_timeout, read_timeout)
        self._honours_deadline = honours_deadline
        self._observer = observer

    def _transport_error(
        self, operation: str, kind: str, exc: Exception | None, resource: str
    ) -> Exception:
        raise NotImplementedError

    def _timeouts(self, time_left: float | None) -> tuple[float, float]:
        connect, read = self._timeout
        if time_left is None:
            return connect, read
        return min(connect, time_left), min(read, time_left)

    def _attempt(
        self,
        operation: str,
        method: str,
        url: str,
        read: Callable[[Answer], T],
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        resource: str = "",
    ) -> T:
        """One attempt of `operation`; `resource` names what it is about (a CRUD collection) in
        the log line and to `_transport_error`."""
        time_left = deadline.time_left() if self._honours_deadline else None
        if time_left is not None and time_left <= 0:
            error = self._transport_error(operation, "deadline", None, resource)
            metrics.count_unsent(self.service, operation)
            raise error
        sent_headers = {**(headers or {}), **request_id_headers()}
        with (
            metrics.measured(self.service, operation) as attempt,
            tracing.client_span(self.service, operation, method, url, sent_headers) as span,
        ):
            started = time.perf_counter()
            try:
                response = send(
                    self._session,
                    method,
                    url,
                    headers=sent_headers,
                    timeout=self._timeouts(time_left),
                    json=json,
                    data=data,
                    params=params,
                    files=files,
                )
                attempt.status = response.status_code
            except requests.Timeout as exc:
                attempt.outcome = "timeout"
                raise self._transport_error(operation, "timeout", exc, resource) from None
            except requests.RequestException as exc:
                attempt.outcome = "unavailable"
                raise self._transport_error(operation, "unavailable", exc, resource) from None
            finally:
                self._log_attempt(operation, resource, attempt, started)
                tracing.record_status(span, attempt.status, attempt.outcome)
            answer = Answer(response.status_code, response.content, response.text, response.headers)
            if self._observer is not None:
                self._observer(Exchange(operation, method, url, params, json, answer))
            return read(answer)

    def _log_attempt(
        self, operation: str, resource: str, attempt: metrics.Attempt, started: float
    ) -> None:
        status = attempt.status or attempt.outcome or "error"
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        self.logger.debug(
            "%s %s%s: %s in %.1f ms",
            self.service,
            operation,
            f" {resource}" if resource else "",
            status,
            duration_ms,
            extra={"operation": operation, "status": status, "duration_ms": duration_ms},
        )
