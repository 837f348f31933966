"""API views of /teleconsultation: validate the input, call one service, shape the answer."""

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from rooms.api import decorators
from rooms.api.serializers import (
    AccessQuerySerializer,
    AccessSerializer,
    AgendaQuerySerializer,
    AgendaSerializer,
    AttendanceSerializer,
    CreatedSerializer,
    ParticipantDataSerializer,
    TeleconsultationCreateSerializer,
    TeleconsultationUpdateSerializer,
    UploadsDeletedSerializer,
    access_body,
)
from rooms.domain import Teleconsultation
from rooms.rules import permissions
from rooms.rules.languages import LINK_LANGUAGES
from rooms.rules.permissions import writer_from_request
from rooms.selectors import agenda, attendance, join_link
from rooms.services import audit, lifecycle, participant_add, uploads
from teleconsultation_project.errors import api_exception_handler
from teleconsultation_project.identity import caller_from_headers, request_headers
from teleconsultation_project.schema import BODY_ERRORS, PROVIDER_ERRORS, error_response

TAGS = ["teleconsultation"]
NOT_FOUND = error_response(
    404,
    "Room with id 0123456789abcdef01234567 not found on CRUD",
    error="Room with id 0123456789abcdef01234567 not found on CRUD",
)
INVALID = error_response(400, "Invalid request: start_date: This field is required.")
LOCKED = error_response(409, "The teleconsultation is complete and starts soon or has started")
# Writes are authorized per visit (CONTRACT.md, "Who may write").

CREATE_EXAMPLE = OpenApiExample(
    "Doctor and patient",
    request_only=True,
    value={
        "participants": {
            "number": 2,
            "data": [
                {
                    "userExternalId": "doctor-1",
                    "groups": ["doctor"],
                    "fullName": "Dr. Ada Rossi",
                    "language": "it",
                },
                {
                    "userExternalId": "patient-7",
                    "groups": ["customer"],
                    "fullName": "Mario Bianchi",
                },
            ],
        },
        # Early June of next year, whenever the document is read: always a valid request.
        "start_date": f"{timezone.now().year + 1}-06-03T09:30:00+02:00",
        "duration_in_seconds": 1800,
    },
)


