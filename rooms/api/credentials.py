"""API view of POST /credentials: SDK credentials for the calling user."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from rooms.errors import UnauthorizedUser
from rooms.services.credentials import (
    DEFAULT_EXPIRES_IN,
    MAX_EXPIRES_IN,
    MIN_EXPIRES_IN,
    credentials_create,
)
from teleconsultation_project.input_limits import (
    OffsetDateTimeField,
    StrictIntegerField,
    StrictSerializer,
)
from teleconsultation_project.schema import BODY_ERRORS, PROVIDER_ERRORS, error_response


class CredentialsLifetimeSerializer(StrictSerializer):
    expiresIn = StrictIntegerField(
        required=False,
        default=DEFAULT_EXPIRES_IN,
        min_value=MIN_EXPIRES_IN,
        max_value=MAX_EXPIRES_IN,
        help_text="Token lifetime in seconds",
    )


class CredentialsSerializer(serializers.Serializer):
    """The answer, from `rooms.services.credentials.Credentials`."""

    accessToken = serializers.CharField(
        source="access_token", help_text="Token for the Kaleyra Video client SDKs"
    )
    expiresAt = OffsetDateTimeField(source="expires_at", help_text="UTC, with milliseconds")
    bandyerUserId = serializers.CharField(
        source="kaleyra_user_id", help_text="The caller's Kaleyra user id"
    )


class CredentialsApi(APIView):
    @extend_schema(
        tags=["credentials"],
        summary="SDK credentials for the calling user",
        request=CredentialsLifetimeSerializer,
        responses={
            201: CredentialsSerializer,
            400: error_response(
                400, "Invalid request: expiresIn: Ensure this value is less than or equal to 86400."
            ),
            401: error_response(401, "Unauthorized user", error="Unauthorized user"),
            **BODY_ERRORS,
            **PROVIDER_ERRORS,
        },
        examples=[
            OpenApiExample("Two hours", request_only=True, value={"expiresIn": 7200}),
            OpenApiExample(
                "Credentials",
                response_only=True,
                status_codes=["201"],
                value={
                    "accessToken": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…",
                    "expiresAt": "2026-03-01T11:30:00.000Z",
                    "bandyerUserId": "tc-5d1f0c3b…",
                },
            ),
        ],
    )
    def post(self, request):
        if request.user is None:
            raise UnauthorizedUser()
        serializer = CredentialsLifetimeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credentials = credentials_create(
            caller=request.user, expires_in=serializer.validated_data["expiresIn"]
        )
        return Response(CredentialsSerializer(credentials).data, status=201)
