"""System checks for the deployment switches that must never reach a real deployment unseen."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security)
def insecure_local_http_check(app_configs, **kwargs):
    if settings.DEBUG or not settings.INSECURE_LOCAL_HTTP:
        return []
    return [
        Warning(
            "DJANGO_INSECURE_LOCAL_HTTP is on: plain HTTP, non-secure cookies and localhost are "
            "accepted. It is for trying the service on your own machine only.",
            hint="Set DJANGO_INSECURE_LOCAL_HTTP=false for any service others can reach.",
            id="teleconsultation.W001",
        )
    ]
