"""PATCH commands applied to a document, as MongoDB's findOneAndUpdate / updateMany apply them.

Commands (lib/CrudService.js ALLOWED_COMMANDS): $set $unset $inc $mul $currentDate $push $pull
$addToSet. Paths are dotted; a numeric part indexes an array; `$` stands for the first element
the filter matched (`participants.$.fullName` with `_q={"participants.userExternalId": "u1"}`).
crud-service's own `field.$.merge` / `field.$.replace` (lib/QueryParser.js
transformArrayCommands) become `field.$.<key>` / `field.$`. The service's fields cannot be
written (the PATCH body schema leaves them out: a 400). What MongoDB refuses only while writing
(two commands on one path, $inc on a string, `$` with no matched element) is a 500 from
crud-service, as its handler does not catch those errors.
"""

from datetime import datetime
from typing import Any

from crud.simulator.matching import element_matches, equal, field_matches, is_operator_dict
from crud.simulator.rules import (
    SERVICE_FIELDS,
    Refusal,
    additional_property,
    bad_request,
    date_value,
    iso,
)

COMMANDS = ("$set", "$unset", "$inc", "$mul", "$currentDate", "$push", "$pull", "$addToSet")
NUMERIC = ("$inc", "$mul")
_MISSING = object()


def check_commands(body: Any, *, date_fields: frozenset[str]) -> dict[str, dict[str, Any]]:
    """The PATCH body checked as crud-service's schema would, with merge/replace expanded."""
    if not isinstance(body, dict):
        raise bad_request("body must be object")
    commands: dict[str, dict[str, Any]] = {}
    for command, fields in body.items():
        if command not in COMMANDS:
            raise additional_property("body", command)
        if not isinstance(fields, dict):
            raise bad_request(f"body/{command} must be object")
        checked: dict[str, Any] = {}
        for path, value in fields.items():
            if path.split(".")[0] in SERVICE_FIELDS:
                raise additional_property(f"body/{command}", path)
            if command in NUMERIC and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise bad_request(f"body/{command}/{path} must be number")
            if command == "$set" and path.endswith(".$.merge") and isinstance(value, dict):
                array = path[: -len(".$.merge")]
                checked.update({f"{array}.$.{key}": item for key, item in value.items()})
            elif command == "$set" and path.endswith(".$.replace"):
                checked[path[: -len(".replace")]] = value
            elif command == "$set" and path in date_fields:
                checked[path] = date_value(value, f"body/$set/{path}")
            else:
                checked[path] = value
        commands[command] = checked
    return commands


def _check_conflicts(paths: list[str]) -> None:
    for index, path in enumerate(paths):
        for other in paths[index + 1 :]:
            if path == other or other.startswith(path + ".") or path.startswith(other + "."):
                raise Refusal(
                    500, f"Updating the path '{other}' would create a conflict at '{path}'"
                )


def _resolve_positional(document: dict, path: str, query: dict) -> list[str]:
    parts = path.split(".")
    if "$" not in parts:
        return parts
    at = parts.index("$")
    array_path = ".".join(parts[:at])
    index = _first_matching_index(document, array_path, query)
    if index is None:
        raise Refusal(500, "The positional operator did not find the match needed from the query.")
    return parts[:at] + [str(index)] + parts[at + 1 :]


def _array_conditions(query: dict, array_path: str) -> list[tuple[str, Any]]:
    found = []
    for key, condition in query.items():
        if key == "$and":
            for part in condition:
                found += _array_conditions(part, array_path)
        elif key == array_path or key.startswith(array_path + "."):
            found.append((key[len(array_path) + 1 :], condition))
    return found


def _first_matching_index(document: dict, array_path: str, query: dict) -> int | None:
    conditions = _array_conditions(query, array_path)
    array = _get(document, array_path.split("."))
    if not conditions or not isinstance(array, list):
        return None
    for index, element in enumerate(array):
        if all(_element_holds(element, sub, cond) for sub, cond in conditions):
            return index
    return None


def _element_holds(element: Any, sub_path: str, condition: Any) -> bool:
    if sub_path:
        return isinstance(element, dict) and field_matches(element, sub_path, condition)
    if is_operator_dict(condition) and "$elemMatch" in condition:
        return element_matches(element, condition["$elemMatch"])
    return element_matches(element, condition)


def _get(node: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _slot(node: Any, part: str, create: bool) -> tuple[Any, Any]:
    """(container, key) for `part` of `node`; arrays grow with nulls, as MongoDB pads them."""
    if isinstance(node, dict):
        return node, part
    if isinstance(node, list) and part.isdigit():
        index = int(part)
        if create and index >= len(node):
            node.extend([None] * (index + 1 - len(node)))
        return node, index
    raise Refusal(500, f"Cannot create field '{part}' in a {type(node).__name__} value")


def _set(document: dict, parts: list[str], value: Any) -> None:
    node: Any = document
    for part in parts[:-1]:
        container, key = _slot(node, part, create=True)
        if isinstance(container, dict) and key not in container:
            container[key] = {}  # MongoDB makes sub-documents, even for numeric parts
        elif isinstance(container, list) and container[key] is None:
            container[key] = {}
        node = container[key]
    container, key = _slot(node, parts[-1], create=True)
    container[key] = value


def _unset(document: dict, parts: list[str]) -> None:
    parent = _get(document, parts[:-1])
    if isinstance(parent, dict):
        parent.pop(parts[-1], None)
    elif isinstance(parent, list) and parts[-1].isdigit() and int(parts[-1]) < len(parent):
        parent[int(parts[-1])] = None  # MongoDB leaves a null where an array element was


def _items(argument: Any) -> list[Any]:
    if isinstance(argument, dict) and "$each" in argument:
        return list(argument["$each"])
    return [argument]


def _apply_one(document: dict, command: str, parts: list[str], argument: Any, now: datetime):
    current = _get(document, parts)
    where = ".".join(parts)
    if command == "$set":
        _set(document, parts, argument)
    elif command == "$unset":
        _unset(document, parts)
    elif command == "$currentDate":
        _set(document, parts, iso(now))
    elif command in NUMERIC:
        if current is _MISSING:
            _set(document, parts, argument if command == "$inc" else 0)
        elif isinstance(current, bool) or not isinstance(current, int | float):
            raise Refusal(500, f"Cannot apply {command} to a value of non-numeric type '{where}'")
        else:
            _set(document, parts, current + argument if command == "$inc" else current * argument)
    elif current is _MISSING and command in ("$push", "$addToSet"):
        _set(document, parts, _items(argument))
    elif current is _MISSING:
        return  # $pull on nothing changes nothing
    elif not isinstance(current, list):
        raise Refusal(500, f"The field '{where}' must be an array but is of another type")
    elif command == "$push":
        current.extend(_items(argument))
    elif command == "$addToSet":
        current.extend(i for i in _items(argument) if not any(equal(i, e) for e in current))
    else:
        current[:] = [element for element in current if not element_matches(element, argument)]


def apply_commands(document: dict, commands: dict, *, query: dict, now: datetime) -> None:
    """Applies checked `commands` to `document` in place; `query` resolves positional `$`."""
    targets = [
        (command, _resolve_positional(document, path, query), argument)
        for command, fields in commands.items()
        for path, argument in fields.items()
    ]
    _check_conflicts([".".join(parts) for _, parts, _ in targets])
    for command, parts, argument in targets:
        _apply_one(document, command, parts, argument, now)
