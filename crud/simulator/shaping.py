"""The shape of a list answer: `_s` sort and `_p` projection, as MongoDB applies them.

Sort (lib/httpInterface.js: `_s` is "field" or "-field", comma-separated or repeated): values of
different types order as BSON does (null and missing first, then numbers, strings, documents,
arrays, booleans); an array sorts by its smallest element ascending, its largest descending.
Ties keep insertion order, which is also the order without `_s`.
Projection (`_p`, comma-separated): `_id` always, dotted paths into sub-documents and arrays of
sub-documents; fields a document lacks are left out.
"""

import copy
import json
from collections.abc import Sequence
from typing import Any

from crud.simulator.matching import values_at


def _rank(value: Any) -> tuple[int, Any]:
    if value is None:
        return (1, 0)
    if isinstance(value, bool):
        return (8, int(value))
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    if isinstance(value, dict):
        return (4, json.dumps(value, sort_keys=True))
    return (5, json.dumps(value))


def _sort_value(document: dict[str, Any], path: str, descending: bool) -> tuple[int, Any]:
    values = values_at(document, path.split("."))
    if not values:
        return (1, 0)  # missing sorts as null
    ranks: list[tuple[int, Any]] = []
    for value in values:
        if isinstance(value, list) and value:
            ranks.extend(_rank(element) for element in value)
        elif isinstance(value, list):
            ranks.append((0, 0))  # an empty array sorts before null
        else:
            ranks.append(_rank(value))
    return max(ranks) if descending else min(ranks)


def sort_documents(documents: list[dict[str, Any]], fields: Sequence[str]) -> list[dict[str, Any]]:
    """Sorted by `fields` ("name" or "-name"), the first field deciding first."""
    ordered = list(documents)
    for field in reversed(fields):
        descending = field.startswith("-")
        path = field[1:] if descending else field
        ordered.sort(key=lambda d: _sort_value(d, path, descending), reverse=descending)
    return ordered


def _copy_path(source: dict[str, Any], target: dict[str, Any], parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if head not in source:
        return
    value = source[head]
    if not rest:
        target[head] = copy.deepcopy(value)
    elif isinstance(value, dict):
        branch = target.setdefault(head, {})
        if isinstance(branch, dict):
            _copy_path(value, branch, rest)
    elif isinstance(value, list):
        elements = [element for element in value if isinstance(element, dict)]
        branch = target.setdefault(head, [{} for _ in elements])
        if isinstance(branch, list) and len(branch) == len(elements):
            for element, projected in zip(elements, branch, strict=True):
                _copy_path(element, projected, rest)


def project(document: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    projected = {"_id": document["_id"]}
    for field in fields:
        if field and field != "_id":
            _copy_path(document, projected, field.split("."))
    return projected
