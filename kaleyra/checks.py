"""Django system check: refuses a provider configuration that cannot work, naming the setting."""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from kaleyra.loopback import is_loopback_host, is_loopback_url
from kaleyra.wire import RECORDING_MODES

# Kaleyra Video v2 answers only on api[.sandbox].{eu,in,us,me}.bandyer.com; v1-era hosts such as
# sandbox.bandyer.com do not serve it (docs/kaleyra.md, "Base URL").
V2_HOST = re.compile(r"api(\.sandbox)?\.(eu|in|us|me)\.bandyer\.com")


def _http_backend_errors() -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    if not settings.BANDYER_API_SECRET_KEY:
        errors.append(
            checks.Error(
                "BANDYER_API_SECRET_KEY is empty but KALEYRA_BACKEND is 'http'.",
                hint="Set BANDYER_API_SECRET_KEY to the company's Kaleyra Video API key.",
                id="kaleyra.E001",
            )
        )
    base_url = settings.BANDYER_BASE_URL
    if not base_url:
        errors.append(
            checks.Error(
                "BANDYER_BASE_URL is empty but KALEYRA_BACKEND is 'http'.",
                hint="For example https://api.sandbox.eu.bandyer.com (sandbox, Europe).",
                id="kaleyra.E002",
            )
        )
        return errors
    parts = urlsplit(base_url)
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        # A simulator on this machine: management commands must run against it with DEBUG off.
        if not settings.DEBUG:
            errors.append(
                checks.Warning(
                    f"BANDYER_BASE_URL is plain HTTP on this machine ({base_url!r}).",
                    hint="Fine for a local simulator (manage.py kaleyra_simulator); Kaleyra "
                    "itself is https:// only.",
                    id="kaleyra.W002",
                )
            )
    elif not (parts.scheme == "https" and parts.hostname):
        errors.append(
            checks.Error(
                f"BANDYER_BASE_URL must be an https:// URL, got {base_url!r}.",
                hint="Kaleyra refuses plain HTTP; only a loopback address (127.0.0.0/8, "
                "localhost, ::1) may use http://, for the local simulator.",
                id="kaleyra.E003",
            )
        )
    elif not is_loopback_host(parts.hostname) and not _is_v2_base_url(parts.hostname, parts.path):
        errors.append(
            checks.Warning(
                f"BANDYER_BASE_URL is not a Kaleyra Video v2 host: {base_url!r}.",
                hint="v2 answers on https://api.{eu,in,us,me}.bandyer.com and "
                "https://api.sandbox.{eu,in,us,me}.bandyer.com, with no path (the service adds "
                "/v2/...). A Mia 1.x value such as https://sandbox.bandyer.com/rest is v1: use "
                "the API domain Kaleyra's console shows for the key.",
                id="kaleyra.W003",
            )
        )
    return errors


def _is_v2_base_url(hostname: str | None, path: str) -> bool:
    return bool(hostname and V2_HOST.fullmatch(hostname.lower())) and path in ("", "/")


def _simulator_webhook_errors() -> list[checks.CheckMessage]:
    url = settings.KALEYRA_SIMULATOR_WEBHOOK_URL
    if not url or is_loopback_url(url):
        return []
    return [
        checks.Error(
            f"KALEYRA_SIMULATOR_WEBHOOK_URL must be on this machine, got {url!r}.",
            hint="The simulator posts webhooks to loopback addresses only (127.0.0.0/8, "
            "localhost, ::1); leave it empty to send none.",
            id="kaleyra.E005",
        )
    ]


def _recording_errors() -> list[checks.CheckMessage]:
    if settings.KALEYRA_RECORDING in RECORDING_MODES:
        return []
    return [
        checks.Error(
            f"KALEYRA_RECORDING must be one of {', '.join(RECORDING_MODES)}, "
            f"got {settings.KALEYRA_RECORDING!r}.",
            hint="none (the default) records nothing; see docs/operations.md, Recordings.",
            id="kaleyra.E006",
        )
    ]


def check_kaleyra_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return _backend_messages() + _simulator_webhook_errors() + _recording_errors()


def _backend_messages() -> list[checks.CheckMessage]:
    backend = settings.KALEYRA_BACKEND
    if backend == "http":
        return _http_backend_errors()
    if backend == "simulator":
        if settings.DEBUG:
            return []
        return [
            checks.Warning(
                "KALEYRA_BACKEND is 'simulator' with DEBUG off: no real video calls will happen.",
                hint="Set KALEYRA_BACKEND=http with BANDYER_API_SECRET_KEY and BANDYER_BASE_URL.",
                id="kaleyra.W001",
            )
        ]
    return [
        checks.Error(
            f"KALEYRA_BACKEND must be 'http' or 'simulator', got {backend!r}.",
            id="kaleyra.E004",
        )
    ]
