"""Routes of the Mia-compatible /teleconsultation API."""

from django.urls import path

from rooms import apis, credentials_api

urlpatterns = [
    path("credentials", credentials_api.CredentialsApi.as_view(), name="credentials"),
    path(
        "teleconsultation", apis.TeleconsultationCollectionApi.as_view(), name="teleconsultations"
    ),
    path(
        "teleconsultation/<str:room_id>",
        apis.TeleconsultationApi.as_view(),
        name="teleconsultation",
    ),
    path(
        "teleconsultation/<str:room_id>/participants/data",
        apis.ParticipantDataApi.as_view(),
        name="teleconsultation-participants",
    ),
    path(
        "teleconsultation/<str:room_id>/uploads",
        apis.UploadsApi.as_view(),
        name="teleconsultation-uploads",
    ),
]
