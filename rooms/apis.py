"""API views of /teleconsultation: validate the input, call one service, shape the answer."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from rooms import additions, agenda, audit, selectors, services, uploads
from rooms.serializers import (
    AccessQuerySerializer,
    AccessSerializer,
    AgendaQuerySerializer,
    AgendaSerializer,
    CreatedSerializer,
    ParticipantDataSerializer,
    TeleconsultationCreateSerializer,
    TeleconsultationUpdateSerializer,
    UploadsDeletedSerializer,
)
from teleconsultation_project.formats import format_datetime
from teleconsultation_project.schema import PROVIDER_ERRORS, error_response

TAGS = ["teleconsultation"]
NOT_FOUND = error_response(
    404,
    "Room with id 0123456789abcdef01234567 not found on CRUD",
    error="Room with id 0123456789abcdef01234567 not found on CRUD",
)
INVALID = error_response(400, "Invalid request: start_date: This field is required.")
LOCKED = error_response(409, "The teleconsultation is complete and starts soon or has started")

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
        "start_date": "2026-12-01T09:30:00+01:00",
        "duration_in_seconds": 1800,
    },
)


def _valid(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer


def _actor(request) -> str | None:
    return request.user.id if request.user else None


class TeleconsultationCollectionApi(APIView):
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
            **PROVIDER_ERRORS,
        },
    )
    @audit.api(audit.CREATE, detail=audit.create_detail)
    def post(self, request):
        serializer = _valid(TeleconsultationCreateSerializer, request.data)
        teleconsultation = services.teleconsultation_create(
            participants=serializer.validated_data["participants"],
            schedule=serializer.schedule(),
            actor=_actor(request),
            headers=dict(request.headers),
        )
        return Response({"roomId": teleconsultation.id}, status=201)


class TeleconsultationApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The caller's join link and the room's details",
        parameters=[
            OpenApiParameter("useBackground", str, enum=["true", "false"], required=False),
            OpenApiParameter("language", str, enum=["en", "it", "pl", "fr", "de"], required=False),
        ],
        responses={
            200: AccessSerializer,
            400: INVALID,
            401: error_response(401, "Unauthorized user", error="Unauthorized user"),
            404: NOT_FOUND,
        },
    )
    @audit.api(audit.LINK_HANDED_OUT, handouts_only=True)
    def get(self, request, room_id: str):
        query = _valid(AccessQuerySerializer, request.query_params.dict()).validated_data
        access = selectors.teleconsultation_access(
            teleconsultation_id=room_id,
            caller=request.user,
            language=query.get("language"),
            use_background=query.get("useBackground") == "true",
        )
        return Response(
            {
                "bandyerUserId": access.kaleyra_user_id,
                "accessLinkURL": access.access_link,
                "accessLinkAvailableFrom": format_datetime(access.available_from),
                "accessLinkClosedAt": format_datetime(access.closed_at),
                "participantsBandyerCall": [
                    {"bandyerUserId": p.kaleyra_user_id, "fullName": p.full_name}
                    for p in access.participants
                ],
                "details": access.details,
            }
        )

    @extend_schema(
        tags=TAGS,
        summary="Change a teleconsultation (participants replace the whole set)",
        request=TeleconsultationUpdateSerializer,
        responses={204: None, 400: INVALID, 404: NOT_FOUND, 409: LOCKED, **PROVIDER_ERRORS},
    )
    @audit.api(audit.UPDATE, detail=audit.update_detail)
    def patch(self, request, room_id: str):
        serializer = _valid(TeleconsultationUpdateSerializer, request.data)
        services.teleconsultation_update(
            teleconsultation_id=room_id,
            participants=serializer.validated_data.get("participants"),
            schedule=serializer.schedule(),
            actor=_actor(request),
            headers=dict(request.headers),
        )
        return Response(status=204)

    @extend_schema(
        tags=TAGS,
        summary="Delete a teleconsultation and its Kaleyra room (the record is kept in TRASH)",
        responses={204: None, 404: NOT_FOUND},
    )
    @audit.api(audit.DELETE)
    def delete(self, request, room_id: str):
        services.teleconsultation_delete(teleconsultation_id=room_id, actor=_actor(request))
        return Response(status=204)


class ParticipantDataApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Add one participant",
        request=ParticipantDataSerializer,
        responses={
            201: None,
            400: INVALID,
            404: NOT_FOUND,
            409: error_response(409, "User patient-7 is already a participant"),
            **PROVIDER_ERRORS,
        },
    )
    @audit.api(audit.PARTICIPANT_ADD, detail=audit.participant_detail)
    def post(self, request, room_id: str):
        serializer = _valid(ParticipantDataSerializer, request.data)
        additions.participant_add(
            teleconsultation_id=room_id,
            entry=serializer.to_input(),
            actor=_actor(request),
            headers=dict(request.headers),
        )
        return Response(status=201)


class UploadsApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Delete the files shared in the room (when TELECONSULTATION_DELETE_UPLOADS)",
        responses={
            200: UploadsDeletedSerializer,
            204: None,
            404: NOT_FOUND,
            **PROVIDER_ERRORS,
        },
    )
    @audit.api(audit.UPLOADS_DELETE, detail=audit.uploads_detail)
    def delete(self, request, room_id: str):
        result = uploads.uploads_delete(teleconsultation_id=room_id)
        if result is None:
            return Response(status=204)
        return Response({"total": result.total, "deleted": result.deleted})
