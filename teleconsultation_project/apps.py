"""App config of the project package: loads and validates the service configuration at start."""

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "teleconsultation_project"
    verbose_name = "Teleconsultation service"

    def ready(self) -> None:
        from teleconsultation_project import checks, schema, service_config  # noqa: F401 (registers)

        service_config.connect_signals()
        # A broken configuration file must stop start-up, not the first request.
        service_config.get_service_config()
