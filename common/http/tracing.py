"""The span of one outbound call, and the `traceparent` it carries to the service it calls.

Off (a no-op costing one attribute read) until the project's tracing set-up turns it on with
`enable`, when OpenTelemetry is configured (teleconsultation_project/tracing.py). A span is named
after the service and the operation ("kaleyra create_room"); it records the method, the host and
the status, never the URL's path, query or body, as the log line of the call does.
"""

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from urllib.parse import urlsplit

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

_tracer: trace.Tracer | None = None


def enable(provider: TracerProvider | None = None) -> None:
    """Outbound calls make spans from now on, in `provider` (the global one by default)."""
    global _tracer
    _tracer = trace.get_tracer(__name__, tracer_provider=provider)


def disable() -> None:
    global _tracer
    _tracer = None


@contextmanager
def client_span(
    service: str, operation: str, method: str, url: str, headers: MutableMapping[str, str]
) -> Iterator[Span | None]:
    """A CLIENT span around one attempt; `headers` gets the W3C trace context (`traceparent`)."""
    if _tracer is None:
        yield None
        return
    attributes = {
        "http.request.method": method,
        "server.address": urlsplit(url).hostname or "",
        "peer.service": service,
        "operation": operation,
    }
    with _tracer.start_as_current_span(
        f"{service} {operation}", kind=SpanKind.CLIENT, attributes=attributes
    ) as span:
        propagate.inject(headers)
        yield span


def record_status(span: Span | None, status: int | None, failure: str | None = None) -> None:
    """The answer's status on the span; a 5xx or a call without an answer is an error."""
    if span is None:
        return
    if status is not None:
        span.set_attribute("http.response.status_code", status)
    if failure is not None or (status is not None and status >= 500):
        span.set_status(Status(StatusCode.ERROR, failure or str(status)))
