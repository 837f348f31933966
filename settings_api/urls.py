"""Routes of the /settings API."""

from django.urls import path

from settings_api import apis

urlpatterns = [
    path(
        "settings/background-image",
        apis.BackgroundImageApi.as_view(),
        name="settings-background-image",
    ),
    path("settings/update", apis.CompanySettingsApi.as_view(), name="settings-update"),
]
