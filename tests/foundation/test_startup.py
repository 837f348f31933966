"""Start-up fails fast, naming what is wrong; the documented production settings pass --deploy."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from teleconsultation_project.envcheck import environment_errors

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-0123456789",
    "DJANGO_ALLOWED_HOSTS": "teleconsultation.example.org",
    "BANDYER_API_SECRET_KEY": "ak_live_example",
    "BANDYER_BASE_URL": "https://api.eu.bandyer.com",
}


def manage(*args, **env_overrides):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "BANDYER_", "KALEYRA_", "TELECONSULTATION_", "LIVE_"))
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


class Env:
    def __init__(self, values):
        self.values = values

    def str(self, name, default=""):
        return self.values.get(name, default)


def test_production_names_every_missing_variable():
    errors = environment_errors(Env({"DJANGO_SECRET_KEY": "x"}), debug=False)
    named = " ".join(errors)
    for variable in ("DJANGO_ALLOWED_HOSTS", "BANDYER_API_SECRET_KEY", "BANDYER_BASE_URL"):
        assert variable in named
    assert "DJANGO_SECRET_KEY" not in named


def test_development_needs_no_variable():
    assert environment_errors(Env({}), debug=True) == []


@pytest.mark.parametrize("command", ["check", "migrate", "reconcile_rooms"])
def test_production_refuses_to_start_without_its_secrets_in_one_message(command):
    result = manage(command, DJANGO_DEBUG="false", DJANGO_SECRET_KEY="only-this-one")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Refusing to start in production mode")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "BANDYER_API_SECRET_KEY is not set" in result.stderr
    assert "DJANGO_ALLOWED_HOSTS is not set" in result.stderr


def test_the_documented_production_settings_pass_check_deploy(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://user@host/db", "unsupported engine"),
        ("definitely not a url", "DATABASE_URL"),
    ],
)
def test_a_bad_database_url_stops_start_up_with_a_clear_message(url, expected):
    result = manage("check", DATABASE_URL=url)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_configuration_file_stops_start_up(tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{"privileges": {"basic": {"groups": ["a"]}}}')
    result = manage("check", TELECONSULTATION_SERVICE_CONFIG_PATH=str(config))
    assert result.returncode != 0
    assert f"{config}: privileges.plus: is required" in result.stderr


SHOW_SETTINGS = (
    "from django.conf import settings as s; import json; print(json.dumps({"
    "'redirect': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS, "
    "'preload': s.SECURE_HSTS_PRELOAD, 'cookies': s.SESSION_COOKIE_SECURE, "
    "'hosts': s.ALLOWED_HOSTS}))"
)


def production_settings(tmp_path, **overrides) -> dict:
    result = manage(
        "shell",
        "-c",
        SHOW_SETTINGS,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **{**PRODUCTION, **overrides},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_production_demands_https_but_leaves_hsts_preload_to_the_operator(tmp_path):
    assert production_settings(tmp_path) == {
        "redirect": True,
        "hsts": 31536000,
        "preload": False,
        "cookies": True,
        "hosts": ["teleconsultation.example.org"],
    }
    assert production_settings(tmp_path, DJANGO_SECURE_HSTS_PRELOAD="true")["preload"] is True


def test_the_local_http_switch_serves_plain_http_on_localhost_and_says_so(tmp_path):
    local = production_settings(tmp_path, DJANGO_INSECURE_LOCAL_HTTP="true")
    assert (local["redirect"], local["hsts"], local["cookies"]) == (False, 0, False)
    assert {"teleconsultation.example.org", "localhost", "127.0.0.1"} <= set(local["hosts"])
    check = manage(
        "check",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_INSECURE_LOCAL_HTTP="true",
        **PRODUCTION,
    )
    assert "teleconsultation.W001" in check.stderr + check.stdout


@pytest.mark.parametrize(("value", "read"), [(None, "None"), ("false", "False")])
def test_live_teleconsultation_is_unset_unless_the_operator_sets_it(value, read):
    # Unset, room creation sends no `live` at all (kaleyra/wire.py): it is not on Kaleyra's v2
    # create-room page. Set, true or false, it is sent.
    variables = {} if value is None else {"LIVE_TELECONSULTATION": value}
    show = "from django.conf import settings; print(settings.LIVE_TELECONSULTATION)"
    result = manage("shell", "-c", show, DJANGO_DEBUG="true", **variables)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == read


def test_loading_the_application_imports_the_url_map_before_any_request():
    # gunicorn preloads the application in its master (gunicorn.conf.py): what loading imports
    # is there before the workers are forked, so no worker's first request imports the views.
    probe = (
        "import sys; import teleconsultation_project.wsgi; "
        "print(sorted(name for name in ('rooms.urls', 'rooms.api.teleconsultations') "
        "if name in sys.modules))"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "BANDYER_", "KALEYRA_", "TELECONSULTATION_", "LIVE_"))
    }
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "['rooms.api.teleconsultations', 'rooms.urls']"
