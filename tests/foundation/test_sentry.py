"""Sentry: on with SENTRY_DSN, and a report carries no body, header, cookie, query or secret.

Sentry's Django integration patches Django for the whole process, so the service runs in a child
process, with a transport that keeps the events instead of sending them anywhere.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from teleconsultation_project.sentry import scrub_event

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
from unittest import mock
from sentry_sdk.transport import Transport

events = []

class KeepEvents(Transport):
    def capture_envelope(self, envelope):
        events.extend(item.payload.json for item in envelope.items if item.type == "event")

import teleconsultation_project.sentry as sentry
real_init = sentry.init_sentry
sentry.init_sentry = lambda dsn, **options: real_init(dsn, transport=KeepEvents, **options)

import django
django.setup()
import sentry_sdk
from django.test import Client
from drf_spectacular.views import SpectacularAPIView

assert sentry_sdk.get_client().options["send_default_pii"] is False
failure = RuntimeError("upstream refused ak_live_supersecret")
with mock.patch.object(SpectacularAPIView, "get", side_effect=failure):
    Client().generic(
        "GET", "/documentation/json?token=query-secret", '{"fullName": "Body Secret"}',
        content_type="application/json", HTTP_COOKIE="sessionid=cookie-secret",
        HTTP_X_CUSTOM="header-secret", HTTP_X_REQUEST_ID="req-sentry-1",
    )
options = sentry_sdk.get_client().options
print(json.dumps({"events": events, "traces_sample_rate": options["traces_sample_rate"]}))
"""


def run_child(**env_overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SENTRY_"))}
    env.update(DJANGO_SETTINGS_MODULE="teleconsultation_project.settings", **env_overrides)
    result = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


DSN = "https://public@o0.ingest.example.invalid/1"


def test_a_report_is_tagged_with_the_request_id_of_its_log_lines():
    [event] = run_child(SENTRY_DSN=DSN)["events"]
    assert event["tags"]["request_id"] == "req-sentry-1"


def test_sentrys_own_traces_are_off_unless_a_sample_rate_is_set():
    assert run_child(SENTRY_DSN=DSN)["traces_sample_rate"] is None
    assert run_child(SENTRY_DSN=DSN, SENTRY_TRACES_SAMPLE_RATE="0.25")["traces_sample_rate"] == 0.25


def test_a_failure_is_reported_without_body_headers_cookies_query_or_secrets():
    events = run_child(SENTRY_DSN=DSN, BANDYER_API_SECRET_KEY="ak_live_supersecret")["events"]
    assert events, "the failure was not reported"
    report = json.dumps(events)
    assert "RuntimeError" in report and "upstream refused" in report
    for secret in ("supersecret", "query-secret", "Body Secret", "cookie-secret", "header-secret"):
        assert secret not in report
    for event in events:
        assert set(event.get("request", {})) <= {"method", "url"}


def test_scrubbing_keeps_only_the_method_and_the_path_of_the_request():
    event = {
        "request": {
            "method": "POST",
            "url": "https://svc.example.org/teleconsultation?token=x",
            "query_string": "token=x",
            "headers": {"Authorization": "Bearer y"},
            "cookies": {"sessionid": "z"},
            "data": {"fullName": "Ada"},
            "env": {"REMOTE_ADDR": "10.0.0.1"},
        },
        "message": "link https://x/rest-call-handler/tok123",
    }
    scrubbed = scrub_event(event)
    assert scrubbed["request"] == {
        "method": "POST",
        "url": "https://svc.example.org/teleconsultation",
    }
    assert "tok123" not in scrubbed["message"]
