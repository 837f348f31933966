"""API views of /settings: company settings on the video provider, for settings admins only."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiRequest, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from rooms.errors import UnauthorizedUser
from settings_api import services
from settings_api.serializers import (
    BackgroundImageUploadSerializer,
    BackgroundUploadedSerializer,
    CompanyUpdatedSerializer,
    DefaultBackgroundSerializer,
)
from settings_api.uploads import limited_upload_handlers
from teleconsultation_project.errors import ApiError
from teleconsultation_project.schema import BODY_ERRORS, PROVIDER_ERRORS, error_response

TAGS = ["settings"]
ACCESS_ERRORS = {
    401: error_response(401, "Unauthorized user", error="Unauthorized user"),
    403: error_response(403, "Only members of admin may change the company settings"),
}

DEFAULT_BACKGROUND_REQUEST = {
    "type": "object",
    "properties": {
        "background_alias": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "description": "Alias returned by POST /settings/background-image",
        }
    },
    "required": ["background_alias"],
    "additionalProperties": False,
}


class IsSettingsAdmin(BasePermission):
    """The caller must be identified and in one of SETTINGS_ADMIN_GROUPS. Checked before the
    body is read, so nobody else can make the service read an upload."""

    def has_permission(self, request, view) -> bool:
        if request.user is None:
            raise UnauthorizedUser()
        admins = settings.SETTINGS_ADMIN_GROUPS
        if not set(request.user.groups) & set(admins):
            raise ApiError(
                f"Only members of {', '.join(admins)} may change the company settings",
                status=403,
            )
        return True


class BackgroundImageApi(APIView):
    parser_classes = [MultiPartParser]
    permission_classes = [IsSettingsAdmin]

    @extend_schema(
        tags=TAGS,
        summary="Upload a virtual background image (JPEG, at most 10 MB)",
        request={
            "multipart/form-data": OpenApiRequest(
                BackgroundImageUploadSerializer,
                encoding={"virtual_background": {"contentType": "image/jpeg"}},
            )
        },
        responses={
            200: BackgroundUploadedSerializer,
            400: error_response(
                400,
                "virtual_background: is not a JPEG image (checked by its content)",
            ),
            **ACCESS_ERRORS,
            **BODY_ERRORS,
            413: error_response(413, "virtual_background is larger than 10 MB (10485760 bytes)"),
            415: error_response(415, 'Unsupported media type "application/json" in request.'),
            **PROVIDER_ERRORS,
        },
        examples=[
            OpenApiExample(
                "Uploaded",
                response_only=True,
                status_codes=["200"],
                value={
                    "virtual_background": {
                        "background_alias": "bg_1a2b3c4d5e6f",
                        "url": "https://static.bandyer.com/corporate/virtual_backgrounds/"
                        "sandbox/acme/bg_1a2b3c4d5e6f.jpeg",
                        "creation_date": "2030-03-01T09:30:00.000Z",
                    }
                },
            )
        ],
    )
    def post(self, request):
        # Installed before the body is parsed: the size limit applies while the upload streams.
        request.upload_handlers = limited_upload_handlers(request)
        serializer = BackgroundImageUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["virtual_background"]
        background = services.background_image_upload(
            filename=upload.name, content=b"".join(upload.chunks())
        )
        return Response(BackgroundUploadedSerializer({"virtual_background": background}).data)


class CompanySettingsApi(APIView):
    permission_classes = [IsSettingsAdmin]

    @extend_schema(
        tags=TAGS,
        summary="Choose the company's default virtual background",
        # Spectacular makes every PATCH body partial; this one's alias is required.
        request={"application/json": DEFAULT_BACKGROUND_REQUEST},
        responses={
            200: CompanyUpdatedSerializer,
            400: error_response(
                400, "background_alias: 'bg_unknown' is not a virtual background of the company"
            ),
            **ACCESS_ERRORS,
            **BODY_ERRORS,
            **PROVIDER_ERRORS,
        },
        examples=[
            OpenApiExample(
                "Default background",
                request_only=True,
                value={"background_alias": "bg_1a2b3c4d5e6f"},
            ),
            OpenApiExample(
                "Company settings",
                response_only=True,
                status_codes=["200"],
                value={
                    "company": {
                        "name": "Acme Clinic",
                        "default_language": "it",
                        "default_background": {
                            "alias": "bg_1a2b3c4d5e6f",
                            "url": "https://static.bandyer.com/corporate/virtual_backgrounds/"
                            "sandbox/acme/bg_1a2b3c4d5e6f.jpeg",
                            "creation_date": "2030-03-01T09:30:00.000Z",
                        },
                        "end_call_redirect_url": None,
                        "user_details_provider_url": None,
                        "end_call_redirect_timeout_ms": None,
                    }
                },
            ),
        ],
    )
    def patch(self, request):
        serializer = DefaultBackgroundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        company = services.default_background_set(
            background_alias=serializer.validated_data["background_alias"]
        )
        return Response(CompanyUpdatedSerializer({"company": company}).data)
