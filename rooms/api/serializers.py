"""Request and response shapes of the /teleconsultation API (Mia's field names).

Input serializers only check shapes and types and turn the body into service inputs; the rules
that need the database or the configuration live in the services.
"""

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from kaleyra.wire import RECORDING_MODES
from rooms.rules.languages import MAX_TAG_LENGTH, is_language_tag
from rooms.rules.participants import ParticipantInput, ParticipantsInput
from rooms.rules.schedule import MAX_DURATION, MIN_DURATION, ScheduleInput
from rooms.selectors import agenda
from teleconsultation_project.formats import format_datetime
from teleconsultation_project.input_limits import (
    CONTROL_FREE,
    OffsetDateTimeField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    is_control_free,
)

MAX_GROUPS = 50


class LanguageTagField(StrictCharField):
    default_error_messages = {
        "not_a_tag": (
            f"Must be a language tag (BCP 47) of at most {MAX_TAG_LENGTH} characters, "
            "such as it or pt-BR."
        )
    }

    def to_internal_value(self, data):
        tag = super().to_internal_value(data)
        if not is_language_tag(tag):
            self.fail("not_a_tag")
        return tag


class ParticipantDataSerializer(StrictSerializer):
    userExternalId = StrictCharField(max_length=255)
    groups = serializers.ListField(
        child=StrictCharField(max_length=100),
        required=False,
        allow_empty=False,
        min_length=1,  # for the schema: allow_empty answers first, with a clearer message
        max_length=MAX_GROUPS,
        help_text="Required without AUTH_SERVICE; refused with it",
    )
    fullName = StrictCharField(
        max_length=255, required=False, help_text="Required without AUTH_SERVICE; refused with it"
    )
    # Mia's usage page names the field `group` (one string) in its prose.
    group = StrictCharField(max_length=100, required=False)
    language = LanguageTagField(required=False)

    def validate(self, attrs):
        if settings.AUTH_SERVICE:
            for key in ("groups", "group", "fullName"):
                if key in attrs:
                    raise serializers.ValidationError(
                        {key: ["Comes from the user directory (AUTH_SERVICE); do not send it."]}
                    )
        if "group" in attrs and "groups" in attrs:
            raise serializers.ValidationError({"group": ["Send either group or groups, not both."]})
        return attrs

    def to_input(self) -> ParticipantInput:
        return participant_input(self.validated_data)


def participant_input(data: dict) -> ParticipantInput:
    groups = [data["group"]] if "group" in data else data.get("groups")
    return ParticipantInput(
        external_id=data["userExternalId"],
        groups=tuple(groups) if groups is not None else None,
        full_name=data.get("fullName"),
        language=data.get("language"),
    )


class ParticipantsObjectSerializer(StrictSerializer):
    number = StrictIntegerField(min_value=2, max_value=25)
    # The stubs see this field as overriding Serializer.data; DRF's metaclass moves it out.
    data = serializers.ListField(child=ParticipantDataSerializer(), max_length=25)  # type: ignore[assignment]


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
        if not all(
            isinstance(item, str) and 0 < len(item.strip()) <= 255 and is_control_free(item)
            for item in value
        ):
            raise serializers.ValidationError(
                "Every user id must be a non-empty string of at most 255 characters, without "
                "control characters."
            )
        entries = tuple(ParticipantInput(external_id=item.strip()) for item in value)
        return ParticipantsInput(number=len(entries), entries=entries, field="participants")

    def to_representation(self, value):
        raise NotImplementedError("input only")


USER_IDS_SCHEMA = {
    "type": "array",
    "minItems": 2,
    "maxItems": 25,
    "items": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": CONTROL_FREE},
    "description": "User ids; groups and full names come from the user directory",
}


class ParticipantsFieldSchema(OpenApiSerializerFieldExtension):
    """The array-of-ids form is documented only when the running service accepts it."""

    target_class = ParticipantsField

    def map_serializer_field(self, auto_schema, direction):
        participants = auto_schema.resolve_serializer(ParticipantsObjectSerializer, direction).ref
        if not settings.AUTH_SERVICE:
            return participants
        return {"oneOf": [participants, USER_IDS_SCHEMA]}


DATE_RULE = "ISO 8601 with an offset (Z or +hh:mm), from 1970 to the end of the year 9000"


class TeleconsultationWriteSerializer(StrictSerializer):
    participants = ParticipantsField(
        help_text=(
            '`{"number", "data"}`; with AUTH_SERVICE set, an array of user ids is accepted too '
            "(this document shows that form only when the service runs with AUTH_SERVICE)"
        )
    )
    start_date = OffsetDateTimeField(help_text=f"{DATE_RULE}; at most 5 years from now")
    end_date = OffsetDateTimeField(required=False, help_text=DATE_RULE)
    duration_in_seconds = StrictIntegerField(
        required=False,
        min_value=int(MIN_DURATION.total_seconds()),
        max_value=int(MAX_DURATION.total_seconds()),
    )
    # Not in Mia's contract (docs/migrating-from-mia.md): a client that does not send it gets
    # KALEYRA_RECORDING.
    recording = serializers.ChoiceField(
        choices=RECORDING_MODES,
        required=False,
        error_messages={"invalid_choice": f"Must be one of {', '.join(RECORDING_MODES)}."},
        help_text=(
            "Whether Kaleyra records the calls: none, manual (an admin participant starts it in "
            "the call) or automatic; absent: the service's KALEYRA_RECORDING. Changing it gives "
            "the visit a new room. Not part of Mia's API."
        ),
    )

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


