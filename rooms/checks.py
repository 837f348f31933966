"""System checks of the teleconsultation settings: a wrong value stops start-up with its name."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from rooms.rules.permissions import OPEN, PARTICIPANTS


@register()
def check_rooms_settings(app_configs, **kwargs):
    problems = []
    if settings.TELECONSULTATION_WRITE_ACCESS not in (PARTICIPANTS, OPEN):
        problems.append(
            Error(
                f"TELECONSULTATION_WRITE_ACCESS must be '{PARTICIPANTS}' or '{OPEN}', not "
                f"{settings.TELECONSULTATION_WRITE_ACCESS!r}",
                id="rooms.E001",
            )
        )
    if settings.STORAGE_BACKEND not in ("django", "crud"):
        problems.append(
            Error(
                f"STORAGE_BACKEND must be 'django' or 'crud', not {settings.STORAGE_BACKEND!r}",
                id="rooms.E002",
            )
        )
    if settings.CUSTOM_ID_USERS_QUERY_STYLE.strip().lower() not in ("crud", "param"):
        problems.append(
            Error(
                "CUSTOM_ID_USERS_QUERY_STYLE must be 'crud' or 'param', not "
                f"{settings.CUSTOM_ID_USERS_QUERY_STYLE!r}",
                id="rooms.E003",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def check_write_access_in_production(app_configs, **kwargs):
    if settings.TELECONSULTATION_WRITE_ACCESS == OPEN:
        return [
            Warning(
                "TELECONSULTATION_WRITE_ACCESS=open: anyone the gateway lets through can change, "
                "delete or join any visit whose id they hold",
                hint="Use 'participants' unless the gateway authorizes every visit itself "
                "(docs/security.md).",
                id="rooms.W001",
            )
        ]
    return []
