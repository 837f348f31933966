"""Django app config for the CRUD Service client: registers the settings check."""

from django.apps import AppConfig


class CrudConfig(AppConfig):
    name = "crud"
    verbose_name = "Mia-Platform CRUD Service"

    def ready(self) -> None:
        from django.core import checks

        from crud.checks import check_crud_settings

        checks.register(check_crud_settings)
