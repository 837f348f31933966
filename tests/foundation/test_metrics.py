"""/-/metrics: Prometheus text with request latency by view, database time, backlog gauges."""

import pytest
from django.urls import resolve
from prometheus_client import REGISTRY, Counter
from prometheus_client.parser import text_string_to_metric_families

from teleconsultation_project import metrics


def scrape(client, **headers) -> dict[str, list]:
    response = client.get("/-/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    families = text_string_to_metric_families(response.content.decode())
    return {family.name: family.samples for family in families}


@pytest.fixture
def backlog_sources(monkeypatch):
    monkeypatch.setattr(metrics, "_backlog_sources", {})


@pytest.mark.django_db
def test_request_latency_is_labelled_by_view_name_not_by_path(client):
    path = "/teleconsultation/0123456789abcdef01234567"
    client.get(path)
    samples = scrape(client)["django_http_requests_latency_seconds_by_view_method"]
    views = {sample.labels["view"] for sample in samples}
    assert resolve(path).view_name in views
    assert not any("0123456789abcdef" in view for view in views)


@pytest.mark.django_db
def test_database_time_is_measured(client):
    client.get("/-/ready")
    families = scrape(client)
    samples = families["django_db_query_duration_seconds"]
    assert any(sample.name.endswith("_count") and sample.value > 0 for sample in samples)
    assert any(sample.value > 0 for sample in families["django_db_execute"])


@pytest.mark.django_db
def test_probes_and_scrapes_are_not_counted_as_requests(client):
    def requests_counted() -> float:
        samples = scrape(client)["django_http_requests_before_middlewares"]
        return next(s.value for s in samples if s.name.endswith("_total"))

    before = requests_counted()
    for path in ("/-/healthz", "/-/ready", "/-/check-up", "/-/metrics"):
        client.get(path)
    assert requests_counted() == before
    client.get("/no-such-path")
    assert requests_counted() == before + 1


@pytest.mark.django_db
def test_the_default_registry_is_exposed(client):
    provider_calls = Counter("test_exposed_provider_calls", "A metric defined by another module")
    provider_calls.inc(3)
    try:
        assert scrape(client)["test_exposed_provider_calls"][0].value == 3
    finally:
        REGISTRY.unregister(provider_calls)


@pytest.mark.django_db
def test_backlog_gauges_are_read_from_their_sources_at_scrape_time(client, backlog_sources):
    readings = iter([4, 1])
    metrics.register_backlog_source(
        "teleconsultation_pending_room_deletions", lambda: next(readings)
    )
    metrics.register_backlog_source("teleconsultation_unfinished_room_intents", lambda: 2)
    first = scrape(client)
    assert first["teleconsultation_pending_room_deletions"][0].value == 4
    assert first["teleconsultation_unfinished_room_intents"][0].value == 2
    assert scrape(client)["teleconsultation_pending_room_deletions"][0].value == 1


@pytest.mark.django_db
def test_a_failing_backlog_source_leaves_its_gauge_out_but_the_scrape_succeeds(
    client, backlog_sources
):
    def database_down():
        raise RuntimeError("database down")

    metrics.register_backlog_source("teleconsultation_pending_room_deletions", database_down)
    metrics.register_backlog_source("teleconsultation_unfinished_room_intents", lambda: 0)
    samples = scrape(client)
    assert "teleconsultation_pending_room_deletions" not in samples
    assert samples["teleconsultation_unfinished_room_intents"][0].value == 0


def test_only_the_defined_backlog_gauges_can_be_registered(backlog_sources):
    with pytest.raises(ValueError, match="teleconsultation_pending_room_deletions"):
        metrics.register_backlog_source("teleconsultation_typo", lambda: 0)


@pytest.mark.django_db
def test_reconcile_outcomes_are_counted_by_outcome(client):
    before = metrics.RECONCILE_OUTCOMES.labels(outcome="done")._value.get()
    metrics.RECONCILE_OUTCOMES.labels(outcome="done").inc()
    samples = scrape(client)["teleconsultation_reconcile_outcomes"]
    done = next(s for s in samples if s.name.endswith("_total") and s.labels == {"outcome": "done"})
    assert done.value == before + 1


@pytest.mark.django_db
def test_with_a_token_set_a_scrape_without_it_is_refused_in_the_error_shape(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": "s3cret"}):
        response = client.get("/-/metrics", **headers)
        assert response.status_code == 401
        assert response.json()["statusCode"] == 401 and response.json()["error"] == "Unauthorized"
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert "teleconsultation_reconcile_outcomes" in scrape(
        client, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token"
    )
