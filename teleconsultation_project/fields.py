"""Strict DRF fields and a serializer base that refuses unknown keys.

DRF converts `123` to `"123"` and `"5"` to `5` silently; a healthcare integration should learn
that it sent the wrong type instead, so these fields refuse it with a message saying what was
expected. They also keep every value inside a range the rest of the service can compute with:
no control characters in strings, 32-bit integers, dates between 1970 and 9000 (docs/api.md,
"Input limits").
"""

from datetime import UTC, datetime

from django.core.validators import RegexValidator
from rest_framework import serializers

# A signed 32-bit integer: what most clients and databases hold, and small enough that no
# arithmetic on it (a duration added to a date up to LATEST_DATE) can overflow.
INTEGER_MIN = -(2**31)
INTEGER_MAX = 2**31 - 1
# Python dates end in year 9999; a margin keeps "date + duration" and offsets from overflowing.
EARLIEST_DATE = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_DATE = datetime(9001, 1, 1, tzinfo=UTC)

# C0 controls, DEL and C1 controls: invisible in logs and on screen, refused by PostgreSQL (NUL).
no_control_characters = RegexValidator(
    r"\A[^\x00-\x1f\x7f-\x9f]*\Z",
    "Must not contain control characters (U+0000 to U+001F, U+007F to U+009F).",
    code="control_characters",
)
# The same rule as a JSON Schema pattern, for schemas written by hand.
CONTROL_FREE = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"


def is_control_free(text: str) -> bool:
    # The stubs type `regex` as given (str or pattern); the validator holds it compiled.
    return no_control_characters.regex.search(text) is not None  # type: ignore[union-attr]


class StrictCharField(serializers.CharField):
    """A string, never a number turned into one, without control characters."""

    default_error_messages = {"invalid": "Must be a string."}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(no_control_characters)  # and the schema shows it as a pattern

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not is_control_free(data):  # checked before trimming would drop a trailing one
            raise serializers.ValidationError(
                no_control_characters.message, code=no_control_characters.code
            )
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer, never a string or a boolean, within 32 bits unless the field is narrower."""

    default_error_messages = {"invalid": "Must be an integer number."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", INTEGER_MIN)
        kwargs.setdefault("max_value", INTEGER_MAX)
        super().__init__(**kwargs)

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
        "out_of_range": "Must be from 1970-01-01T00:00:00Z up to the end of the year 9000.",
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
        try:
            moment = parsed.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first Python date
            self.fail("out_of_range")
        if not EARLIEST_DATE <= moment < LATEST_DATE:
            self.fail("out_of_range")
        return moment

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
