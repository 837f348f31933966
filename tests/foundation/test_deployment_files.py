"""The deployment files say what the operations guide promises."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_service_under_gunicorn_with_postgres_and_migrations():
    services = compose()["services"]
    assert services["db"]["image"].startswith("postgres:1")
    assert int(services["db"]["image"].split(":")[1]) >= 15
    command = services["service"]["command"]
    assert "migrate --noinput" in command and "gunicorn" in command
    assert services["service"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "healthcheck" in services["db"] and "healthcheck" in services["service"]
    assert "/-/ready" in " ".join(services["service"]["healthcheck"]["test"])


def test_compose_keeps_the_database_in_a_named_volume():
    document = compose()
    assert "pgdata" in document["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in document["services"]["db"]["volumes"]


def test_the_dockerfile_installs_from_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements/base.txt" in dockerfile
    assert "gunicorn" in dockerfile


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
