"""The teleconsultation domain: records, services, API views, admin and commands."""

from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = "Teleconsultations"

    def ready(self) -> None:
        from rooms import checks  # noqa: F401  (registers the system checks)
