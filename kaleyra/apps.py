"""Django app config for the video provider: registers the settings check and the cache reset."""

from django.apps import AppConfig


class KaleyraConfig(AppConfig):
    name = "kaleyra"
    verbose_name = "Kaleyra Video"

    def ready(self) -> None:
        from django.core import checks

        from kaleyra import provider  # noqa: F401 - connects the setting_changed receiver
        from kaleyra.checks import check_kaleyra_settings

        checks.register(check_kaleyra_settings)
