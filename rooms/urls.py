"""Routes of the Mia-compatible /teleconsultation API.

The path keyword is `roomId`, the contract's name, so the OpenAPI document names it so too.
"""

from django.urls import path

from rooms import apis, credentials_api, webhooks_api

urlpatterns = [
    path("credentials", credentials_api.CredentialsApi.as_view(), name="credentials"),
    path(
        "teleconsultation", apis.TeleconsultationCollectionApi.as_view(), name="teleconsultations"
    ),
    path(
        "teleconsultation/<str:roomId>",
        apis.TeleconsultationApi.as_view(),
        name="teleconsultation",
    ),
    path(
        "teleconsultation/<str:roomId>/participants/data",
        apis.ParticipantDataApi.as_view(),
        name="teleconsultation-participants",
    ),
    path(
        "teleconsultation/<str:roomId>/uploads",
        apis.UploadsApi.as_view(),
        name="teleconsultation-uploads",
    ),
    path("webhooks/kaleyra", webhooks_api.KaleyraWebhookApi.as_view(), name="kaleyra-webhook"),
]
