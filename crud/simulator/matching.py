"""MongoDB filters as crud-service accepts them in `_q`, evaluated on JSON documents.

Which operators (lib/QueryParser.js `traverse`): at the top level only $and and $or, any other
$-key is "Unknown operator: $x"; on a field $eq $ne $gt $gte $lt $lte $in $nin $all $exists
$regex (with $options) and $elemMatch, anything else is "Unsupported operator: $x" ($nearSphere
and $text are not simulated). `_id` operands must be ObjectIds ("Invalid objectId") and date
fields' operands dates ("Invalid Date"), as QueryParser casts them.

How they match is MongoDB's: a dotted path walks into sub-documents and across arrays
(`participants.userExternalId`), a condition on an array holds when it holds for the array or for
any element, comparisons hold only between values of the same type, and `null` matches a
missing field.
"""

import re
from typing import Any

from crud.simulator.rules import OBJECT_ID, bad_request, parse_date

FIELD_OPERATORS = frozenset(
    {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$all", "$exists", "$regex"}
    | {"$options", "$elemMatch"}
)
LIST_OPERATORS = frozenset({"$in", "$nin", "$all"})
CAST_OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"}) | LIST_OPERATORS
REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def is_operator_dict(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(k.startswith("$") for k in value)


# --- checking and casting a filter (400s as crud-service gives them) ---------------------------


def _cast(value: Any, field: str, date_fields: frozenset[str]) -> Any:
    if value is None:
        return None
    if field == "_id":
        if isinstance(value, str) and OBJECT_ID.match(value):
            return value.lower()
        raise bad_request("Invalid objectId")
    if field in date_fields:
        date = parse_date(value)
        if date is None:
            raise bad_request("Invalid Date")
        return date
    return value


def _prepare_condition(field: str, condition: Any, date_fields: frozenset[str]) -> Any:
    if not isinstance(condition, dict) or not any(k.startswith("$") for k in condition):
        return _cast(condition, field, date_fields)
    prepared = {}
    for operator, argument in condition.items():
        if operator not in FIELD_OPERATORS:
            raise bad_request(f"Unsupported operator: {operator}")
        if operator in LIST_OPERATORS:
            if not isinstance(argument, list):
                raise bad_request(f"{operator} needs an array")
            argument = [_cast(item, field, date_fields) for item in argument]
        elif operator in CAST_OPERATORS:
            argument = _cast(argument, field, date_fields)
        elif operator == "$elemMatch":
            if not isinstance(argument, dict):
                raise bad_request("$elemMatch needs an Object")
            if is_operator_dict(argument):
                argument = _prepare_condition(field, argument, frozenset())
            else:
                argument = prepare(argument, date_fields=frozenset())
        prepared[operator] = argument
    return prepared


def prepare(query: Any, *, date_fields: frozenset[str]) -> dict[str, Any]:
    """Checks `query` as crud-service would and casts ids and dates to their stored form."""
    if not isinstance(query, dict):
        raise bad_request("_q must be a JSON object")
    prepared: dict[str, Any] = {}
    for key, condition in query.items():
        if key in ("$and", "$or"):
            if not isinstance(condition, list) or not condition:
                raise bad_request(f"{key} must be a nonempty array")
            prepared[key] = [prepare(part, date_fields=date_fields) for part in condition]
        elif key.startswith("$"):
            raise bad_request(f"Unknown operator: {key}")
        else:
            prepared[key] = _prepare_condition(key, condition, date_fields)
    return prepared


# --- matching ----------------------------------------------------------------------------------


def _bracket(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__  # str, dict, list


def equal(left: Any, right: Any) -> bool:
    return _bracket(left) == _bracket(right) and left == right


def values_at(value: Any, parts: list[str]) -> list[Any]:
    """Every value reached by the path `parts`, walking arrays as MongoDB does; [] if none."""
    if not parts:
        return [value]
    head, rest = parts[0], parts[1:]
    if isinstance(value, dict):
        return values_at(value[head], rest) if head in value else []
    if isinstance(value, list):
        found = []
        if head.isdigit() and int(head) < len(value):
            found += values_at(value[int(head)], rest)
        for element in value:
            if isinstance(element, dict):
                found += values_at(element, parts)
        return found
    return []


def _expanded(values: list[Any]) -> list[Any]:
    """The values and, for arrays, their elements: a condition on an array holds for either."""
    flat = []
    for value in values:
        flat.append(value)
        if isinstance(value, list):
            flat.extend(value)
    return flat


def _equals_any(values: list[Any], target: Any) -> bool:
    candidates = _expanded(values)
    if target is None and not values:
        return True  # null matches a missing field
    return any(equal(candidate, target) for candidate in candidates)


def _ordered(left: Any, operator: str, right: Any) -> bool:
    if _bracket(left) != _bracket(right) or _bracket(left) not in ("number", "str"):
        return False
    if operator == "$gt":
        return left > right
    if operator == "$gte":
        return left >= right
    if operator == "$lt":
        return left < right
    return left <= right


def _operator_holds(values: list[Any], operator: str, argument: Any, condition: dict) -> bool:
    if operator == "$eq":
        return _equals_any(values, argument)
    if operator == "$ne":
        return not _equals_any(values, argument)
    if operator in ("$gt", "$gte", "$lt", "$lte"):
        return any(_ordered(value, operator, argument) for value in _expanded(values))
    if operator == "$in":
        return any(_equals_any(values, item) for item in argument)
    if operator == "$nin":
        return not any(_equals_any(values, item) for item in argument)
    if operator == "$all":
        return bool(argument) and all(_equals_any(values, item) for item in argument)
    if operator == "$exists":
        return bool(argument) == bool(values)
    if operator == "$regex":
        flags = sum(REGEX_FLAGS.get(flag, 0) for flag in condition.get("$options", ""))
        pattern = re.compile(argument, flags)
        return any(isinstance(v, str) and pattern.search(v) for v in _expanded(values))
    if operator == "$elemMatch":
        arrays = [value for value in values if isinstance(value, list)]
        return any(element_matches(e, argument) for array in arrays for e in array)
    return True  # $options: read with $regex


def element_matches(element: Any, condition: Any) -> bool:
    """$elemMatch and $pull: an operator expression on the element, or a filter on a document."""
    if is_operator_dict(condition):
        return all(_operator_holds([element], op, arg, condition) for op, arg in condition.items())
    if isinstance(condition, dict):
        return isinstance(element, dict) and matches(element, condition)
    return equal(element, condition)


def field_matches(document: Any, path: str, condition: Any) -> bool:
    values = values_at(document, path.split("."))
    if is_operator_dict(condition):
        return all(_operator_holds(values, op, arg, condition) for op, arg in condition.items())
    return _equals_any(values, condition)


def matches(document: dict[str, Any], query: dict[str, Any]) -> bool:
    """Whether `document` satisfies the (prepared) filter `query`."""
    for key, condition in query.items():
        if key == "$and":
            if not all(matches(document, part) for part in condition):
                return False
        elif key == "$or":
            if not any(matches(document, part) for part in condition):
                return False
        elif not field_matches(document, key, condition):
            return False
    return True
