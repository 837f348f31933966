"""Optional error reports to Sentry (`SENTRY_DSN`), with nothing personal or secret in them.

A report keeps the method and the URL path of the request that failed, never its body, headers,
cookies or query string; stack frames carry no local variables; every other string in the report
(messages, breadcrumbs from log lines) is redacted like a log line. A report made while a request
is served is tagged with its `request_id`, the id of its log lines. Sentry's own performance
traces are off unless `SENTRY_TRACES_SAMPLE_RATE` is above 0 (OpenTelemetry is the service's
tracing: teleconsultation_project/tracing.py). `SENTRY_ENVIRONMENT` and `SENTRY_RELEASE` are read
by sentry-sdk itself.
"""

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.types import Event, Hint

from common.request_ids import request_id_var
from teleconsultation_project.logs import redact

KEPT_REQUEST_FIELDS = ("method", "url")


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


def scrub_event(event: Event, hint: Hint | None = None) -> Event:
    """Sentry's `before_send`: only the request's method and path, every string redacted."""
    request = event.get("request")
    if isinstance(request, dict):
        kept: dict[str, Any] = {key: request[key] for key in KEPT_REQUEST_FIELDS if key in request}
        if "url" in kept:
            kept["url"] = kept["url"].split("?", 1)[0]
        event["request"] = kept
    request_id = request_id_var.get()
    if request_id:
        event["tags"] = {**(event.get("tags") or {}), "request_id": request_id}
    return _redacted(event)


def scrub_breadcrumb(breadcrumb: dict, hint: dict | None = None) -> dict:
    return _redacted(breadcrumb)


def init_sentry(dsn: str, *, traces_sample_rate: float = 0.0, transport: Any = None) -> None:
    options: dict[str, Any] = {}
    if traces_sample_rate > 0:  # None (not 0) keeps sentry-sdk from making transactions at all
        options["traces_sample_rate"] = traces_sample_rate
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        **options,
    )
