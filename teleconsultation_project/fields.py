"""Strict DRF fields and a serializer base that refuses unknown keys.

DRF converts `123` to `"123"` and `"5"` to `5` silently; a healthcare integration should learn
that it sent the wrong type instead, so these fields refuse it with a message saying what was
expected.
"""

from datetime import UTC, datetime

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)

    default_error_messages = {"invalid": "Must be a string."}


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "Must be an integer number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class OffsetDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an explicit offset (`Z` or `+hh:mm`), returned as an aware UTC datetime."""

    default_error_messages = {
        "invalid": (
            "Must be an ISO 8601 date and time with an explicit offset, "
            "e.g. 2026-03-01T09:30:00Z or 2026-03-01T10:30:00+01:00."
        ),
        "naive": "Has no time zone offset; add Z or an offset such as +01:00.",
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            self.fail("invalid")
        if "T" not in text.upper():
            self.fail("invalid")
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.fail("naive")
        return parsed.astimezone(UTC)

    def to_representation(self, value):
        from teleconsultation_project.formats import format_datetime

        return format_datetime(value)


class StrictSerializer(serializers.Serializer):
    """A serializer whose input must be a JSON object with only the declared keys."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [f"Must be a JSON object, got {type(data).__name__}."]}
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown field; allowed: " + ", ".join(self.fields)] for name in unknown}
            )
        return super().to_internal_value(data)
