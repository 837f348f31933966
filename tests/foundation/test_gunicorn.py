"""The service under gunicorn with gunicorn.conf.py, as the image runs it, on a loopback port.

Every line gunicorn and the service write is one JSON object (a Python warning and a refused Host
included); each request has one access line (probes none); the metrics of every worker add up; a
refused start-up stops gunicorn.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ["--config", "gunicorn.conf.py"]
GUNICORN = [sys.executable, "-m", "gunicorn", *CONFIG]
# gunicorn as above, on a settings object whose static files were never collected (and that
# whitenoise does not look for at each request, as with DEBUG on): its middleware warns on loading.
NO_STATIC_FILES_GUNICORN = [
    sys.executable,
    "-c",
    "import os, sys; os.environ['DJANGO_SETTINGS_MODULE'] = 'teleconsultation_project.settings'; "
    "from django.conf import settings; "
    "settings.STATIC_ROOT = sys.argv.pop(1); settings.WHITENOISE_AUTOREFRESH = False; "
    "from gunicorn.app.wsgiapp import run; run()",
]
REQUESTS_PER_RUN = 12
REFUSED_HOST_PATH = "/refused-host"  # asked for with a Host the service does not serve
MALFORMED_PATH = "/malformed"  # requests gunicorn refuses before Django sees them
MALFORMED = {
    "NUL in a header": (b"X-Probe: a\x00b\r\n", 400),
    "ESC in a header": (b"X-Probe: a\x1b[31mb\r\n", 400),
    "20 KB header": (b"X-Probe: " + b"a" * 20 * 1024 + b"\r\n", 431),
    "folded header": (b"X-Probe: a\r\n b\r\n", 400),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(tmp_path: Path, **overrides) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DJANGO_", "BANDYER_", "KALEYRA_", "GUNICORN_", "PROMETHEUS_", "OTEL_")
        )
        and key not in ("LOG_LEVEL", "DATABASE_URL", "SENTRY_DSN", "METRICS_TOKEN")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        KALEYRA_BACKEND="simulator",
        KALEYRA_SIMULATOR_DB=str(tmp_path / "simulator.sqlite3"),
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="2",
        **overrides,
    )
    return env


def get(url: str, **headers) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (loopback only)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def raw_exchange(base: str, request: bytes) -> tuple[int, str, str]:
    """Sends `request` as it is; the status, Content-Type and body of the answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers.get("content-type", ""), body.decode()


def json_lines(path: Path) -> list[dict]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
        assert isinstance(parsed[-1], dict), line
    return parsed


@contextmanager
def gunicorn_serving(command: list[str], tmp_path: Path, **overrides: str) -> Iterator[str]:
    """Migrates, runs gunicorn until the block ends, yields its base URL; its output goes to
    `stdout` and `stderr` in tmp_path. `overrides` are more environment variables."""
    env = clean_env(tmp_path, **overrides)
    migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True, timeout=120)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    err = tmp_path / "stderr"
    with (tmp_path / "stdout").open("w") as stdout, err.open("w") as stderr:
        server = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(f"{base}/-/healthz")
                break
            except OSError:
                assert server.poll() is None, err.read_text()
                assert time.monotonic() < deadline, "gunicorn did not answer in 30 s"
                time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Runs gunicorn, sends the requests, stops it; yields what it answered and wrote."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    answers = {}
    with gunicorn_serving(GUNICORN, tmp_path) as base:
        for index in range(REQUESTS_PER_RUN):
            answers[f"/nowhere/{index}"] = get(
                f"{base}/nowhere/{index}", **{"X-Request-Id": f"r{index}"}
            )
        for path in ("/-/healthz", "/-/ready", "/-/check-up"):
            answers[path] = get(f"{base}{path}", Host="10.42.0.7:8000")
        answers["scrapes"] = [get(f"{base}/-/metrics") for _ in range(6)]
        answers[REFUSED_HOST_PATH] = get(f"{base}{REFUSED_HOST_PATH}", Host="scanner.example")
        for name, (header, _) in MALFORMED.items():
            request = f"GET {MALFORMED_PATH} HTTP/1.1\r\nHost: localhost\r\n".encode() + header
            answers[name] = raw_exchange(base, request + b"\r\n")
        long_url = f"GET {MALFORMED_PATH}/{'a' * 8192} HTTP/1.1\r\nHost: localhost\r\n\r\n"
        answers["8 KB URL"] = raw_exchange(base, long_url.encode())
    return {"answers": answers, "stdout": tmp_path / "stdout", "stderr": tmp_path / "stderr"}


