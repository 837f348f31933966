"""Tracing with OpenTelemetry: off unless the standard OTEL_* variables ask for it.

`setup()` runs once per process, from the project's app config (`ready`), before Django loads its
middleware: under runserver, every management command, and gunicorn, where the application loads
in the master (`preload_app`). Then it instruments

- Django: a SERVER span per request, its parent taken from an incoming `traceparent`; probes and
  the metrics scrape make none;
- psycopg and sqlite3: a span per database query;
- the outbound HTTP base (common/http/tracing.py): a CLIENT span per attempt, and the `traceparent`
  header sent to Kaleyra, the CRUD Service and the user directory;

and the JSON log lines carry the current `trace_id` and `span_id` (logs.py).

Spans leave through a BatchSpanProcessor whose export thread the SDK starts again in each forked
process (`os.register_at_fork`): every gunicorn worker exports its own spans, the master none
(tests/foundation/test_tracing.py forks to show it). What is read from the environment is the
SDK's own: OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
OTEL_TRACES_EXPORTER (`otlp`, the default once an endpoint is set, or `console`; `none` turns
tracing off), OTEL_SDK_DISABLED, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_TRACES_SAMPLER(_ARG), OTEL_EXPORTER_OTLP_HEADERS and the like. OTLP goes over HTTP/protobuf
(port 4318), the one exporter the image carries.
"""

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured
from opentelemetry import trace
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.propagators import (
    TraceResponsePropagator,
    set_global_response_propagator,
)
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from common.http import tracing as outbound_tracing
from teleconsultation_project.logs import QUIET_PATHS

SERVICE_NAME = "teleconsultation-service"
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
EXPORTERS = ("otlp", "console")
# Django's instrumentation reads these as regular expressions searched in the URL. A calendar
# feed's URL holds its secret (the span would carry it): not traced.
EXCLUDED_URLS = ",".join([*(path + "$" for path in sorted(QUIET_PATHS)), "/calendar/"])

_provider: TracerProvider | None = None


def exporter_name(environ: Mapping[str, str]) -> str | None:
    """The exporter the environment asks for, or None when tracing stays off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    named = environ.get("OTEL_TRACES_EXPORTER", "").split(",")[0].strip().lower()
    if named == "none":
        return None
    if named:
        return named
    return "otlp" if any(environ.get(name) for name in ENDPOINT_VARIABLES) else None


def exporter_from(name: str) -> SpanExporter:
    if name == "otlp":
        # Imported only when used: it reads the endpoint, headers and timeout from OTEL_*.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if name == "console":
        return ConsoleSpanExporter()
    raise ImproperlyConfigured(
        f"OTEL_TRACES_EXPORTER={name!r} is not supported here: use {' or '.join(EXPORTERS)}, "
        "or none"
    )


def setup(
    environ: Mapping[str, str] = os.environ, processor: SpanProcessor | None = None
) -> TracerProvider | None:
    """Starts tracing when the environment asks for it (or a `processor` is given, in tests);
    returns the provider, None when tracing is off. A second call changes nothing."""
    global _provider
    if _provider is not None:
        return _provider
    given = processor is not None
    if processor is None:
        name = exporter_name(environ)
        if name is None:
            return None
        processor = BatchSpanProcessor(exporter_from(name))
    resource = Resource.create({"service.name": SERVICE_NAME}).merge(
        OTELResourceDetector().detect()
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(processor)
    if not given:  # a test's provider stays its own; the process's is everyone's
        trace.set_tracer_provider(provider)
    # The response names its trace (`traceresponse`), for gunicorn's access line, written after
    # the request's span has ended (logs.GunicornAccessFilter), and for the caller.
    set_global_response_propagator(TraceResponsePropagator())
    DjangoInstrumentor().instrument(tracer_provider=provider, excluded_urls=EXCLUDED_URLS)
    PsycopgInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    SQLite3Instrumentor().instrument(tracer_provider=provider)
    outbound_tracing.enable(provider)
    _provider = provider
    return provider


def teardown() -> None:
    """Undoes `setup` (tests): no instrumentation, no outbound spans, the provider shut down."""
    global _provider
    if _provider is None:
        return
    DjangoInstrumentor().uninstrument()
    PsycopgInstrumentor().uninstrument()
    SQLite3Instrumentor().uninstrument()
    outbound_tracing.disable()
    set_global_response_propagator(None)
    _provider.shutdown()
    _provider = None
