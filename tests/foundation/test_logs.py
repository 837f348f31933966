"""One JSON log format with the request id and no secret; commands log INFO only at -v 2; a
refused Host and a Python warning are one JSON line each, without a traceback."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from teleconsultation_project.logs import JsonLineFormatter, RequestIdFilter, command_verbosity

ROOT = Path(__file__).resolve().parents[2]
SECRET = "ak_live_supersecret"
LINK = "https://sandbox.bandyer.com/connect/direct-rest-call-handler/tok123?x=1"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlLXNlY3JldA"


def format_record(message, *args, exc_info=None, **extra):
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, args, exc_info)
    record.__dict__.update(extra)
    RequestIdFilter().filter(record)
    return json.loads(JsonLineFormatter().format(record))


def test_a_line_is_one_json_object_with_the_documented_fields():
    line = format_record("created %s", "room_1", operation="create", status=201)
    assert list(line)[:5] == ["time", "level", "logger", "message", "request_id"]
    assert line["message"] == "created room_1" and line["level"] == "INFO"
    assert line["time"].endswith("+00:00") and line["logger"] == "t"
    assert line["operation"] == "create" and line["status"] == 201


def test_no_field_of_a_line_contains_the_api_key_a_join_link_or_a_jwt(settings):
    settings.BANDYER_API_SECRET_KEY = SECRET
    line = format_record("calling with %s and link %s", SECRET, LINK, path=LINK, token=JWT)
    text = json.dumps(line)
    for secret in ("supersecret", "tok123", "c2lnbmF0dXJlLXNlY3JldA"):
        assert secret not in text
    assert "rest-call-handler/[redacted]" in line["message"]
    assert line["token"].endswith("[redacted]")


def test_an_access_line_hides_a_calendar_feeds_secret():
    path = "/calendar/ccbhVfYIM9nALgHCjYXXQpaX54XrRrMtMWYsizIlS7A.ics"
    line = format_record("GET %s 304", path, path=path, status=304)
    assert "ccbhVfYIM9nALgHC" not in json.dumps(line)
    assert (line["message"], line["path"]) == (
        "GET /calendar/[redacted] 304",
        "/calendar/[redacted]",
    )


def test_a_simulators_join_link_is_hidden_in_every_field():
    # Each pattern is searched only when its fixed part is in the field (logs.redact).
    link = "http://127.0.0.1:8787/join/tok456?language=it"
    line = format_record("link %s", link, link=link)
    assert "tok456" not in line["message"] and "tok456" not in line["link"]
    assert line["link"] == "http://127.0.0.1:8787/join/[redacted]?language=it"


def test_exceptions_in_logs_are_redacted_too(settings):
    settings.BANDYER_API_SECRET_KEY = SECRET
    try:
        raise ValueError(f"bad key {SECRET}")
    except ValueError:
        line = format_record("failed", exc_info=sys.exc_info())
    assert "ValueError: bad key [redacted-api-key]" in line["exception"]


def test_djangos_request_object_is_not_written_into_a_line(rf):
    line = format_record("Not Found", request=rf.get("/x?token=abc"), status_code=404)
    assert "request" not in line and line["status_code"] == 404


@pytest.mark.django_db
def test_the_request_id_is_taken_from_the_gateway_or_generated(client, caplog):
    with caplog.at_level(logging.INFO, logger="teleconsultation.access"):
        assert client.get("/nowhere", HTTP_X_REQUEST_ID="abc-1")["x-request-id"] == "abc-1"
    record = caplog.records[-1]
    RequestIdFilter().filter(record)  # what the handler does: read request_id_var
    assert record.request_id == "abc-1"
    generated = client.get("/nowhere")["x-request-id"]
    assert len(generated) == 32


@pytest.mark.django_db
@pytest.mark.parametrize("forged", ['a"\n{b', "abc\n", "caf\u00e9", "x" * 129, ""])
def test_a_request_id_that_could_forge_headers_or_lines_is_replaced(client, forged):
    echoed = client.get("/nowhere", HTTP_X_REQUEST_ID=forged)["x-request-id"]
    assert echoed != forged and len(echoed) == 32


@pytest.mark.django_db
def test_djangos_own_error_lines_carry_the_request_id(client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.delete("/documentation/json", HTTP_X_REQUEST_ID="req-405")
    record = next(r for r in caplog.records if r.name == "django.request")
    RequestIdFilter().filter(record)
    assert record.request_id == "req-405"


@pytest.mark.django_db
def test_a_host_we_do_not_serve_is_one_warning_line_naming_it_without_a_traceback(client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.security"):
        assert client.get("/nowhere", HTTP_HOST="scanner.example").status_code == 400
    [record] = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    line = json.loads(JsonLineFormatter().format(record))
    assert line["level"] == "WARNING" and "'scanner.example'" in line["message"]
    assert "exception" not in line


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["manage.py", "reconcile_rooms"], 1),
        (["manage.py", "reconcile_rooms", "-v", "0"], 0),
        (["manage.py", "reconcile_rooms", "-v2"], 2),
        (["manage.py", "migrate", "--verbosity=3"], 3),
        (["manage.py", "migrate", "--verbosity", "2", "--noinput"], 2),
        (["manage.py", "runserver", "-v", "0"], None),
    ],
)
def test_the_verbosity_is_read_from_the_command_line(argv, expected):
    assert command_verbosity(argv) == expected


LOGS_ONE_OF_EACH = (
    "import logging; log = logging.getLogger('teleconsultation.probe'); "
    "log.info('an info line'); log.warning('a warning line'); print('human output')"
)


def run_python(*arguments: str) -> subprocess.CompletedProcess:
    """Python in the project's folder, on its settings, with no DJANGO_ or LOG_LEVEL variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LOG_LEVEL"))}
    env["DJANGO_SETTINGS_MODULE"] = "teleconsultation_project.settings"
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_shell(*verbosity):
    return run_python("manage.py", "shell", *verbosity, "-c", LOGS_ONE_OF_EACH)


