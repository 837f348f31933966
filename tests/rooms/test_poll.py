"""The poll served ahead of the stack (rooms/api/poll.py) answers exactly as the DRF view does.

Each request is sent twice, once through the service as configured and once with the poll
middleware taken out (so the view answers), and the two answers must be the same bytes: status,
body and headers (the request id aside when the service made it up), the same audit entries and
the same request metrics. A plain poll must not reach the view; anything the view has to
validate, parse or negotiate must.
"""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from prometheus_client import REGISTRY

from rooms.api import teleconsultations
from rooms.selectors import join_link
from rooms.storage import get_storage
from rooms.storage.base import StorageUnavailable
from tests.conftest import GatewayClient
from tests.rooms.conftest import NOW

pytestmark = [pytest.mark.usefixtures("storage_backend"), pytest.mark.django_db]

POLL = "rooms.api.poll.PollMiddleware"
PATIENT = {"HTTP_MIAUSERID": "patient-1", "HTTP_MIAUSERGROUPS": "customer"}
DOCTOR = {"HTTP_MIAUSERID": "doctor-1", "HTTP_MIAUSERGROUPS": "doctor"}


@pytest.fixture
def view_dispatches(monkeypatch):
    """The paths the DRF view was asked to answer."""
    seen = []
    dispatch = teleconsultations.TeleconsultationApi.dispatch

    def counted(view, request, *args, **kwargs):
        seen.append(request.path)
        return dispatch(view, request, *args, **kwargs)

    monkeypatch.setattr(teleconsultations.TeleconsultationApi, "dispatch", counted)
    return seen


def request_metrics() -> dict:
    """Every request-metric sample but the timings (which differ between any two requests)."""
    samples = {}
    for family in REGISTRY.collect():
        if not family.name.startswith("django_http_"):
            continue
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue  # when a label set was first seen
            if "latency" in sample.name and not sample.name.endswith("_count"):
                continue
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def audit_trail() -> list:
    since = NOW - timedelta(days=1)
    return [
        (e.action, e.actor, e.outcome, e.teleconsultation_id, e.client_type, e.request_id)
        for batch in get_storage().audit_entries(since=since)
        for e in batch
    ]


def answer(settings, path: str, *, poll: bool, query=None, **headers):
    """(status, body, headers, audit entries added, metric changes) of one GET."""
    settings.MIDDLEWARE = (
        django_settings.MIDDLEWARE if poll else [m for m in django_settings.MIDDLEWARE if m != POLL]
    )
    client = GatewayClient().anonymous()
    before_audit, before_metrics = audit_trail(), request_metrics()
    response = client.get(path, query, **headers)
    after_metrics = request_metrics()
    changes = {
        key: value - before_metrics.get(key, 0)
        for key, value in after_metrics.items()
        if value != before_metrics.get(key, 0)
    }
    kept = {
        name: value
        for name, value in response.items()
        if name.lower() != "x-request-id" or "HTTP_X_REQUEST_ID" in headers
    }
    added = [entry for entry in audit_trail() if entry not in before_audit]
    return response.status_code, response.content, kept, added, changes


def same_answer(settings, path: str, *, query=None, **headers):
    served = answer(settings, path, poll=True, query=query, **headers)
    expected = answer(settings, path, poll=False, query=query, **headers)
    assert served[:3] == expected[:3]
    assert [entry[:5] for entry in served[3]] == [entry[:5] for entry in expected[3]]
    assert served[4] == expected[4]
    return served


CALLERS = {
    "patient": PATIENT,
    "doctor with a client type": {**DOCTOR, "HTTP_CLIENT_TYPE": "mobile-app"},
    "stranger": {"HTTP_MIAUSERID": "someone-else", "HTTP_MIAUSERGROUPS": "customer"},
    "no identity": {},
    "the back office alone": {"HTTP_ISBACKOFFICE": "true"},
    "a request id of its own": {**PATIENT, "HTTP_X_REQUEST_ID": "gateway-1234"},
    "Accept */*": {**PATIENT, "HTTP_ACCEPT": "*/*"},
    "Accept as axios": {**PATIENT, "HTTP_ACCEPT": "application/json, text/plain, */*"},
}


@pytest.mark.parametrize("caller", CALLERS)
def test_a_poll_before_the_visit_is_answered_as_the_view_does(
    settings, visit, view_dispatches, caller
):
    status, *_ = same_answer(settings, f"/teleconsultation/{visit}", **CALLERS[caller])
    assert status in (200, 401)
    assert view_dispatches == [f"/teleconsultation/{visit}"]  # the view ran once: the reference


