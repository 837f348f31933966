"""Tracing: off without OTEL_* variables; on, one request's spans (the server's, the database's
and the calls to Kaleyra) form one trace, continued from the caller's `traceparent` and sent on to
Kaleyra, and the request's log lines name it."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id

from kaleyra.simulator import server as simulator_server
from teleconsultation_project import tracing
from tests.foundation.test_gunicorn import GUNICORN, get, gunicorn_serving, json_lines
from tests.rooms.conftest import body, doctor, patient

ROOT = Path(__file__).resolve().parents[2]
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01"


@pytest.mark.parametrize(
    ("environment", "exporter"),
    [
        ({}, None),
        ({"OTEL_SERVICE_NAME": "teleconsultation"}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "console"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, None),
    ],
)
def test_tracing_is_on_only_when_the_otel_variables_ask_for_it(environment, exporter):
    assert tracing.exporter_name(environment) == exporter


CHILD = """
import json, threading
import django
django.setup()
from django.test import Client
from opentelemetry import trace
from teleconsultation_project import tracing
Client().get("/-/healthz")
print(json.dumps({
    "provider": type(trace.get_tracer_provider()).__name__,
    "started": tracing._provider is not None,
    "export_threads": [t.name for t in threading.enumerate() if t.name.startswith("Otel")],
}))
"""


def run_child(**environment) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OTEL_"))}
    env.update(DJANGO_SETTINGS_MODULE="teleconsultation_project.settings", **environment)
    result = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_without_an_endpoint_no_provider_or_exporter_starts():
    assert run_child() == {
        "provider": "ProxyTracerProvider",
        "started": False,
        "export_threads": [],
    }


def test_with_an_endpoint_the_service_starts_its_exporter():
    # Nothing listens there; no span is made (probes are not traced), so nothing is sent.
    started = run_child(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")
    assert started == {
        "provider": "TracerProvider",
        "started": True,
        "export_threads": ["OtelBatchSpanRecordProcessor"],
    }


def test_an_unknown_exporter_stops_the_start_naming_the_variable():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OTEL_"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, "OTEL_TRACES_EXPORTER": "zipkin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "OTEL_TRACES_EXPORTER='zipkin' is not supported" in result.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_worker_exports_its_own_spans():
    """gunicorn loads the application, tracing included, in the master and then forks: the
    export thread must run in each worker, or its spans would wait in a queue forever."""
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exported, schedule_delay_millis=10))
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            with provider.get_tracer("worker").start_as_current_span("in the worker"):
                pass
            alive = [t.name for t in threading.enumerate() if t.name.startswith("Otel")]
            provider.force_flush(5000)
            names = [span.name for span in exported.get_finished_spans()]
            os.write(writing, json.dumps({"threads": alive, "exported": names}).encode())
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        child = json.loads(pipe.read())
    os.waitpid(pid, 0)
    provider.shutdown()
    assert child == {"threads": ["OtelBatchSpanRecordProcessor"], "exported": ["in the worker"]}


def test_under_gunicorn_a_worker_exports_its_spans_and_the_access_line_names_the_trace(tmp_path):
    """The application, tracing included, loads in gunicorn's master; the workers are forked."""
    with gunicorn_serving(GUNICORN, tmp_path, OTEL_TRACES_EXPORTER="console") as base:
        for index in range(3):
            assert get(f"{base}/nowhere/{index}", traceparent=TRACEPARENT)[0] == 404
    # The console exporter prints each span as JSON on stdout, from the worker that served it.
    assert (tmp_path / "stdout").read_text().count(f'"trace_id": "0x{TRACE_ID}"') >= 3
    access = [
        line
        for line in json_lines(tmp_path / "stderr")
        if line.get("path", "").startswith("/nowhere/")
    ]
    assert len(access) == 3
    assert {line["trace_id"] for line in access} == {TRACE_ID}
    assert len({line["span_id"] for line in access}) == 3


