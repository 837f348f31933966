"""The teleconsultation domain: records, services, API views, admin and commands."""

from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = "Teleconsultations"

    def ready(self) -> None:
        from rooms import checks  # noqa: F401  (registers the system checks)
        from rooms.domain import JobKind
        from rooms.storage import get_storage
        from teleconsultation_project.metrics import register_backlog_source

        # Read at each scrape: what reconcile_rooms still has to finish.
        register_backlog_source(
            "teleconsultation_pending_room_deletions",
            lambda: get_storage().count_jobs(JobKind.ROOM_DELETION),
        )
        register_backlog_source(
            "teleconsultation_unfinished_room_intents",
            lambda: get_storage().count_jobs(JobKind.ROOM_INTENT),
        )
