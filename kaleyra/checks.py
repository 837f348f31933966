"""Django system check: refuses a provider configuration that cannot work, naming the setting."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _http_backend_errors() -> list[checks.CheckMessage]:
    errors = []
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
    local_http = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS and settings.DEBUG
    if not (parts.scheme == "https" and parts.hostname) and not local_http:
        errors.append(
            checks.Error(
                f"BANDYER_BASE_URL must be an https:// URL, got {base_url!r}.",
                hint="Kaleyra refuses plain HTTP; http://127.0.0.1 or localhost is allowed only "
                "with DEBUG on (the local simulator).",
                id="kaleyra.E003",
            )
        )
    return errors


def check_kaleyra_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
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