class AccessQuerySerializer(serializers.Serializer):
    """Not strict: query parameters the endpoint does not know (cache-busters) are ignored."""

    PARAMETERS = ("useBackground", "language")

    useBackground = serializers.ChoiceField(choices=["true", "false"], required=False)
    # Any value: one the links do not support means the company default (rooms/rules/languages.py).
    language = serializers.CharField(required=False, allow_blank=True, trim_whitespace=True)


class CreatedSerializer(serializers.Serializer):
    roomId = serializers.CharField(help_text="Id of the new teleconsultation (24 hex characters)")


class CallParticipantSerializer(serializers.Serializer):
    bandyerUserId = serializers.CharField(source="kaleyra_user_id")
    fullName = serializers.CharField(source="full_name")


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
    """The answer of GET /teleconsultation/{roomId}, from `selectors.Access`."""

    bandyerUserId = serializers.CharField(source="kaleyra_user_id")
    accessLinkURL = serializers.CharField(
        source="access_link",
        allow_null=True,
        help_text="Personal join link; null until available (poll until then)",
    )
    accessLinkAvailableFrom = OffsetDateTimeField(
        source="available_from",
        help_text="UTC time from which the link is handed out, once every participant is known",
    )
    accessLinkClosedAt = OffsetDateTimeField(
        source="closed_at",
        allow_null=True,
        help_text=(
            "UTC time the join window closed (JOIN_CLOSES_AFTER_END_MS after the end): the link "
            "stays null for good; null while the window has not closed, or never closes"
        ),
    )
    participantsBandyerCall = CallParticipantSerializer(source="participants", many=True)
    details = RoomDetailsSerializer(allow_null=True)


# The poll's answer is AccessSerializer's, written out: the serializer's fields walk cost a fifth
# of a poll's CPU (docs/performance.md). tests/rooms/test_access_body.py holds the two equal, so
# the answer cannot drift from the OpenAPI document, which AccessSerializer still describes.
DETAILS_FIELDS = tuple(RoomDetailsSerializer().fields)  # in their declared order
DETAILS_NUMBER = ("durationInSeconds", "durationUsedInSeconds")
DETAILS_FLAG = ("disabled", "live")


def access_body(access) -> dict:
    """`AccessSerializer(access).data`, as plain dicts and lists."""
    return {
        "bandyerUserId": _text(access.kaleyra_user_id),
        "accessLinkURL": _text(access.access_link),
        "accessLinkAvailableFrom": format_datetime(access.available_from),
        "accessLinkClosedAt": format_datetime(access.closed_at),
        "participantsBandyerCall": [
            {"bandyerUserId": _text(member.kaleyra_user_id), "fullName": _text(member.full_name)}
            for member in access.participants
        ],
        "details": None if access.details is None else _details(access.details),
    }


def _details(details: dict) -> dict:
    """RoomDetailsSerializer's: a key missing or None is None, as its fields allow."""
    body: dict = {}
    for name in DETAILS_FIELDS:
        value = details.get(name)
        if value is None:
            body[name] = None
        elif name in DETAILS_NUMBER:
            body[name] = int(value)
        elif name in DETAILS_FLAG:
            body[name] = _flag(value)
        else:
            body[name] = str(value)
    return body


def _text(value) -> str | None:
    return None if value is None else str(value)


def _flag(value) -> bool | None:
    """DRF's BooleanField.to_representation."""
    field = serializers.BooleanField
    if value in field.TRUE_VALUES:
        return True
    if value in field.FALSE_VALUES:
        return False
    if value in field.NULL_VALUES:
        return None
    return bool(value)


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
    # The stubs see this field as overriding Serializer.data; DRF's metaclass moves it out.
    data = AgendaEntrySerializer(source="entries", many=True)  # type: ignore[assignment]
    next = serializers.CharField(
        source="next_cursor",
        allow_null=True,
        help_text="Pass as `cursor` for the next page; null on the last page",
    )


# --- who joined (GET /teleconsultation/{roomId}/attendance) -------------------------------------


class AttendeeSerializer(serializers.Serializer):
    userId = serializers.CharField(
        source="user_id",
        help_text="The participant's userExternalId; empty for a Kaleyra user the visit no "
        "longer names",
    )
    bandyerUserId = serializers.CharField(source="kaleyra_user_id")
    joinedAt = OffsetDateTimeField(source="joined_at", allow_null=True, help_text="First join")
    leftAt = OffsetDateTimeField(
        source="left_at", allow_null=True, help_text="Last leave; null while still in a call"
    )
    secondsInCall = serializers.IntegerField(
        source="seconds_in_call", help_text="Summed over the sessions they were in"
    )
    sessions = serializers.IntegerField(help_text="Calls (Kaleyra sessions) they were in")


class AttendanceSerializer(serializers.Serializer):
    """The answer of GET /teleconsultation/{roomId}/attendance, from `selectors.attendance`."""

    collectedAt = OffsetDateTimeField(
        source="collected_at",
        allow_null=True,
        help_text="When it was collected (collect_attendance, after the visit ended); null until "
        "then",
    )
    noShow = serializers.BooleanField(
        source="no_show",
        allow_null=True,
        help_text="Fewer than two participants joined; null until collected",
    )
    participants = AttendeeSerializer(source="attendees", many=True)