@pytest.mark.parametrize("caller", ["patient", "doctor with a client type"])
def test_a_poll_that_hands_out_the_link_is_answered_and_audited_as_the_view_does(
    settings, visit, clock, caller
):
    clock.move_to(NOW + timedelta(hours=2))
    status, body, _, audited, _ = same_answer(
        settings, f"/teleconsultation/{visit}", **CALLERS[caller]
    )
    assert status == 200 and b'"accessLinkURL":"http' in body
    assert [entry[0] for entry in audited] == ["link.handed_out"]


@pytest.mark.parametrize(
    "room_id", ["0123456789abcdef01234567", "not-an-id", "x" * 300, "%E2%82%AC"]
)
def test_unknown_and_malformed_ids_are_answered_as_the_view_does(settings, room_id):
    status, *_ = same_answer(settings, f"/teleconsultation/{room_id}", **PATIENT)
    assert status == 404


def test_too_many_query_parameters_are_a_400_as_the_view_gives_it(settings, visit):
    too_many = "&".join(f"p{number}=1" for number in range(1001))  # DATA_UPLOAD_MAX_NUMBER_FIELDS
    status, body, *_ = same_answer(settings, f"/teleconsultation/{visit}?{too_many}", **PATIENT)
    assert status == 400 and b"Too many parameters in the query string" in body


def test_a_cache_buster_is_ignored_as_the_view_does(settings, visit, view_dispatches):
    same_answer(settings, f"/teleconsultation/{visit}", query={"_": "1733040000"}, **PATIENT)
    assert len(view_dispatches) == 1


def test_a_provider_failure_is_answered_as_the_view_does(settings, visit, simulator):
    settings.KALEYRA_ROOM_DETAILS_TTL_SECONDS = 0
    simulator.fail_next("get_room", mode="500", times=20)
    status, body, *_ = same_answer(settings, f"/teleconsultation/{visit}", **PATIENT)
    assert status == 200 and b'"details":null' in body  # details are informative only


@pytest.mark.parametrize(
    "failure, status",
    [(StorageUnavailable("connection refused"), 503), (RuntimeError("a bug"), 500)],
    ids=["storage unavailable", "unexpected"],
)
def test_failures_are_answered_as_the_view_does(settings, visit, monkeypatch, failure, status):
    class Failing:
        def find(self, *args, **kwargs):
            raise failure

    monkeypatch.setattr(join_link, "get_storage", Failing)
    answered, body, *_ = same_answer(settings, f"/teleconsultation/{visit}", **PATIENT)
    assert answered == status and b"a bug" not in body


def test_a_plain_poll_never_reaches_the_view(api, visit, view_dispatches):
    for headers in CALLERS.values():
        api.anonymous().get(f"/teleconsultation/{visit}", **headers)
    assert view_dispatches == []


@pytest.mark.parametrize(
    "query, headers",
    [
        ({"language": "it"}, {}),
        ({"useBackground": "true"}, {}),
        ({"format": "json"}, {}),
        ({}, {"HTTP_ACCEPT": "application/json; indent=4"}),
        ({}, {"HTTP_ACCEPT": "text/html"}),
        ({}, {"CONTENT_LENGTH": "2", "CONTENT_TYPE": "application/json"}),
    ],
    ids=["language", "useBackground", "format", "indent", "html", "a body"],
)
def test_what_the_view_must_validate_or_negotiate_goes_to_the_view(
    api, visit, view_dispatches, query, headers
):
    response = api.anonymous().get(f"/teleconsultation/{visit}", query, **PATIENT, **headers)
    assert view_dispatches == [f"/teleconsultation/{visit}"]
    assert response.status_code in (200, 406)


def test_a_host_not_allowed_is_refused_by_the_stack(api, visit, settings):
    settings.ALLOWED_HOSTS = ["teleconsultation.example.org"]
    response = api.anonymous().get(f"/teleconsultation/{visit}", HTTP_HOST="evil.test", **PATIENT)
    assert response.status_code == 400


def test_other_methods_and_paths_go_to_the_stack(api, visit, view_dispatches):
    api.anonymous().delete(f"/teleconsultation/{visit}", **PATIENT)
    api.anonymous().get(f"/teleconsultation/{visit}/", **PATIENT)
    assert view_dispatches == [f"/teleconsultation/{visit}"]
