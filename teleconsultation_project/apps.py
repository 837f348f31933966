"""App configs of the project package: the service configuration, loaded and validated at start,
and the admin, on the project's own site."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ProjectConfig(AppConfig):
    name = "teleconsultation_project"
    verbose_name = "Teleconsultation service"

    def ready(self) -> None:
        from teleconsultation_project import checks, schema, service_config, tracing  # noqa: F401 (registers)

        # Before Django loads the middleware: the request spans come from one it adds.
        tracing.setup()

        service_config.connect_signals()
        # A broken configuration file must stop start-up, not the first request.
        service_config.get_service_config()


class TeleconsultationAdminConfig(AdminConfig):
    default_site = "teleconsultation_project.admin_site.TeleconsultationAdminSite"
