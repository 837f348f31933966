"""Start-up checks of the environment that must run before Django is configured.

They live apart from settings.py so the messages can be tested without re-importing settings.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

# Variables production must be given explicitly: no default is safe for any of them.
PRODUCTION_REQUIRED = (
    ("DJANGO_SECRET_KEY", "signs sessions and admin logins"),
    ("DJANGO_ALLOWED_HOSTS", "host names the service answers to, comma separated"),
    ("BANDYER_API_SECRET_KEY", "the Kaleyra Video API key"),
    ("BANDYER_BASE_URL", "the Kaleyra Video API base URL, e.g. https://api.eu.bandyer.com"),
)


def environment_errors(env: environ.Env, *, debug: bool) -> list[str]:
    """One message per production variable that is missing or blank."""
    if debug:
        return []
    return [
        f"{name} is not set ({why})"
        for name, why in PRODUCTION_REQUIRED
        if not env.str(name, default="").strip()
    ]


INSTRUMENTED_ENGINES = {
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
}


def read_database(env: environ.Env, base_dir: Path) -> dict:
    """The default database from DATABASE_URL, or a SQLite file under var/."""
    default_url = f"sqlite:///{base_dir / 'var' / 'db.sqlite3'}"
    url = env.str("DATABASE_URL", default="") or default_url
    try:
        config = env.db_url_config(url)
    except (ImproperlyConfigured, ValueError, KeyError) as exc:
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a usable database URL ({exc}); expected e.g. "
            "postgres://user:password@host:5432/name or sqlite:////absolute/path.sqlite3"
        ) from exc
    engine = config.get("ENGINE", "")
    if engine in INSTRUMENTED_ENGINES:
        # The same engines, counting queries and their time for /-/metrics.
        config["ENGINE"] = INSTRUMENTED_ENGINES[engine]
    if test_name := env.str("DATABASE_TEST_NAME", default=""):
        # Each test run on a shared server gets its own database (scripts/postgres_leg.py).
        config["TEST"] = {"NAME": test_name}
    if engine.endswith("sqlite3"):
        name = config.get("NAME") or ""
        if name and name != ":memory:":
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        # IMMEDIATE makes every transaction take the write lock up front, so concurrent writers
        # queue instead of failing half-way with "database is locked".
        # Reused connections: opening one re-runs the PRAGMAs, which dominated a GET.
        config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif "postgresql" in engine:
        # Persistent connections: each gunicorn thread reuses one. A health check before reuse
        # costs a round trip on every request (docs/performance.md), so it is opt-in.
        config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=False)
        config.setdefault("OPTIONS", {})["connect_timeout"] = env.int(
            "DATABASE_CONNECT_TIMEOUT", default=5
        )
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL uses an unsupported engine ({engine or 'unknown'}); "
            "use postgres:// or sqlite://"
        )
    return config


def optional_milliseconds(env: environ.Env, name: str) -> int | None:
    """A duration in milliseconds that may be left unset (blank reads as unset); a value that is
    not a whole number of at least 0 stops the start-up, naming the variable."""
    raw = env.str(name, default="").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a whole number of milliseconds (0 or more); leave it unset "
            "for no limit"
        )
    return value