def json_lines(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


@pytest.mark.parametrize("verbosity", [(), ("-v", "0"), ("-v", "1")])
def test_a_command_logs_only_warnings_by_default(verbosity):
    result = run_shell(*verbosity)
    assert result.returncode == 0, result.stderr
    assert "human output" in result.stdout
    assert [line["message"] for line in json_lines(result.stderr)] == ["a warning line"]


def test_a_command_logs_info_from_verbosity_2():
    result = run_shell("-v", "2")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stderr)
    assert [line["level"] for line in lines] == ["INFO", "WARNING"]
    assert "human output" in result.stdout and "human output" not in result.stderr


# What runserver does before it serves (manage.py has set Django up): it loads the WSGI
# application, hence the middleware; here on static files never collected, which whitenoise
# (not looking for them at each request, as with DEBUG on) warns about.
LOADS_THE_MIDDLEWARE_WITHOUT_STATIC_FILES = (
    "import sys, django; from django.conf import settings; "
    "settings.STATIC_ROOT = sys.argv[1]; settings.WHITENOISE_AUTOREFRESH = False; "
    "django.setup(); "
    "from django.core.servers.basehttp import get_internal_wsgi_application; "
    "get_internal_wsgi_application()"
)


def test_a_warning_while_the_middleware_loads_is_one_json_line(tmp_path):
    never_collected = tmp_path / "staticfiles"
    result = run_python("-c", LOADS_THE_MIDDLEWARE_WITHOUT_STATIC_FILES, str(never_collected))
    assert result.returncode == 0, result.stderr
    [line] = json_lines(result.stderr)
    assert line["level"] == "WARNING" and line["logger"] == "py.warnings"
    assert f"UserWarning: No directory at: {never_collected}/" in line["message"]
    assert "exception" not in line
