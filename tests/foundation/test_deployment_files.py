"""The image, compose and gunicorn.conf.py say what the operations guide promises."""

import fnmatch
import json
import math
import runpy
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_ARGV = ["gunicorn", "--config", "gunicorn.conf.py"]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def last(instruction: str) -> str | None:
    found = [args for keyword, args in dockerfile_instructions() if keyword == instruction]
    return found[-1] if found else None


def exec_form(arguments: str) -> list[str]:
    """The argv of an exec-form (JSON) or shell-form instruction."""
    if arguments.startswith("["):
        return json.loads(arguments)
    return ["/bin/sh", "-c", arguments]


@pytest.fixture
def gunicorn_settings(monkeypatch, tmp_path):
    def load(**env):
        # Given a metrics directory, the file creates none in this process.
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
        for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS", "KALEYRA_REQUEST_DEADLINE_SECONDS"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    return load


def test_the_image_runs_gunicorn_with_gunicorn_conf_py():
    assert last("ENTRYPOINT") is None
    assert exec_form(last("CMD")) == GUNICORN_ARGV


def test_gunicorn_conf_py_serves_the_wsgi_application(gunicorn_settings):
    module, _, attribute = gunicorn_settings()["wsgi_app"].partition(":")
    source = (ROOT / (module.replace(".", "/") + ".py")).read_text()
    assert f"\n    {attribute} = " in source or f"\n{attribute} = " in source


def test_the_image_runs_as_a_numeric_non_root_user():
    user = last("USER")
    assert user is not None and user.isdigit() and int(user) > 0
    keywords = [keyword for keyword, _ in dockerfile_instructions()]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")


def test_the_image_has_a_healthcheck_on_the_liveness_probe_of_the_served_port(gunicorn_settings):
    arguments = last("HEALTHCHECK")
    assert arguments is not None and " CMD " in f" {arguments} "
    command = " ".join(exec_form(arguments.split(" CMD ", 1)[1].strip()))
    port = gunicorn_settings()["bind"].rsplit(":", 1)[1]
    assert f"127.0.0.1:{port}/-/healthz" in command


def test_the_image_installs_the_runtime_lock_alone_checking_every_hash():
    installs = [args for keyword, args in dockerfile_instructions() if "pip install" in args]
    assert installs == ["pip install --require-hashes -r requirements/base.txt"]


def dockerignored(path: str) -> bool:
    """Docker's rule for a top-level path: the last matching pattern wins; `!` re-includes."""
    ignored = False
    for pattern in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        if fnmatch.fnmatchcase(path, pattern.lstrip("!").rstrip("/")):
            ignored = not negated
    return ignored


@pytest.mark.parametrize("path", [".env", ".env.production", ".venv", "var", ".git"])
def test_secrets_state_and_history_stay_out_of_the_image(path):
    assert dockerignored(path)


@pytest.mark.parametrize(
    "path", [".env.example", "manage.py", "gunicorn.conf.py", "requirements", "rooms"]
)
def test_what_the_image_needs_is_sent_to_the_build(path):
    assert not dockerignored(path)


def test_gunicorn_kills_a_worker_only_after_the_kaleyra_deadline(gunicorn_settings):
    for deadline in ("20", "45.5"):
        conf = gunicorn_settings(KALEYRA_REQUEST_DEADLINE_SECONDS=deadline)
        assert conf["timeout"] > math.ceil(float(deadline))
        assert conf["graceful_timeout"] >= conf["timeout"]
    assert gunicorn_settings()["timeout"] > 20  # the client's default deadline


def test_gunicorn_workers_and_threads_come_from_the_environment(gunicorn_settings):
    conf = gunicorn_settings(GUNICORN_WORKERS="3", GUNICORN_THREADS="6")
    assert (conf["workers"], conf["threads"]) == (3, 6)
    defaults = gunicorn_settings()
    assert 1 <= defaults["workers"] <= 8 and defaults["threads"] >= 1
    assert defaults["keepalive"] > 60  # longer than the proxy's idle timeout


def test_compose_runs_migrations_then_gunicorn_with_its_conf():
    service = compose()["services"]["service"]
    command = " ".join(service["command"])
    migrate, _, serve = command.partition("&&")
    assert "manage.py migrate --noinput" in migrate
    assert shlex.split(serve)[-len(GUNICORN_ARGV) :] == GUNICORN_ARGV


def test_compose_has_postgres_and_redis_healthy_before_the_service():
    services = compose()["services"]
    assert int(services["db"]["image"].split(":")[1]) >= 15
    assert services["redis"]["image"].startswith("redis:")
    service = services["service"]
    assert service["environment"]["CACHE_URL"].startswith("redis://redis:6379")
    for dependency in ("db", "redis"):
        assert service["depends_on"][dependency]["condition"] == "service_healthy"
        assert "healthcheck" in services[dependency]
    assert "/-/ready" in " ".join(service["healthcheck"]["test"])


def test_compose_serves_plain_http_on_localhost_only_through_the_documented_switch():
    service = compose()["services"]["service"]
    assert service["environment"]["DJANGO_INSECURE_LOCAL_HTTP"].startswith(
        "${DJANGO_INSECURE_LOCAL_HTTP:-"
    )
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])
    assert "DJANGO_INSECURE_LOCAL_HTTP" in (ROOT / "docs" / "operations.md").read_text()


def test_compose_keeps_the_database_in_a_named_volume():
    document = compose()
    assert "pgdata" in document["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in document["services"]["db"]["volumes"]


def test_the_readme_names_the_compose_version_needed():
    assert "v2.24" in (ROOT / "README.md").read_text()


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="docker compose is not installed here",
)
def test_docker_compose_config_validates():
    result = subprocess.run(
        ["docker", "compose", "-f", "docker-compose.yml", "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"POSTGRES_PASSWORD": "x", "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    assert result.returncode == 0, result.stderr
