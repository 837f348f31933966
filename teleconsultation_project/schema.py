"""OpenAPI pieces shared by every app: the error body and its examples, and the document's view."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.renderers import OpenApiJsonRenderer2
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import SAFE_METHODS

from teleconsultation_project.errors import error_body, reason


class ErrorSerializer(serializers.Serializer):
    statusCode = serializers.IntegerField()
    error = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors by field path",
    )


def error_response(status: int, message: str, *, error: str | None = None) -> OpenApiResponse:
    return OpenApiResponse(
        response=ErrorSerializer,
        description=error or reason(status),
        examples=[
            OpenApiExample(
                f"{status}", value=error_body(status, message, error=error), status_codes=[status]
            )
        ],
    )


# What the layers in front of the views (middleware, parsers) answer to a request with a body.
BODY_ERRORS = {
    411: error_response(
        411,
        "A request body needs a Content-Length header; this server cannot read "
        "Transfer-Encoding: chunked",
    ),
    413: error_response(413, "The request body is 12582912 bytes; the limit is 11534336"),
    415: error_response(415, 'Unsupported media type "text/plain" in request.'),
}

PROVIDER_ERRORS = {
    502: error_response(502, "the video provider (Kaleyra) answered with an error (status 500)"),
    503: error_response(503, "the video provider (Kaleyra) is unreachable"),
    504: error_response(504, "the video provider (Kaleyra) did not answer in time"),
}


class GatewayHeaderScheme(OpenApiAuthenticationExtension):
    """Documents the gateway's identity headers as the API's security schemes, so Swagger UI's
    Authorize can set the user id, the groups and the back-office flag. Any operation takes a user
    id (groups optional); the writes of views that say `accepts_backoffice` (rooms' teleconsultation
    views) also take the back-office flag alone."""

    target_class = "teleconsultation_project.identity.GatewayHeaderAuthentication"
    name = ["gatewayUser", "gatewayGroups", "gatewayBackOffice"]

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        def header(name: str, description: str) -> dict:
            return {"type": "apiKey", "in": "header", "name": name, "description": description}

        return [
            header(settings.USERID_HEADER_KEY, "Set by the API gateway: the caller's user id."),
            header(
                settings.GROUPS_HEADER_KEY,
                "Set by the API gateway: the caller's groups, comma separated.",
            ),
            header(
                settings.BACKOFFICE_HEADER_KEY,
                "Set by the API gateway on the back-office route: `true`. A back-office request "
                "may change any teleconsultation, with or without a user id.",
            ),
        ]

    def get_security_requirement(self, auto_schema):
        user, groups, backoffice = self.name
        alternatives = [{user: [], groups: []}, {user: []}]
        if auto_schema.method not in SAFE_METHODS and _backoffice_may_write(auto_schema.view):
            alternatives.append({backoffice: []})
        return alternatives


def _backoffice_may_write(view) -> bool:
    return getattr(view, "accepts_backoffice", False)


class AlwaysFirstRenderer(BaseContentNegotiation):
    """Ignores `Accept` and `?format=`: the view has one answer."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class OpenApiJsonView(SpectacularAPIView):
    """The OpenAPI document as `application/json`, whatever the client accepts (Mia serves
    `/documentation/json` so; drf-spectacular's own view answers YAML unless asked)."""

    renderer_classes = [OpenApiJsonRenderer2]
    content_negotiation_class = AlwaysFirstRenderer


class StrictSerializerSchema(OpenApiSerializerExtension):
    """A StrictSerializer refuses keys it does not declare; its schema says so."""

    target_class = "teleconsultation_project.input_limits.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if not type(self.target).__dict__.get("__doc__"):
            schema.pop("description", None)  # not StrictSerializer's own docstring
        return {**schema, "additionalProperties": False}