def _valid(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer


def _actor(request) -> str | None:
    return request.user.id if request.user else None


# Who may write (rooms/rules/permissions.py): declared on every write operation, and checked before
# its body is read (decorators.caller_first, decorators.visit_first).
WRITE_ACCESS_ERRORS = {
    401: error_response(401, "Unauthorized user", error="Unauthorized user"),
    403: error_response(
        403,
        "User patient-7 may not change teleconsultation 0123456789abcdef01234567: only its plus "
        "participants, an admin group or the back office may",
    ),
}
IDEMPOTENCY_KEY = OpenApiParameter(
    decorators.HEADER,
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Repeat the request with the same key and body within 24 h to get the first "
    "answer back (header Idempotent-Replayed: true) without a second teleconsultation or room.",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    decorators.REPLAYED_HEADER,
    str,
    location=OpenApiParameter.HEADER,
    enum=["true"],
    response=[201],
    description="Present when this is the first answer to the same Idempotency-Key, replayed.",
)
IDEMPOTENCY_ERRORS = {
    409: error_response(409, "A request with this Idempotency-Key is still being handled"),
    422: error_response(422, "This Idempotency-Key was used with another request body"),
}


JSON = JSONRenderer()  # DRF's, as the API's other answers are rendered


def plain_json_accepted(request) -> bool:
    """Whether DRF's negotiation would answer this request with its one renderer, JSON, as it is:
    no `format` override, and an Accept header that is absent or names JSON or anything, without
    parameters (`indent=4` changes the body)."""
    if request.META.get("QUERY_STRING") and "format" in request.GET:
        return False
    accept = request.META.get("HTTP_ACCEPT", "")
    if not accept.strip():
        return True
    if ";" in accept:
        return False
    return any(part.strip() in ANY_JSON for part in accept.split(","))


ANY_JSON = frozenset({"application/json", "application/*", "*/*"})


class TeleconsultationCollectionApi(APIView):
    accepts_backoffice = True  # its writes: the OpenAPI document lists the back-office flag alone

    @extend_schema(
        tags=TAGS,
        operation_id="teleconsultation_agenda",
        summary="The caller's own visits, by start (trashed ones left out)",
        parameters=[
            OpenApiParameter(
                "from",
                OpenApiTypes.DATETIME,
                required=False,
                description="Visits not ended by then (ISO 8601 with offset); default now",
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.DATETIME,
                required=False,
                description="Visits starting before then (ISO 8601 with offset); default none",
            ),
            OpenApiParameter(
                "limit",
                int,
                required=False,
                description=f"Visits per page, 1 to {agenda.MAX_LIMIT} "
                f"(default {agenda.DEFAULT_LIMIT})",
            ),
            OpenApiParameter(
                "cursor", str, required=False, description="The previous page's `next`"
            ),
        ],
        responses={
            200: AgendaSerializer,
            400: error_response(
                400, "Invalid request: limit: Ensure this value is less than or equal to 100."
            ),
            401: error_response(401, "Unauthorized user", error="Unauthorized user"),
        },
    )
    def get(self, request):
        query = _valid(AgendaQuerySerializer, request.query_params.dict()).validated_data
        page = agenda.agenda(
            caller=request.user,
            since=query.get("from"),
            until=query.get("to"),
            limit=query["limit"],
            after=query.get("cursor"),
        )
        return Response(AgendaSerializer(page).data)

    @extend_schema(
        tags=TAGS,
        summary="Schedule a teleconsultation",
        request=TeleconsultationCreateSerializer,
        examples=[CREATE_EXAMPLE],
        responses={
            201: CreatedSerializer,
            400: error_response(
                400,
                "Failed POST /teleconsultation: no plus user in room",
                error="Failed POST /teleconsultation: no plus user in room",
            ),
            **WRITE_ACCESS_ERRORS,
            **IDEMPOTENCY_ERRORS,
            **BODY_ERRORS,
            **PROVIDER_ERRORS,
        },
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
    )
    @decorators.recorded(audit.CREATE, detail=decorators.create_detail)
    @decorators.caller_first(permissions.require_create)
    @decorators.idempotent
    def post(self, request):
        serializer = _valid(TeleconsultationCreateSerializer, request.data)
        teleconsultation = lifecycle.teleconsultation_create(
            participants=serializer.validated_data["participants"],
            schedule=serializer.schedule(),
            actor=_actor(request),
            headers=dict(request.headers),
            writer=writer_from_request(request),
            recording=serializer.validated_data.get("recording"),
        )
        return Response(CreatedSerializer({"roomId": teleconsultation.id}).data, status=201)


class TeleconsultationApi(APIView):
    accepts_backoffice = True

    @extend_schema(
        tags=TAGS,
        summary="The caller's join link and the room's details",
        parameters=[
            OpenApiParameter("useBackground", str, enum=["true", "false"], required=False),
            OpenApiParameter(
                "language",
                str,
                required=False,
                description=(
                    f"Language of the call page: {', '.join(LINK_LANGUAGES)} (a tag such as "
                    "it-IT counts as it); any other value means the company default, never a "
                    "400. Without it, the participant's own language. Query parameters not "
                    "listed here (cache-busters) are ignored."
                ),
            ),
        ],
        responses={
            200: AccessSerializer,
            400: INVALID,
            401: error_response(401, "Unauthorized user", error="Unauthorized user"),
            404: NOT_FOUND,
        },
    )
    def get(self, request, roomId: str):
        # DRF's way, for a GET whose Accept header or `format` parameter only DRF's negotiation
        # can judge (it may refuse it, 406, or indent the JSON); the answer is the poll's.
        data, status, headers = self.poll(request._request, roomId)
        return Response(data, status=status, headers=headers)

    def dispatch(self, request, *args, **kwargs):
        if request.method == "GET" and plain_json_accepted(request):
            data, status, headers = self.poll(request, kwargs["roomId"])
            return self._json(data, status=status, headers=headers)
        return super().dispatch(request, *args, **kwargs)

    def poll(self, request, roomId: str) -> tuple[dict, int, dict]:
        """The GET's answer (body, status, headers), from the Django request: plain Django
        answers it when DRF's negotiation has nothing to decide, at a fraction of the cost of
        DRF's dispatch and rendering on the busiest route (docs/performance.md). The same
        identity, and the same errors (the API's exception handler)."""
        try:
            # A poll mostly has no query string, or a cache-buster: nothing to parse or validate.
            params = request.GET if request.META.get("QUERY_STRING") else None
            caller = caller_from_headers(request_headers(request.META), params)
            query = {}
            if params and not params.keys().isdisjoint(AccessQuerySerializer.PARAMETERS):
                query = _valid(AccessQuerySerializer, params.dict()).validated_data
            access = join_link.teleconsultation_access(
                teleconsultation_id=roomId,
                caller=caller,
                language=query.get("language"),
                use_background=query.get("useBackground") == "true",
            )
        except Exception as exc:
            error = api_exception_handler(exc, {"view": self, "request": request})
            # Its headers (Retry-After) but the content type, which the rendering sets.
            headers = {k: v for k, v in error.items() if k.lower() != "content-type"}
            return error.data, error.status_code, headers
        if access.access_link and caller is not None:
            decorators.handout_recorded(request, teleconsultation_id=roomId, actor=caller.id)
        return access_body(access), 200, {}

    def _json(self, data, *, status: int, headers: dict) -> HttpResponse:
        response = HttpResponse(JSON.render(data), status=status, content_type="application/json")
        for name, value in headers.items():
            response[name] = value
        response["Allow"] = ", ".join(self.allowed_methods)  # DRF's header
        return response

    @extend_schema(
        tags=TAGS,
        summary="Change a teleconsultation (participants replace the whole set)",
        request=TeleconsultationUpdateSerializer,
        responses={
            204: None,
            400: INVALID,
            404: NOT_FOUND,
            409: LOCKED,
            **WRITE_ACCESS_ERRORS,
            **BODY_ERRORS,
            **PROVIDER_ERRORS,
        },
    )
    @decorators.recorded(audit.UPDATE, detail=decorators.update_detail)
    @decorators.visit_first
    def patch(self, request, roomId: str, visit: Teleconsultation | None):
        serializer = _valid(TeleconsultationUpdateSerializer, request.data)
        lifecycle.teleconsultation_update(
            teleconsultation_id=roomId,
            known=visit,
            participants=serializer.validated_data.get("participants"),
            schedule=serializer.schedule(),
            actor=_actor(request),
            headers=dict(request.headers),
            writer=writer_from_request(request),
            recording=serializer.validated_data.get("recording"),
        )
        return Response(status=204)

    @extend_schema(
        tags=TAGS,
        summary="Delete a teleconsultation and its Kaleyra room (the record is kept in TRASH)",
        responses={204: None, 404: NOT_FOUND, **WRITE_ACCESS_ERRORS},
    )
    @decorators.recorded(audit.DELETE)
    @decorators.caller_first(permissions.require_identity)
    def delete(self, request, roomId: str):
        lifecycle.teleconsultation_delete(
            teleconsultation_id=roomId, actor=_actor(request), writer=writer_from_request(request)
        )
        return Response(status=204)


class ParticipantDataApi(APIView):
    accepts_backoffice = True

    @extend_schema(
        tags=TAGS,
        summary="Add one participant",
        request=ParticipantDataSerializer,
        responses={
            201: None,
            400: INVALID,
            404: NOT_FOUND,
            409: error_response(409, "User patient-7 is already a participant"),
            422: IDEMPOTENCY_ERRORS[422],
            **WRITE_ACCESS_ERRORS,
            **BODY_ERRORS,
            **PROVIDER_ERRORS,
        },
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
    )
    @decorators.recorded(audit.PARTICIPANT_ADD, detail=decorators.participant_detail)
    @decorators.visit_first
    @decorators.idempotent
    def post(self, request, roomId: str, visit: Teleconsultation | None):
        serializer = _valid(ParticipantDataSerializer, request.data)
        participant_add.participant_add(
            teleconsultation_id=roomId,
            known=visit,
            entry=serializer.to_input(),
            actor=_actor(request),
            headers=dict(request.headers),
            writer=writer_from_request(request),
        )
        return Response(status=201)


class UploadsApi(APIView):
    accepts_backoffice = True

    @extend_schema(
        tags=TAGS,
        summary="Delete the files shared in the room (when TELECONSULTATION_DELETE_UPLOADS)",
        responses={
            200: UploadsDeletedSerializer,
            204: None,
            404: NOT_FOUND,
            **WRITE_ACCESS_ERRORS,
            **PROVIDER_ERRORS,
        },
    )
    @decorators.recorded(audit.UPLOADS_DELETE, detail=decorators.uploads_detail)
    @decorators.caller_first(permissions.require_identity)
    def delete(self, request, roomId: str):
        # Mia answers 204 when deletion is off, before looking anything up: even an unknown id.
        # Only a caller with an identity gets it (a 401 otherwise, like any write), so nobody
        # learns the setting without one.
        if not settings.TELECONSULTATION_DELETE_UPLOADS:
            return Response(status=204)
        result = uploads.uploads_delete(
            teleconsultation_id=roomId, writer=writer_from_request(request)
        )
        if result is None:
            return Response(status=204)
        return Response(UploadsDeletedSerializer(result).data)


class AttendanceApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Who joined the visit's calls, when and for how long (once collected)",
        responses={
            200: AttendanceSerializer,
            401: error_response(401, "Unauthorized user", error="Unauthorized user"),
            404: NOT_FOUND,
        },
    )
    def get(self, request, roomId: str):
        shown = attendance.visit_attendance(teleconsultation_id=roomId, caller=request.user)
        return Response(AttendanceSerializer(shown).data)