def test_every_line_written_is_one_json_object(served):
    lines = json_lines(served["stdout"]) + json_lines(served["stderr"])
    assert {"gunicorn.error", "gunicorn.access"} <= {line["logger"] for line in lines}
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)


def test_each_request_has_one_access_line_with_its_request_id_and_probes_none(served):
    answers = served["answers"]
    assert answers["/nowhere/0"][0] == 404
    assert [answers[path][0] for path in ("/-/healthz", "/-/ready", "/-/check-up")] == [200] * 3
    access = [
        line
        for line in json_lines(served["stderr"])
        if "path" in line and not line["path"].startswith((REFUSED_HOST_PATH, MALFORMED_PATH))
    ]
    assert sorted(line["path"] for line in access) == sorted(
        f"/nowhere/{index}" for index in range(REQUESTS_PER_RUN)
    )
    assert {line["request_id"] for line in access} == {f"r{i}" for i in range(REQUESTS_PER_RUN)}
    assert all(line["status"] == 404 and line["duration_ms"] >= 0 for line in access)


def test_a_host_we_do_not_serve_is_one_warning_line_naming_it_without_a_traceback(served):
    assert served["answers"][REFUSED_HOST_PATH][0] == 400
    [line] = [
        line
        for line in json_lines(served["stderr"])
        if line["logger"] == "django.security.DisallowedHost"
    ]
    assert line["level"] == "WARNING" and "'scanner.example'" in line["message"]
    assert "exception" not in line


@pytest.mark.parametrize(
    ("name", "status"),
    [(name, status) for name, (_, status) in MALFORMED.items()] + [("8 KB URL", 414)],
)
def test_a_request_gunicorn_refuses_itself_is_answered_in_the_json_error_shape(
    served, name, status
):
    answered, content_type, body = served["answers"][name]
    assert (answered, content_type) == (status, "application/json")
    error = json.loads(body)
    assert error["statusCode"] == status
    assert error["error"] and error["message"]


def test_a_warning_while_the_middleware_loads_is_one_json_line(tmp_path):
    never_collected = tmp_path / "staticfiles"
    with gunicorn_serving([*NO_STATIC_FILES_GUNICORN, str(never_collected), *CONFIG], tmp_path):
        pass
    [line] = [line for line in json_lines(tmp_path / "stderr") if line["logger"] == "py.warnings"]
    assert line["level"] == "WARNING"
    assert f"UserWarning: No directory at: {never_collected}/" in line["message"]
    assert "exception" not in line


def test_the_metrics_of_every_worker_add_up_in_each_scrape(served):
    not_found_counts = set()
    for status, page in served["answers"]["scrapes"]:
        assert status == 200
        samples = {
            sample.labels.get("status"): sample.value
            for family in text_string_to_metric_families(page)
            if family.name == "django_http_responses_total_by_status"
            for sample in family.samples
        }
        not_found_counts.add(samples.get("404"))
    assert not_found_counts == {REQUESTS_PER_RUN}


def test_a_refused_start_up_stops_gunicorn_with_one_message_naming_the_variables(tmp_path):
    env = clean_env(tmp_path, DJANGO_DEBUG="false")
    result = subprocess.run(
        [*GUNICORN, "--bind", f"127.0.0.1:{free_port()}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    [line] = [json.loads(line) for line in result.stderr.splitlines()]
    assert line["level"] == "CRITICAL" and line["message"].startswith("Cannot start: ")
    for variable in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "BANDYER_API_SECRET_KEY"):
        assert variable in line["message"]
    assert result.stdout == ""
