"""Django settings, read from the environment (django-environ) with Mia-Platform's variable names.

Development (`DJANGO_DEBUG=true`, the default) runs with no configuration at all: a SQLite file and
the bundled Kaleyra simulator. Production (`DJANGO_DEBUG=false`) refuses to start until every
secret it needs is given; `environment_errors()` names each missing variable.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from teleconsultation_project.envcheck import (
    environment_errors,
    optional_milliseconds,
    read_database,
)
from teleconsultation_project.sentry import init_sentry

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The settings file, `.env` by default (relative to the project); empty reads none. `make run`
# names none when the file would turn production mode on (scripts/run_local.py).
_env_file = env.str("DJANGO_ENV_FILE", default=".env")
if _env_file and (BASE_DIR / _env_file).is_file():  # optional: django-environ would log its
    env.read_env(BASE_DIR / _env_file, overwrite=False)  # absence at every start

DEBUG = env.bool("DJANGO_DEBUG", default=True)

_missing = environment_errors(env, debug=DEBUG)
if _missing:
    raise ImproperlyConfigured(
        "Refusing to start in production mode (DJANGO_DEBUG=false): " + "; ".join(_missing)
    )

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-never-used-in-production")
# Trying the production image on one's own machine (docker compose) over plain HTTP: localhost is
# served and nothing demands HTTPS. Never for a service others can reach (docs/operations.md).
INSECURE_LOCAL_HTTP = env.bool("DJANGO_INSECURE_LOCAL_HTTP", default=False)
LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[*LOCAL_HOSTS, "testserver"])
if INSECURE_LOCAL_HTTP:
    ALLOWED_HOSTS += [host for host in LOCAL_HOSTS if host not in ALLOWED_HOSTS]
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "teleconsultation_project.apps.TeleconsultationAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "teleconsultation_project.apps.ProjectConfig",
    "kaleyra.apps.KaleyraConfig",
    "crud.apps.CrudConfig",
    "rooms.apps.RoomsConfig",
    "settings_api.apps.SettingsApiConfig",
    # The admin's login protection (docs/security.md): lockout after failed logins, and TOTP
    # devices for the second factor that ADMIN_OTP_REQUIRED turns on.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
]

MIDDLEWARE = [
    # Probes and the metrics scrape answer whatever the Host, unlogged and uncounted.
    "teleconsultation_project.middleware.ProbeMiddleware",
    # Requests, answers by status, latency by route name (django-prometheus' series).
    "teleconsultation_project.middleware.RequestMetricsMiddleware",
    "teleconsultation_project.middleware.RequestIdMiddleware",
    # Every provider call of a request shares one deadline (KALEYRA_REQUEST_DEADLINE_SECONDS).
    "teleconsultation_project.middleware.RequestDeadlineMiddleware",
    "teleconsultation_project.middleware.ChunkedBodyMiddleware",
    "teleconsultation_project.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Sessions, the logged-in user and messages, for /admin/ only (ADMIN_MIDDLEWARE below).
    "teleconsultation_project.middleware.AdminOnlyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "teleconsultation_project.middleware.JsonErrorMiddleware",
]

# What only the admin needs, run by AdminOnlyMiddleware for /admin/ and skipped by the API. The
# admin's views are CSRF-protected by their own decorators (csrf_protect), so no CSRF middleware.
ADMIN_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.user.is_verified(): whether this login passed a second factor (ADMIN_OTP_REQUIRED).
    "django_otp.middleware.OTPMiddleware",
    # Turns a locked-out login into axes' answer (429); the last of the stack, as axes asks.
    "axes.middleware.AxesMiddleware",
]

# --- Admin login protection (docs/security.md#admin-logins) ------------------------------------
# django-axes counts failed admin logins per username and client address (REMOTE_ADDR: behind a
# proxy, per username); at AXES_FAILURE_LIMIT the pair is locked out for AXES_COOLOFF_MINUTES,
# the right password included. `manage.py axes_reset_username NAME` lifts a lockout at once.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesBackend",  # first: refuses a locked-out login before the password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# No banner line at each start; failures and lockouts are still WARNING lines, names masked.
AXES_VERBOSE = False
# Off by default: `true` makes the admin ask staff for a TOTP code as well (django-otp); enroll
# each account first (Admin > TOTP devices), or it can no longer open the admin.
ADMIN_OTP_REQUIRED = env.bool("ADMIN_OTP_REQUIRED", default=False)

ROOT_URLCONF = "teleconsultation_project.urls"
WSGI_APPLICATION = "teleconsultation_project.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": read_database(env, BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Stored and returned dates are always UTC; TIME_ZONE only changes how the admin shows them.
USE_TZ = True
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Request bodies: JSON bodies are small; the background image upload is the one large body.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
REQUEST_MAX_BODY_BYTES = env.int("REQUEST_MAX_BODY_BYTES", default=11 * 1024 * 1024)

# Production hardening; each value can be relaxed by its variable (see docs/operations.md).
HTTPS_ONLY = not DEBUG and not INSECURE_LOCAL_HTTP
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=HTTPS_ONLY)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
# Preloading is a promise to browsers that is slow to take back: the operator opts in.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# The admin's sessions, user and messages middleware are in ADMIN_MIDDLEWARE, run for /admin/ by
# AdminOnlyMiddleware, where Django's admin checks do not look (E408-E410); its views carry their
# own CSRF protection (security.W003 asks for the middleware). tests/foundation/test_admin_stack.py
SILENCED_SYSTEM_CHECKS += ["admin.E408", "admin.E409", "admin.E410", "security.W003"]
# axes looks for its middleware in MIDDLEWARE too; it is in ADMIN_MIDDLEWARE, the admin's stack.
SILENCED_SYSTEM_CHECKS += ["axes.W002"]
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "teleconsultation_project.identity.GatewayHeaderAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_PARSER_CLASSES": ["teleconsultation_project.input_limits.DepthLimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "teleconsultation_project.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Teleconsultation Service",
    "DESCRIPTION": (
        "Schedules video visits between doctors and patients on Kaleyra Video. "
        "Drop-in replacement for Mia-Platform's Teleconsultation Service Backend."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
}

# --- Mia-Platform variables (CONTRACT.md, Configuration) ---------------------------------------
BANDYER_API_SECRET_KEY = env.str("BANDYER_API_SECRET_KEY", default="")
BANDYER_BASE_URL = env.str("BANDYER_BASE_URL", default="")
TELECONSULTATION_SERVICE_CONFIG_PATH = env.str("TELECONSULTATION_SERVICE_CONFIG_PATH", default="")
TELECONSULTATIONS_CRUD_NAME = env.str("TELECONSULTATIONS_CRUD_NAME", default="teleconsultations")
USER_ID_MAP_CRUD_NAME = env.str("USER_ID_MAP_CRUD_NAME", default="userIdMap")
CRUD_SERVICE_URL = env.str("CRUD_SERVICE_URL", default="http://crud-service")
# Where teleconsultations live: this service's database, or Mia's CRUD Service (docs/crud.md).
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="django")
ROOM_JOBS_CRUD_NAME = env.str("ROOM_JOBS_CRUD_NAME", default="teleconsultation_room_jobs")
AUTH_SERVICE = env.str("AUTH_SERVICE", default="")
# Mia 1.8.0 custom user ids (docs/directory.md): where a client's own id is mapped to the auth0 id.
CUSTOM_ID_USERS_API_ENDPOINT = env.str("CUSTOM_ID_USERS_API_ENDPOINT", default="")
CUSTOM_ID_USERS_QUERY_STYLE = env.str("CUSTOM_ID_USERS_QUERY_STYLE", default="crud")
DEFAULT_CLIENT_TYPE = env.str("DEFAULT_CLIENT_TYPE", default="")
ADDITIONAL_HEADERS_TO_PROXY = env.list("ADDITIONAL_HEADERS_TO_PROXY", default=[])
UNLIMITED_TELECONSULTATION = env.bool("UNLIMITED_TELECONSULTATION", default=True)
# `live` is not on Kaleyra's v2 create-room page: sent only when the operator sets it (None: unset).
LIVE_TELECONSULTATION = env.bool("LIVE_TELECONSULTATION", default=None)
# Whether Kaleyra records the calls: none, manual (an admin participant starts it) or automatic;
# a visit's own `recording` overrides it (docs/operations.md#recordings).
KALEYRA_RECORDING = env.str("KALEYRA_RECORDING", default="none")
IMMUTABLE_PERIOD_MS = env.int("IMMUTABLE_PERIOD_MS", default=0)
TELECONSULTATION_DELETE_UPLOADS = env.bool("TELECONSULTATION_DELETE_UPLOADS", default=False)
SETTINGS_ADMIN_GROUPS = env.list("SETTINGS_ADMIN_GROUPS", default=["admin"])
# Who may write to a visit (docs/security.md): its plus participants, admins and the back office,
# or `open` (Mia's behaviour: the gateway alone decides).
TELECONSULTATION_WRITE_ACCESS = env.str("TELECONSULTATION_WRITE_ACCESS", default="participants")
TELECONSULTATION_ADMIN_GROUPS = env.list("TELECONSULTATION_ADMIN_GROUPS", default=["admin"])

# Room details shown by GET, cached per room (rooms/selectors/room_details.py); 0 turns the cache
# off.
KALEYRA_ROOM_DETAILS_TTL_SECONDS = env.int("KALEYRA_ROOM_DETAILS_TTL_SECONDS", default=30)
KALEYRA_ROOM_DETAILS_WAIT_SECONDS = env.float("KALEYRA_ROOM_DETAILS_WAIT_SECONDS", default=2.0)
# Independent provider calls of one request (new users of a visit) run this many at a time: a
# visit's 25 users at most, in one round trip (docs/performance.md).
KALEYRA_PARALLEL_CALLS = env.int("KALEYRA_PARALLEL_CALLS", default=25)
# Shared by replicas when it is Redis (redis://host:6379/0); local memory by default.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- Audit trail and join windows (docs/operations.md) -----------------------------------------
AUDIT_CRUD_NAME = env.str("AUDIT_CRUD_NAME", default="teleconsultation_audit")
# Links are handed out until this long after the end; unset: never closed (Mia's behaviour).
JOIN_CLOSES_AFTER_END_MS = optional_milliseconds(env, "JOIN_CLOSES_AFTER_END_MS")

# --- Calendar feeds, GET /calendar/<secret>.ics (docs/api.md) ----------------------------------
# Whether an event names the other participants; off, every event is "Teleconsultation".
CALENDAR_SHOW_NAMES = env.bool("CALENDAR_SHOW_NAMES", default=False)
CALENDAR_FEEDS_CRUD_NAME = env.str(
    "CALENDAR_FEEDS_CRUD_NAME", default="teleconsultation_calendar_feeds"
)

# --- User directory, AUTH_SERVICE mode (docs/directory.md) -------------------------------------
# auth0-client's user listing is undocumented: these are the likeliest route and Auth0 fields.
AUTH_SERVICE_USER_ROUTE = env.str("AUTH_SERVICE_USER_ROUTE", default="/users")
AUTH_SERVICE_ID_PATH = env.str("AUTH_SERVICE_ID_PATH", default="user_id")  # filtered with $in
AUTH_SERVICE_NAME_PATH = env.str("AUTH_SERVICE_NAME_PATH", default="name")
AUTH_SERVICE_GROUPS_PATH = env.str("AUTH_SERVICE_GROUPS_PATH", default="app_metadata.groups")
AUTH_SERVICE_CONNECT_TIMEOUT = env.float("AUTH_SERVICE_CONNECT_TIMEOUT", default=3.05)
AUTH_SERVICE_READ_TIMEOUT = env.float("AUTH_SERVICE_READ_TIMEOUT", default=5.0)

USERID_HEADER_KEY = env.str("USERID_HEADER_KEY", default="miauserid")
GROUPS_HEADER_KEY = env.str("GROUPS_HEADER_KEY", default="miausergroups")
USER_PROPERTIES_HEADER_KEY = env.str("USER_PROPERTIES_HEADER_KEY", default="miauserproperties")
CLIENTTYPE_HEADER_KEY = env.str("CLIENTTYPE_HEADER_KEY", default="client-type")
BACKOFFICE_HEADER_KEY = env.str("BACKOFFICE_HEADER_KEY", default="isbackoffice")

# --- Video provider ---------------------------------------------------------------------------
# The simulator is chosen silently only in development without a key; production must say so.
KALEYRA_BACKEND = env.str(
    "KALEYRA_BACKEND",
    default="simulator" if DEBUG and not BANDYER_API_SECRET_KEY else "http",
)
KALEYRA_CONNECT_TIMEOUT = env.float("KALEYRA_CONNECT_TIMEOUT", default=3.05)
# Read timeout below the retry budget, so one slow answer on a safe call leaves time for a retry;
# the request deadline bounds all of it (docs/kaleyra.md, Timeouts and retries).
KALEYRA_READ_TIMEOUT = env.float("KALEYRA_READ_TIMEOUT", default=4.0)
KALEYRA_MAX_RETRIES = env.int("KALEYRA_MAX_RETRIES", default=3)
KALEYRA_RETRY_BACKOFF_SECONDS = env.float("KALEYRA_RETRY_BACKOFF_SECONDS", default=0.5)
KALEYRA_RETRY_MAX_SECONDS = env.float("KALEYRA_RETRY_MAX_SECONDS", default=12.0)
KALEYRA_REQUEST_DEADLINE_SECONDS = env.float("KALEYRA_REQUEST_DEADLINE_SECONDS", default=20.0)
KALEYRA_BACKGROUND_RETRY_MAX_SECONDS = env.float(
    "KALEYRA_BACKGROUND_RETRY_MAX_SECONDS", default=300.0
)
# Kept-alive connections per process: as many as one request's parallel calls.
KALEYRA_POOL_SIZE = env.int("KALEYRA_POOL_SIZE", default=25)
KALEYRA_PROXY_URL = env.str("KALEYRA_PROXY_URL", default="")
KALEYRA_WEBHOOK_KEY = env.str("KALEYRA_WEBHOOK_KEY", default="")
KALEYRA_WEBHOOK_TOLERANCE_SECONDS = env.float("KALEYRA_WEBHOOK_TOLERANCE_SECONDS", default=300.0)
KALEYRA_SIMULATOR_WEBHOOK_URL = env.str("KALEYRA_SIMULATOR_WEBHOOK_URL", default="")
# Where POST /webhooks/kaleyra keeps the events with STORAGE_BACKEND=crud (docs/crud.md).
# Who joined each visit (`collect_attendance`), with STORAGE_BACKEND=crud (docs/crud.md).
ATTENDANCE_CRUD_NAME = env.str("ATTENDANCE_CRUD_NAME", default="teleconsultation_attendance")
WEBHOOK_EVENTS_CRUD_NAME = env.str(
    "WEBHOOK_EVENTS_CRUD_NAME", default="teleconsultation_webhook_events"
)
KALEYRA_SIMULATOR_DB = env.str(
    "KALEYRA_SIMULATOR_DB", default=str(BASE_DIR / "var" / "kaleyra-simulator.sqlite3")
)
KALEYRA_SIMULATOR_PUBLIC_URL = env.str(
    "KALEYRA_SIMULATOR_PUBLIC_URL", default="http://127.0.0.1:8000/kaleyra-simulator"
)
# The bundled simulator's API key when BANDYER_API_SECRET_KEY is empty (KALEYRA_BACKEND=simulator,
# `manage.py kaleyra_simulator`): it guards nothing real, so it is no secret.
KALEYRA_SIMULATOR_API_KEY = "simulator-key"

# --- Mia-Platform CRUD Service (crud/) ----------------------------------------------------------
CRUD_SERVICE_URL = env.str("CRUD_SERVICE_URL", default="http://crud-service")
CRUD_SERVICE_CONNECT_TIMEOUT_SECONDS = env.float(
    "CRUD_SERVICE_CONNECT_TIMEOUT_SECONDS", default=3.05
)
CRUD_SERVICE_TIMEOUT_SECONDS = env.float("CRUD_SERVICE_TIMEOUT_SECONDS", default=10.0)
CRUD_SERVICE_GET_RETRIES = env.int("CRUD_SERVICE_GET_RETRIES", default=2)
CRUD_SERVICE_PROXY_URL = env.str("CRUD_SERVICE_PROXY_URL", default="")
# The header the CRUD Service reads the acting user from: its USER_ID_HEADER_KEY.
CRUD_USER_ID_HEADER = env.str("CRUD_USER_ID_HEADER", default="userid")
# Set: the CRUD Service is simulated in-process on this sqlite file (development and tests).
CRUD_SIMULATOR_DB = env.str("CRUD_SIMULATOR_DB", default="")

# --- Operations (docs/operations.md) -------------------------------------------------------------
# One JSON line per record on stderr (teleconsultation_project/logs.py); gunicorn.conf.py gives
# gunicorn's own lines the same format. Python's warnings become log lines too (configure_logging).
LOGGING_CONFIG = "teleconsultation_project.logs.configure_logging"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "teleconsultation_project.logs.RequestIdFilter"},
        "command_verbosity": {"()": "teleconsultation_project.logs.CommandVerbosityFilter"},
        "one_line_warning": {"()": "teleconsultation_project.logs.OneLineWarningFilter"},
    },
    "formatters": {"json": {"()": "teleconsultation_project.logs.JsonLineFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "command_verbosity"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's defaults give these plain-text handlers of their own; they go through root.
        "django": {"handlers": []},
        "py.warnings": {"handlers": []},
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # A Host we do not serve is the client's mistake (scanners send them all day), not ours.
        "django.security.DisallowedHost": {"filters": ["one_line_warning"]},
    },
}

# `make bench` only: the yardstick views of bench/bare_views.py, answered before any middleware.
BENCH_BARE_VIEWS = env.bool("BENCH_BARE_VIEWS", default=False)
if BENCH_BARE_VIEWS:
    MIDDLEWARE.insert(0, "bench.bare_views.BareViewsMiddleware")

# /-/metrics (Prometheus): when set, scrapes must send `Authorization: Bearer <token>`.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Where the support commands push their run's metrics (teleconsultation_project/pushgateway.py),
# e.g. http://pushgateway.monitoring:9091; empty: not pushed, the summary log line only.
PROMETHEUS_PUSHGATEWAY_URL = env.str("PROMETHEUS_PUSHGATEWAY_URL", default="")

# Visit events out (rooms/services/visit_events.py): the receivers' URLs (empty: no events are
# recorded), the HMAC-SHA256 secret of the Visit-Events-Signature header, how long before a visit's
# start visit.starting is sent (one event per lead time, e.g. 24h,15m), for how many hours an
# event is retried before it is dead, the CloudEvents `source`, and whether the participants'
# names go in the payload (false: ids and times only).
VISIT_EVENTS_URLS = env.list("VISIT_EVENTS_URLS", default=[])
VISIT_EVENTS_SECRET = env.str("VISIT_EVENTS_SECRET", default="")
VISIT_EVENTS_LEAD_TIMES = env.list("VISIT_EVENTS_LEAD_TIMES", default=["24h", "15m"])
VISIT_EVENTS_RETRY_HOURS = env.float("VISIT_EVENTS_RETRY_HOURS", default=24.0)
VISIT_EVENTS_SOURCE = env.str("VISIT_EVENTS_SOURCE", default="/teleconsultation")
VISIT_EVENTS_PERSONAL_DATA = env.bool("VISIT_EVENTS_PERSONAL_DATA", default=False)
# Sent and dead events are kept this many days in the outbox (the admin shows them), then forgotten.
VISIT_EVENTS_KEEP_DAYS = env.int("VISIT_EVENTS_KEEP_DAYS", default=30)

# Error reports to Sentry when a DSN is given; request bodies, headers and cookies never leave.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
# Sentry's performance traces, a share of requests (0 to 1); 0: none (tracing is OpenTelemetry's).
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    init_sentry(SENTRY_DSN, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)
