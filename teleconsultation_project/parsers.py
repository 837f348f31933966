"""JSON bodies read with a bound on their nesting, so no body can exhaust the Python stack.

Python's `json` recurses once per level of nesting: a body of a thousand `[` ends in a
RecursionError, a 500. `nesting_depth` measures a document without recursing (strings removed,
brackets counted), and `loads` refuses one nested deeper than MAX_JSON_DEPTH before parsing it.
"""

import codecs
import re
from itertools import accumulate

from rest_framework.exceptions import ParseError

# get_encoding is newer than DRF's stubs.
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined]
from rest_framework.utils import json

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
