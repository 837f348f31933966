"""Django system check: refuses a CRUD Service configuration that cannot work, naming it."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from crud.client import HEADER_NAME


def check_crud_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    parts = urlsplit(settings.CRUD_SERVICE_URL)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        messages.append(
            checks.Error(
                f"CRUD_SERVICE_URL must be an http(s) URL, got {settings.CRUD_SERVICE_URL!r}.",
                hint="In the cluster the CRUD Service is http://crud-service (no path, no query).",
                id="crud.E001",
            )
        )
    for name in ("CRUD_SERVICE_CONNECT_TIMEOUT_SECONDS", "CRUD_SERVICE_TIMEOUT_SECONDS"):
        if not getattr(settings, name) > 0:
            messages.append(checks.Error(f"{name} must be a positive number.", id="crud.E002"))
    if not HEADER_NAME.match(settings.CRUD_USER_ID_HEADER):
        messages.append(
            checks.Error(
                f"CRUD_USER_ID_HEADER must be an HTTP header name, got "
                f"{settings.CRUD_USER_ID_HEADER!r}.",
                hint="The CRUD Service's USER_ID_HEADER_KEY (crud-service's examples use userid).",
                id="crud.E003",
            )
        )
    if settings.CRUD_SIMULATOR_DB and not settings.DEBUG:
        messages.append(
            checks.Warning(
                "CRUD_SIMULATOR_DB is set with DEBUG off: the CRUD Service is simulated locally.",
                hint="Unset CRUD_SIMULATOR_DB so that CRUD_SERVICE_URL is called.",
                id="crud.W001",
            )
        )
    return messages
