"""Reconciliation and command runs where monitoring sees them: the admin's room recreation in the
web process's /-/metrics; a command run's counts in its JSON summary log line and, when
PROMETHEUS_PUSHGATEWAY_URL is set, pushed to the Pushgateway (no network: `responses`)."""

import json
import logging
from io import StringIO

import pytest
import requests
import responses
from django.core.management import call_command
from django.core.management.base import CommandError
from prometheus_client.parser import text_string_to_metric_families

from teleconsultation_project.logs import CommandVerbosityFilter, JsonLineFormatter
from tests.rooms.conftest import NOW, doctor, patient

pytestmark = [pytest.mark.django_db]

PUSHGATEWAY = "http://pushgateway.monitoring.test:9091"
RECONCILE_PUSH = f"{PUSHGATEWAY}/metrics/job/reconcile_rooms"


def reconcile_outcomes(client) -> dict[str, float]:
    """teleconsultation_reconcile_outcomes_total by outcome, as /-/metrics shows it."""
    text = client.get("/-/metrics").content.decode()
    return {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "teleconsultation_reconcile_outcomes"
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def run_admin_action(admin_client, action: str, teleconsultation_id: str):
    """The list action, as its confirmation page posts it once confirmed."""
    return admin_client.post(
        "/admin/rooms/teleconsultation/",
        {"action": action, "_selected_action": [teleconsultation_id], "post": "yes"},
    )


@pytest.fixture
def visit(simulator, create):
    """A complete visit with its room, in the simulator the test talks to."""
    return create([doctor(), patient()])


@pytest.fixture
def pending_room(visit, api, simulator):
    """A visit deleted while Kaleyra failed: its room is left for reconcile_rooms."""
    simulator.fail_next("delete_room", mode="500")
    assert api.delete(f"/teleconsultation/{visit}").status_code == 204


def reconcile(*args) -> None:
    call_command("reconcile_rooms", *args, stdout=StringIO(), stderr=StringIO())


def pushed(call) -> dict[str, list]:
    families = text_string_to_metric_families(call.request.body.decode())
    return {family.name: family.samples for family in families}


# --- the admin, in the web process --------------------------------------------------------------


def test_the_admins_room_recreation_counts_as_reconciliation_in_the_web_process(
    admin_client, visit, simulator, client
):
    before = reconcile_outcomes(client)
    run_admin_action(admin_client, "recreate_room", visit)
    simulator.fail_next("create_room", mode="drop")
    run_admin_action(admin_client, "recreate_room", visit)
    after = reconcile_outcomes(client)
    assert after["done"] == before.get("done", 0) + 1
    assert after["failed"] == before.get("failed", 0) + 1


def test_the_admins_other_actions_are_not_reconciliation(admin_client, visit, client):
    before = reconcile_outcomes(client)
    run_admin_action(admin_client, "move_to_trash", visit)
    assert reconcile_outcomes(client) == before


# --- the summary log line ------------------------------------------------------------------------


def test_a_run_ends_with_one_json_line_of_its_counts(pending_room, caplog):
    with caplog.at_level(logging.INFO, logger="teleconsultation.commands"):
        reconcile()
    [record] = [r for r in caplog.records if r.name == "teleconsultation.commands"]
    line = json.loads(JsonLineFormatter().format(record))
    assert line["message"] == (
        "reconcile_rooms: Summary: 1 done, 0 partly done, 0 skipped, 0 failed"
    )
    assert {key: line[key] for key in ("command", "outcome", "total", "stopped", "pushed")} == {
        "command": "reconcile_rooms",
        "outcome": "done",
        "total": 1,
        "stopped": False,
        "pushed": False,
    }
    assert {key: line[key] for key in ("done", "partly_done", "skipped", "failed")} == {
        "done": 1,
        "partly_done": 0,
        "skipped": 0,
        "failed": 0,
    }


def test_the_summary_line_is_logged_whatever_the_verbosity(monkeypatch):
    monkeypatch.setattr(CommandVerbosityFilter, "threshold", logging.WARNING)  # -v 0 or 1
    summary = logging.LogRecord("teleconsultation.commands", logging.INFO, "", 0, "x", None, None)
    other = logging.LogRecord("teleconsultation.kaleyra", logging.INFO, "", 0, "x", None, None)
    assert CommandVerbosityFilter().filter(summary) and not CommandVerbosityFilter().filter(other)


def test_a_failed_run_says_so_in_its_line(pending_room, simulator, caplog):
    simulator.fail_next("delete_room", mode="500")
    with caplog.at_level(logging.INFO, logger="teleconsultation.commands"):
        with pytest.raises(CommandError):
            reconcile()
    [record] = [r for r in caplog.records if r.name == "teleconsultation.commands"]
    assert (record.outcome, record.failed, record.done) == ("failed", 1, 0)


# --- the Pushgateway -----------------------------------------------------------------------------


def test_without_a_pushgateway_nothing_is_pushed(pending_room, settings):
    settings.PROMETHEUS_PUSHGATEWAY_URL = ""
    with responses.RequestsMock() as gateway:  # any call would fail: none is registered
        reconcile()
        assert len(gateway.calls) == 0


def test_a_run_pushes_its_counts_to_the_pushgateway(pending_room, settings):
    settings.PROMETHEUS_PUSHGATEWAY_URL = PUSHGATEWAY
    with responses.RequestsMock() as gateway:
        gateway.add(responses.POST, RECONCILE_PUSH, status=200)
        reconcile()
        [call] = gateway.calls  # inside: leaving the mock forgets its calls
    # POST: replaces the metrics it sends, keeps the group's others (the last success's time).
    assert call.request.method == "POST"
    assert call.request.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    metrics = pushed(call)
    items = {s.labels["outcome"]: s.value for s in metrics["teleconsultation_command_items"]}
    assert items == {"done": 1, "partly_done": 0, "skipped": 0, "failed": 0}
    assert metrics["teleconsultation_command_failed"][0].value == 0
    ended = metrics["teleconsultation_command_last_run_timestamp_seconds"][0].value
    assert ended == NOW.timestamp()  # the tests' clock stands still
    success = metrics["teleconsultation_command_last_success_timestamp_seconds"][0].value
    assert success == ended


def test_a_failed_run_pushes_its_failure_and_leaves_the_last_success_alone(
    pending_room, simulator, settings
):
    settings.PROMETHEUS_PUSHGATEWAY_URL = PUSHGATEWAY
    simulator.fail_next("delete_room", mode="500")
    with responses.RequestsMock() as gateway:
        gateway.add(responses.POST, RECONCILE_PUSH, status=200)
        with pytest.raises(CommandError):
            reconcile()
        metrics = pushed(gateway.calls[0])
    assert metrics["teleconsultation_command_failed"][0].value == 1
    items = {s.labels["outcome"]: s.value for s in metrics["teleconsultation_command_items"]}
    assert items["failed"] == 1
    assert "teleconsultation_command_last_success_timestamp_seconds" not in metrics


def test_a_dry_run_pushes_nothing(pending_room, settings):
    settings.PROMETHEUS_PUSHGATEWAY_URL = PUSHGATEWAY
    with responses.RequestsMock() as gateway:
        reconcile("--dry-run")
        assert len(gateway.calls) == 0


@pytest.mark.parametrize(
    "answer",
    [{"status": 500}, {"body": requests.ConnectionError("refused")}],
    ids=["error", "unreachable"],
)
def test_a_pushgateway_in_trouble_is_a_warning_not_a_failed_run(
    pending_room, settings, caplog, answer
):
    settings.PROMETHEUS_PUSHGATEWAY_URL = PUSHGATEWAY
    with responses.RequestsMock() as gateway, caplog.at_level(logging.INFO):
        gateway.add(responses.POST, RECONCILE_PUSH, **answer)
        reconcile()  # no CommandError: the run did its work
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [w for w in warnings if w.startswith("The run's metrics were not pushed")] != []
    [summary] = [r for r in caplog.records if r.name == "teleconsultation.commands"]
    assert summary.pushed is False


def test_the_push_is_counted_as_an_outbound_call(pending_room, settings):
    from prometheus_client import REGISTRY

    def pushes() -> float:
        labels = {"service": "pushgateway", "operation": "push", "outcome": "ok"}
        return REGISTRY.get_sample_value("outbound_requests_total", labels) or 0

    settings.PROMETHEUS_PUSHGATEWAY_URL = PUSHGATEWAY
    before = pushes()
    with responses.RequestsMock() as gateway:
        gateway.add(responses.POST, RECONCILE_PUSH, status=200)
        reconcile()
        assert len(gateway.calls) == 1
    assert pushes() == before + 1
