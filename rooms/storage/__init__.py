"""Where teleconsultations live: `STORAGE_BACKEND=django` (this service's database, the default)
or `crud` (Mia's CRUD Service over HTTP). Both take and return `rooms.domain`'s objects."""

from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from rooms.storage.base import Storage


@cache
def get_storage() -> Storage:
    if settings.STORAGE_BACKEND == "crud":
        from rooms.storage.crud import CrudStorage

        return CrudStorage.from_settings()
    from rooms.storage.django import DjangoStorage

    return DjangoStorage()


@receiver(setting_changed)
def _reset_on_setting_change(*, setting: str, **kwargs) -> None:
    if setting == "STORAGE_BACKEND" or setting.startswith("CRUD_"):
        get_storage.cache_clear()