@pytest.fixture
def spans():
    """Tracing on for one test, its spans kept in memory; the connection the test database
    opened before set-up is instrumented as a new one would be."""
    exporter = InMemorySpanExporter()
    provider = tracing.setup(processor=SimpleSpanProcessor(exporter))
    assert provider is not None
    connection.ensure_connection()
    raw = connection.connection
    if connection.vendor == "sqlite":
        connection.connection = SQLite3Instrumentor.instrument_connection(raw, provider)
    else:
        PsycopgInstrumentor.instrument_connection(raw, provider)
    try:
        yield exporter
    finally:
        if connection.vendor == "sqlite":
            connection.connection = SQLite3Instrumentor.uninstrument_connection(
                connection.connection
            )
        else:
            PsycopgInstrumentor.uninstrument_connection(raw)
        tracing.teardown()


@pytest.fixture
def received_traceparents():
    """The `traceparent` header of each request the HTTP simulator received."""
    received: list[str | None] = []
    original = simulator_server._Handler.get_environ

    def recording(handler):
        environ = original(handler)
        received.append(environ.get("HTTP_TRACEPARENT"))
        return environ

    with mock.patch.object(simulator_server._Handler, "get_environ", recording):
        yield received


@pytest.mark.django_db
def test_one_request_is_one_trace_from_the_caller_to_kaleyra(
    spans, received_traceparents, simulator_http, api, clock, caplog
):
    api.credentials(HTTP_ISBACKOFFICE="true", HTTP_TRACEPARENT=TRACEPARENT)
    caplog.set_level("INFO", logger="teleconsultation.access")
    created = api.post("/teleconsultation", body([doctor(), patient()]), format="json")
    assert created.status_code == 201

    finished = spans.get_finished_spans()
    [server] = [span for span in finished if span.kind == SpanKind.SERVER]
    database = [span for span in finished if span.attributes.get("db.system")]
    outbound = [
        span
        for span in finished
        if span.kind == SpanKind.CLIENT and span.name.startswith("kaleyra ")
    ]
    assert server.name == "POST teleconsultation"
    assert format_span_id(server.parent.span_id) == CALLER_SPAN_ID  # the caller's span
    assert database and outbound
    assert {format_trace_id(span.context.trace_id) for span in finished} == {TRACE_ID}
    assert {span.name for span in outbound} >= {"kaleyra create_room"}
    for span in outbound:
        assert span.attributes["http.response.status_code"] < 300
        assert "url.full" not in span.attributes  # no path, no query: as the log line

    # Kaleyra got the trace, each call with its own span as the parent.
    sent = [value for value in received_traceparents if value]
    assert len(sent) == len(received_traceparents) == len(outbound)
    assert {value.split("-")[1] for value in sent} == {TRACE_ID}
    assert {value.split("-")[2] for value in sent} == {
        format_span_id(s.context.span_id) for s in outbound
    }

    [access] = [r for r in caplog.records if r.name == "teleconsultation.access"]
    assert access.trace_id == TRACE_ID
    assert access.span_id == format_span_id(server.context.span_id)


@pytest.mark.django_db
def test_a_visits_new_users_made_at_once_are_spans_of_the_request(
    spans, received_traceparents, simulator_http, api, clock
):
    # The users' calls run on threads of their own: the request's span goes with each of them.
    api.credentials(HTTP_ISBACKOFFICE="true", HTTP_TRACEPARENT=TRACEPARENT)
    people = [doctor()] + [patient(f"patient-{number}") for number in range(5)]
    assert api.post("/teleconsultation", body(people), format="json").status_code == 201

    finished = spans.get_finished_spans()
    [server] = [span for span in finished if span.kind == SpanKind.SERVER]
    users = [span for span in finished if span.name == "kaleyra create_user"]
    assert len(users) == 6
    assert {span.parent.span_id for span in users} == {server.context.span_id}
    assert {format_trace_id(span.context.trace_id) for span in users} == {TRACE_ID}
    assert len([value for value in received_traceparents if value]) == 7  # and the room's


@pytest.mark.django_db
def test_probes_make_no_span(spans, client):
    assert client.get("/-/healthz").status_code == 200
    assert spans.get_finished_spans() == ()


@pytest.mark.django_db
def test_a_calendar_feed_fetch_leaves_its_secret_in_no_span(spans, client):
    secret = "feed-secret-" + "x" * 31
    assert client.get(f"/calendar/{secret}.ics").status_code == 404
    for span in spans.get_finished_spans():
        assert span.kind.name != "SERVER", span.name
        assert secret not in f"{span.name} {dict(span.attributes or {})}"
