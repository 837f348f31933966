"""`POST /webhooks/kaleyra`: the events Kaleyra Video posts, signed with `bandyer-signature`.

Kaleyra calls it directly, not through the gateway: no identity headers, no CSRF. The signature
is checked over the raw body before anything parses it; a refusal is logged with its reason, never
with the body. Kaleyra retries until it gets a 200, so a replay is answered 200 too.
"""

import logging
import time

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from kaleyra.webhooks import (
    SIGNATURE_HEADER,
    WebhookPayloadError,
    WebhookSignatureError,
    configured_key,
    configured_tolerance,
    verify,
)
from rooms.services import webhook_events
from rooms.storage.base import StorageUnavailable
from teleconsultation_project.errors import ApiError
from teleconsultation_project.schema import error_response

logger = logging.getLogger("teleconsultation.webhooks")

STORAGE_DOWN = "The event could not be stored now; Kaleyra will send it again"


@extend_schema_field({"oneOf": [{"type": "object"}, {"type": "string"}]})
class EventDataField(serializers.JSONField):
    """The event's payload: an object, or the same object encoded as a JSON string."""


class KaleyraWebhookEnvelopeSerializer(serializers.Serializer):
    event = serializers.CharField(help_text="e.g. on_room_deleted, on_recording_available")
    event_version = serializers.CharField(required=False, help_text='e.g. "1.0"')
    namespace = serializers.CharField(required=False, help_text="e.g. room")
    timestamp = serializers.IntegerField(
        required=False, help_text="epoch milliseconds (seconds and ISO 8601 are read too)"
    )
    # The stubs see this field as overriding Serializer.data; DRF's metaclass moves it out.
    data = EventDataField(required=False, help_text="e.g. {room_id, deleted_links}")  # type: ignore[assignment]


class KaleyraWebhookReceiptSerializer(serializers.Serializer):
    event = serializers.CharField()
    duplicate = serializers.BooleanField(help_text="seen before: acknowledged, not handled again")


# The header both of Kaleyra's calls to us are signed with (the webhooks, the user details).
SIGNATURE_PARAMETER = OpenApiParameter(
    SIGNATURE_HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description='`t=<timestamp>,v0=<hex HMAC-SHA256 of "<t>." + raw body>`, keyed '
    "with the company API key (KALEYRA_WEBHOOK_KEY when set)",
)


class KaleyraWebhookApi(APIView):
    authentication_classes = ()
    permission_classes = ()

    @extend_schema(
        tags=["webhooks"],
        operation_id="kaleyra_webhook",
        summary="Receive an event from Kaleyra Video (signed with bandyer-signature)",
        parameters=[SIGNATURE_PARAMETER],
        request=KaleyraWebhookEnvelopeSerializer,
        responses={
            200: KaleyraWebhookReceiptSerializer,
            400: error_response(400, "Invalid webhook: event is missing"),
            401: error_response(401, "Webhook refused: signature does not match the body"),
            411: error_response(
                411,
                "A request body needs a Content-Length header; this server cannot read "
                "Transfer-Encoding: chunked",
            ),
            413: error_response(413, "The request body is 12582912 bytes; the limit is 11534336"),
            503: error_response(503, STORAGE_DOWN),
        },
    )
    def post(self, request):
        body = request.body  # the exact bytes that were signed, before anything parses them
        try:
            envelope = verify(
                request.headers.get(SIGNATURE_HEADER),
                body,
                key=configured_key(),
                now=time.time(),
                tolerance=configured_tolerance(),
            )
            receipt = webhook_events.receive(envelope, now=timezone.now())
        except WebhookSignatureError as exc:
            logger.warning("Kaleyra webhook refused: %s", exc.reason)
            raise ApiError(f"Webhook refused: {exc.reason}", status=401) from None
        except WebhookPayloadError as exc:
            logger.warning("Kaleyra webhook not understood: %s", exc.reason)
            raise ApiError(f"Invalid webhook: {exc.reason}", status=400) from None
        except StorageUnavailable as exc:
            logger.warning("Kaleyra webhook not stored: %s", exc)
            raise ApiError(STORAGE_DOWN, status=503) from None
        return Response(KaleyraWebhookReceiptSerializer(receipt).data)
