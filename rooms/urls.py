"""Routes of the Mia-compatible /teleconsultation API.

The path keyword is `roomId`, the contract's name, so the OpenAPI document names it so too.
"""

from django.urls import path

from rooms.api import calendar, credentials, teleconsultations, user_details, webhooks

urlpatterns = [
    path("credentials", credentials.CredentialsApi.as_view(), name="credentials"),
    path(
        "teleconsultation",
        teleconsultations.TeleconsultationCollectionApi.as_view(),
        name="teleconsultations",
    ),
    path(
        "teleconsultation/<str:roomId>",
        teleconsultations.TeleconsultationApi.as_view(),
        name="teleconsultation",
    ),
    path(
        "teleconsultation/<str:roomId>/participants/data",
        teleconsultations.ParticipantDataApi.as_view(),
        name="teleconsultation-participants",
    ),
    path(
        "teleconsultation/<str:roomId>/uploads",
        teleconsultations.UploadsApi.as_view(),
        name="teleconsultation-uploads",
    ),
    path("calendar-feeds", calendar.CalendarFeedsApi.as_view(), name="calendar-feeds"),
    path("calendar/<str:secret>.ics", calendar.CalendarApi.as_view(), name="calendar"),
    path(
        "teleconsultation/<str:roomId>/attendance",
        teleconsultations.AttendanceApi.as_view(),
        name="teleconsultation-attendance",
    ),
    path("webhooks/kaleyra", webhooks.KaleyraWebhookApi.as_view(), name="kaleyra-webhook"),
    path(
        "kaleyra/user-details",
        user_details.KaleyraUserDetailsApi.as_view(),
        name="kaleyra-user-details",
    ),
]
