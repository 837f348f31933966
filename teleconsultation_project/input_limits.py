"""What the API accepts as input (docs/api.md, "Input limits"): JSON bodies nested at most
MAX_JSON_DEPTH deep, and strict DRF fields with a serializer base that refuses unknown keys.

Python's `json` recurses once per level of nesting: a body of a thousand `[` ends in a
RecursionError, a 500. `nesting_depth` measures a document without recursing (strings removed,
brackets counted), and `loads` refuses one nested deeper than MAX_JSON_DEPTH before parsing it.

DRF converts `123` to `"123"` and `"5"` to `5` silently; a healthcare integration should learn
that it sent the wrong type instead, so these fields refuse it with a message saying what was
expected. They also keep every value inside a range the rest of the service can compute with:
no control characters in strings, 32-bit integers, dates between 1970 and 9000.
"""

import codecs
import re
from datetime import UTC, datetime
from itertools import accumulate

from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.exceptions import ParseError

# get_encoding is newer than DRF's stubs.
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined]
from rest_framework.utils import json

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


# --- JSON bodies, nested at most MAX_JSON_DEPTH deep --------------------------------------------
# The deepest body the API defines nests five levels: body > participants > data > entry > groups.
MAX_JSON_DEPTH = 32

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class TooDeep(ValueError):
    def __init__(self, depth: int, limit: int) -> None:
        super().__init__(
            f"arrays and objects are nested {depth} levels deep; at most {limit} are allowed"
        )


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in a JSON text (0 for a scalar), in linear time."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def loads(text: str, *, max_depth: int = MAX_JSON_DEPTH):
    """`json.loads` (NaN and Infinity refused, as DRF does) for documents at most `max_depth`
    deep; a deeper one raises `TooDeep`, a ValueError like any other malformed JSON."""
    depth = nesting_depth(text)
    if depth > max_depth:
        raise TooDeep(depth, max_depth)
    return json.loads(text)


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSONParser, with the nesting bound of `loads`."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            return loads(codecs.getreader(encoding)(stream).read())
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
