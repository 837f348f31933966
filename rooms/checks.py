"""System checks of the teleconsultation settings: a wrong value stops start-up with its name."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from rooms.rules.permissions import OPEN, PARTICIPANTS
from rooms.rules.visit_events import lead_time


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


@register()
def check_visit_events(app_configs, **kwargs):
    """Visit events out (docs/operations.md): lead times that read, and the settings that would
    leave VISIT_EVENTS_URLS without events or with unsigned ones."""
    problems = []
    for text in settings.VISIT_EVENTS_LEAD_TIMES:
        try:
            lead_time(text)
        except ValueError as exc:
            problems.append(Error(f"VISIT_EVENTS_LEAD_TIMES: {exc}", id="rooms.E020"))
    if not settings.VISIT_EVENTS_URLS:
        return problems
    if not settings.VISIT_EVENTS_SECRET:
        problems.append(
            Error(
                "VISIT_EVENTS_URLS is set but VISIT_EVENTS_SECRET is empty: events would go out "
                "unsigned",
                id="rooms.E021",
            )
        )
    if settings.STORAGE_BACKEND == "crud":
        problems.append(
            Warning(
                "VISIT_EVENTS_URLS is set but STORAGE_BACKEND=crud records no visit events",
                hint="Visit events need the Django backend (docs/operations.md, Visit events out).",
                id="rooms.W020",
            )
        )
    return problems
