"""`POST /kaleyra/user-details`: Kaleyra's server-side user details provider, the way a call gets
its participants' names now that the join link carries none.

Kaleyra calls it directly (register the URL once: `manage.py kaleyra_company
--user-details-url`), signed with `bandyer-signature` like the webhooks: no identity headers, no
CSRF, and the signature checked over the raw body before anything parses it. The answer names only
participants of live visits (`rooms.selectors.call_names`); an id this service does not know, or
whose visits are all trashed, is left out. Each lookup is one audit entry with the ids asked and
how many were named, never the names; a refused signature is one too.
"""

import logging
import time

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from kaleyra.user_details import MAX_USER_IDS, UserDetailsRequestError, requested_user_ids
from kaleyra.webhooks import (
    SIGNATURE_HEADER,
    WebhookSignatureError,
    configured_key,
    configured_tolerance,
    verify_signature,
)
from rooms.api import decorators
from rooms.api.webhooks import SIGNATURE_PARAMETER
from rooms.selectors.call_names import call_display_names
from rooms.services import audit
from teleconsultation_project.errors import ApiError
from teleconsultation_project.schema import error_response

logger = logging.getLogger("teleconsultation.webhooks")


class KaleyraUserLookupSerializer(serializers.Serializer):
    """The shape documented here; `{"users": [{"user_id"}]}` and `{"user_id"}` are read too."""

    user_ids = serializers.ListField(
        child=serializers.CharField(max_length=128),
        max_length=MAX_USER_IDS,
        help_text="the Kaleyra user ids whose details a call needs (UNCLEAR: Kaleyra's shape)",
    )


class KaleyraUserDetailSerializer(serializers.Serializer):
    user_id = serializers.CharField(help_text="the Kaleyra user id asked for")
    display_name = serializers.CharField(help_text="the participant's fullName as stored")
    image = serializers.CharField(allow_null=True, help_text="no avatars are kept: always null")


class KaleyraUserDetailsSerializer(serializers.Serializer):
    users = KaleyraUserDetailSerializer(many=True, help_text="the users named, in the order asked")


class KaleyraUserDetailsApi(APIView):
    authentication_classes = ()
    permission_classes = ()

    @extend_schema(
        tags=["webhooks"],
        operation_id="kaleyra_user_details",
        summary="Answer Kaleyra's lookup of display names (signed with bandyer-signature)",
        parameters=[SIGNATURE_PARAMETER],
        request=KaleyraUserLookupSerializer,
        responses={
            200: KaleyraUserDetailsSerializer,
            400: error_response(
                400,
                f"Invalid user details request: user_ids has 101 entries; at most {MAX_USER_IDS} "
                "are answered at once",
            ),
            401: error_response(401, "User details refused: signature does not match the body"),
            411: error_response(
                411,
                "A request body needs a Content-Length header; this server cannot read "
                "Transfer-Encoding: chunked",
            ),
            413: error_response(413, "The request body is 12582912 bytes; the limit is 11534336"),
            503: error_response(
                503, "The teleconsultation storage is unavailable (timeout); try again later"
            ),
        },
    )
    @decorators.recorded(audit.USER_DETAILS, detail=decorators.user_details_detail, actor="kaleyra")
    def post(self, request):
        body = request.body  # the exact bytes that were signed, before anything parses them
        try:
            signed = verify_signature(
                request.headers.get(SIGNATURE_HEADER),
                body,
                key=configured_key(),
                now=time.time(),
                tolerance=configured_tolerance(),
            )
            user_ids = requested_user_ids(signed)
        except WebhookSignatureError as exc:
            logger.warning("Kaleyra user details lookup refused: %s", exc.reason)
            raise ApiError(f"User details refused: {exc.reason}", status=401) from None
        except UserDetailsRequestError as exc:
            logger.warning("Kaleyra user details lookup not understood: %s", exc.reason)
            raise ApiError(f"Invalid user details request: {exc.reason}", status=400) from None
        names = call_display_names(kaleyra_user_ids=user_ids)
        users = [
            {"user_id": user_id, "display_name": names[user_id], "image": None}
            for user_id in user_ids
            if user_id in names
        ]
        return Response(KaleyraUserDetailsSerializer({"users": users}).data)
