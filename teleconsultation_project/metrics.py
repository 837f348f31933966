"""Prometheus metrics of the service and the `/-/metrics` endpoint that exposes them.

django-prometheus measures requests (latency by view name) and database queries; other modules
define their metrics with prometheus_client's default registry (common/http/metrics.py). Here: the
backlog gauges, read at scrape time from sources registered with `register_backlog_source`, the
outcomes of reconciliation and the audit entries lost. Under gunicorn, PROMETHEUS_MULTIPROC_DIR
(set by gunicorn.conf.py) adds up the counters of every worker.
"""

import hmac
import logging
import os
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from teleconsultation_project.errors import json_error

logger = logging.getLogger("teleconsultation.metrics")

BACKLOG_GAUGES = {
    "teleconsultation_pending_room_deletions": (
        "Kaleyra rooms still to delete after a provider failure (reconcile_rooms deletes them)"
    ),
    "teleconsultation_unfinished_room_intents": (
        "Complete teleconsultations whose room creation did not finish (reconcile_rooms does it)"
    ),
}

RECONCILE_OUTCOMES = Counter(
    "teleconsultation_reconcile_outcomes",
    "Rooms recreated from the admin, and items of reconcile_rooms in a process that outlives it, "
    "by outcome (done, partly_done, skipped, failed)",
    ["outcome"],
)

ROOM_LISTING_UNREADABLE = Counter(
    "kaleyra_room_listing_unreadable",
    "Kaleyra room listings reconciliation could not read (another shape): it went on without them",
)

AUDIT_WRITE_FAILURES = Counter(
    "teleconsultation_audit_write_failures",
    "Audit entries the storage backend did not record, by the error's class",
    ["reason"],
)

VISIT_EVENTS = Counter(
    "teleconsultation_visit_events",
    "Delivery attempts of visit events to the operator's receivers, by outcome (sent; retry: "
    "failed, tried again later; dead: failed for the whole retry span)",
    ["outcome"],
)

NO_SHOWS = Counter(
    "teleconsultation_no_shows",
    "Visits found over with fewer than two participants joined, counted when attendance "
    "collection first marks one (collect_attendance, the admin's Collect attendance)",
)


def no_shows_counted() -> float:
    """`teleconsultation_no_shows_total` in this process so far."""
    return REGISTRY.get_sample_value("teleconsultation_no_shows_total") or 0.0


_backlog_sources: dict[str, Callable[[], float]] = {}


def register_backlog_source(name: str, source: Callable[[], float]) -> None:
    """Reads gauge `name` (one of BACKLOG_GAUGES) by calling `source()` at every scrape."""
    if name not in BACKLOG_GAUGES:
        raise ValueError(f"{name} is not a backlog gauge; known: {', '.join(BACKLOG_GAUGES)}")
    _backlog_sources[name] = source


class BacklogCollector:
    def describe(self) -> list:
        return []  # nothing to read at registration time: the sources may query the database

    def collect(self):
        for name, source in list(_backlog_sources.items()):
            try:
                value = source()
            except Exception as exc:  # a scrape must not fail with the database; /-/ready tells
                logger.debug("Backlog source %s failed: %s", name, exc)
                continue
            gauge = GaugeMetricFamily(name, BACKLOG_GAUGES[name])
            gauge.add_metric([], value)
            yield gauge


BACKLOG = BacklogCollector()
REGISTRY.register(BACKLOG)


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(BACKLOG)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """`GET /-/metrics` in Prometheus' text format; a bearer token when METRICS_TOKEN is set."""
    if request.method not in ("GET", "HEAD"):
        return json_error(405, f"{request.method} is not allowed on {request.path}")
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            response = json_error(401, "A valid bearer token is needed to read the metrics")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
