"""Request and response shapes of the /teleconsultation API (Mia's field names).

Input serializers only check shapes and types and turn the body into service inputs; the rules
that need the database or the configuration live in the services.
"""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rooms import agenda
from rooms.participants import LANGUAGES, ParticipantInput
from rooms.schedule import ScheduleInput
from rooms.services import ParticipantsInput
from teleconsultation_project.fields import (
    OffsetDateTimeField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)


class ParticipantDataSerializer(StrictSerializer):
    userExternalId = StrictCharField(max_length=255)
    groups = serializers.ListField(
        child=StrictCharField(max_length=100), required=False, allow_empty=True
    )
    fullName = StrictCharField(max_length=255, required=False)
    language = serializers.ChoiceField(choices=LANGUAGES, required=False)

    def validate(self, attrs):
        if settings.AUTH_SERVICE:
            for key in ("groups", "fullName"):
                if key in attrs:
                    raise serializers.ValidationError(
                        {key: ["Comes from the user directory (AUTH_SERVICE); do not send it."]}
                    )
        return attrs

    def to_input(self) -> ParticipantInput:
        return participant_input(self.validated_data)


def participant_input(data: dict) -> ParticipantInput:
    groups = data.get("groups")
    return ParticipantInput(
        external_id=data["userExternalId"],
        groups=tuple(groups) if groups is not None else None,
        full_name=data.get("fullName"),
        language=data.get("language"),
    )


class ParticipantsObjectSerializer(StrictSerializer):
    number = StrictIntegerField(min_value=2, max_value=25)
    data = ParticipantDataSerializer(many=True, max_length=25)


PARTICIPANT_SCHEMA = {
    "type": "object",
    "required": ["userExternalId"],
    "additionalProperties": False,
    "properties": {
        "userExternalId": {"type": "string", "minLength": 1, "maxLength": 255},
        "groups": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 100},
            "description": "Required without AUTH_SERVICE; refused with it",
        },
        "fullName": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "description": "Required without AUTH_SERVICE; refused with it",
        },
        "language": {"type": "string", "enum": list(LANGUAGES)},
    },
}


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "object",
                "required": ["number", "data"],
                "additionalProperties": False,
                "properties": {
                    "number": {"type": "integer", "minimum": 2, "maximum": 25},
                    "data": {"type": "array", "maxItems": 25, "items": PARTICIPANT_SCHEMA},
                },
            },
            {
                "type": "array",
                "minItems": 2,
                "maxItems": 25,
                "items": {"type": "string", "minLength": 1},
                "description": "User ids; only when AUTH_SERVICE is set",
            },
        ]
    }
)
class ParticipantsField(serializers.Field):
    """`{"number", "data": [...]}`, or (AUTH_SERVICE mode) an array of user ids."""

    def to_internal_value(self, value) -> ParticipantsInput:
        if isinstance(value, list):
            return self._from_ids(value)
        if not isinstance(value, dict):
            raise serializers.ValidationError(
                'Must be an object {"number", "data"} or, with AUTH_SERVICE, an array of user ids.'
            )
        nested = ParticipantsObjectSerializer(data=value)
        if not nested.is_valid():
            raise serializers.ValidationError(nested.errors)
        entries = tuple(participant_input(item) for item in nested.validated_data["data"])
        return ParticipantsInput(number=nested.validated_data["number"], entries=entries)

    def _from_ids(self, value: list) -> ParticipantsInput:
        if not settings.AUTH_SERVICE:
            raise serializers.ValidationError(
                "An array of user ids needs the user directory (AUTH_SERVICE is not set); send "
                '{"number": n, "data": [{"userExternalId", "groups", "fullName"}]} instead.'
            )
        if not all(isinstance(item, str) and 0 < len(item.strip()) <= 255 for item in value):
            raise serializers.ValidationError(
                "Every user id must be a non-empty string of at most 255 characters."
            )
        entries = tuple(ParticipantInput(external_id=item.strip()) for item in value)
        return ParticipantsInput(number=len(entries), entries=entries, field="participants")

    def to_representation(self, value):
        raise NotImplementedError("input only")


class TeleconsultationWriteSerializer(StrictSerializer):
    participants = ParticipantsField()
    start_date = OffsetDateTimeField()
    end_date = OffsetDateTimeField(required=False)
    duration_in_seconds = StrictIntegerField(required=False, min_value=1)

    def validate(self, attrs):
        if "end_date" in attrs and "duration_in_seconds" in attrs:
            raise serializers.ValidationError(
                {"end_date": ["Send either end_date or duration_in_seconds, not both."]}
            )
        return attrs

    def schedule(self) -> ScheduleInput:
        data = self.validated_data
        return ScheduleInput(
            start=data.get("start_date"),
            end=data.get("end_date"),
            duration_seconds=data.get("duration_in_seconds"),
        )


