"""Company settings on the video provider: virtual background upload, default background."""

from django.apps import AppConfig


class SettingsApiConfig(AppConfig):
    name = "settings_api"
    verbose_name = "Company settings"