class TeleconsultationCreateSerializer(TeleconsultationWriteSerializer):
    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "end_date" not in attrs and "duration_in_seconds" not in attrs:
            raise serializers.ValidationError(
                {"end_date": ["One of end_date or duration_in_seconds is required."]}
            )
        return attrs


class TeleconsultationUpdateSerializer(TeleconsultationWriteSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class AccessQuerySerializer(StrictSerializer):
    useBackground = serializers.ChoiceField(choices=["true", "false"], required=False)
    language = serializers.ChoiceField(choices=LANGUAGES, required=False)


class CreatedSerializer(serializers.Serializer):
    roomId = serializers.CharField(help_text="Id of the new teleconsultation (24 hex characters)")


class CallParticipantSerializer(serializers.Serializer):
    bandyerUserId = serializers.CharField()
    fullName = serializers.CharField()


class RoomDetailsSerializer(serializers.Serializer):
    recording = serializers.CharField(allow_null=True)
    recordingStatus = serializers.CharField(allow_null=True)
    callType = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    disabled = serializers.BooleanField(allow_null=True)
    creationDate = serializers.CharField(allow_null=True)
    durationInSeconds = serializers.IntegerField(allow_null=True)
    durationUsedInSeconds = serializers.IntegerField(allow_null=True)
    live = serializers.BooleanField(allow_null=True)


class AccessSerializer(serializers.Serializer):
    bandyerUserId = serializers.CharField()
    accessLinkURL = serializers.CharField(
        allow_null=True, help_text="Personal join link; null until available (poll until then)"
    )
    accessLinkAvailableFrom = serializers.CharField(
        help_text="UTC time from which the link is handed out, once every participant is known"
    )
    accessLinkClosedAt = serializers.CharField(
        allow_null=True,
        help_text=(
            "UTC time the join window closed (JOIN_CLOSES_AFTER_END_MS after the end): the link "
            "stays null for good; null while the window has not closed, or never closes"
        ),
    )
    participantsBandyerCall = CallParticipantSerializer(many=True)
    details = RoomDetailsSerializer(allow_null=True)


class UploadsDeletedSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    deleted = serializers.IntegerField()


# --- the caller's agenda (GET /teleconsultation) ------------------------------------------------


class AgendaQuerySerializer(serializers.Serializer):
    """Query parameters; unknown ones (cache-busters) are ignored, as on the other GET."""

    to = OffsetDateTimeField(required=False)
    limit = serializers.IntegerField(
        min_value=1, max_value=agenda.MAX_LIMIT, default=agenda.DEFAULT_LIMIT
    )
    cursor = serializers.CharField(required=False, trim_whitespace=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = OffsetDateTimeField(required=False)  # a Python keyword: no attribute
        return fields

    def validate_cursor(self, value: str) -> tuple:
        try:
            return agenda.decode_cursor(value)
        except ValueError:
            raise serializers.ValidationError(
                "Not a cursor this endpoint gave; pass the `next` of the previous page as it is."
            ) from None

    def validate(self, attrs):
        if "from" in attrs and "to" in attrs and attrs["from"] >= attrs["to"]:
            raise serializers.ValidationError({"to": ["Must be later than from."]})
        return attrs


class AgendaParticipantSerializer(serializers.Serializer):
    fullName = serializers.CharField()

    def to_representation(self, instance):
        return {"fullName": instance}


class AgendaEntrySerializer(serializers.Serializer):
    roomId = serializers.CharField(source="room_id")
    startDate = OffsetDateTimeField(source="start")
    endDate = OffsetDateTimeField(source="end")
    participants = AgendaParticipantSerializer(source="participant_names", many=True)
    accessLinkAvailableFrom = OffsetDateTimeField(
        source="available_from",
        help_text="UTC time from which the join link is handed out, once everyone is known",
    )
    accessLinkAvailable = serializers.BooleanField(
        source="available",
        help_text="Whether GET /teleconsultation/{roomId} hands out the caller's link now",
    )


class AgendaSerializer(serializers.Serializer):
    data = AgendaEntrySerializer(source="entries", many=True)
    next = serializers.CharField(
        source="next_cursor",
        allow_null=True,
        help_text="Pass as `cursor` for the next page; null on the last page",
    )
