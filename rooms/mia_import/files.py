"""Reading `mongoexport` output: JSON lines (one document a line, its default) or one JSON array
(`--jsonArray`, pretty or not). Extended JSON numbers and ids (`{"$oid": ...}`,
`{"$numberLong": ...}`) are unwrapped here; dates (`{"$date": ...}`) are left to `parse_date`.
Each document comes with where it was read, so a bad one can be pointed at.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

NUMBERS = {"$numberInt": int, "$numberLong": int, "$numberDouble": float}


class UnreadableFile(Exception):
    """The file as a whole cannot be read; nothing of it is imported."""


@dataclass(frozen=True)
class Document:
    where: str  # "teleconsultations.json:12", or "teleconsultations.json[3] (line 41)"
    content: object = None
    problem: str = ""  # why the document could not be read (then it has no content)


def _extended_json(document: dict):
    if len(document) == 1:
        ((key, value),) = document.items()
        if key == "$oid":
            return value
        if key in NUMBERS:
            return NUMBERS[key](value)
    return document


def read_documents(path: Path) -> Iterator[Document]:
    """The documents of a mongoexport file, in order; raises `UnreadableFile` before the first
    one when the file cannot be read as either shape."""
    try:
        with path.open(encoding="utf-8-sig") as export:
            head = export.read(4096).lstrip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"{path}: cannot be read ({exc})") from exc
    if head.startswith("["):
        return iter(_array(path))
    return _lines(path)


def _lines(path: Path) -> Iterator[Document]:
    decoder = json.JSONDecoder(object_hook=_extended_json)
    with path.open(encoding="utf-8-sig") as export:
        for number, line in enumerate(export, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                yield Document(where, decoder.decode(line))
            except ValueError as exc:
                yield Document(where, problem=f"not valid JSON ({exc})")


def _array(path: Path) -> list[Document]:
    """Read whole before anything is imported: a syntax error in an array cannot be skipped."""
    text = path.read_text(encoding="utf-8-sig")
    decoder = json.JSONDecoder(object_hook=_extended_json)
    documents: list[Document] = []
    position = _skip_blanks(text, text.index("[") + 1)
    line, counted = 1, 0
    while text[position : position + 1] != "]":
        if documents:
            if text[position : position + 1] != ",":
                raise UnreadableFile(f"{path}: expected ',' or ']' {_at(text, position)}")
            position = _skip_blanks(text, position + 1)
        line, counted = line + text.count("\n", counted, position), position
        try:
            content, position = decoder.raw_decode(text, position)
        except ValueError as exc:
            raise UnreadableFile(f"{path}[{len(documents)}]: not valid JSON ({exc})") from exc
        documents.append(Document(f"{path}[{len(documents)}] (line {line})", content))
        position = _skip_blanks(text, position)
    if text[position + 1 :].strip():
        raise UnreadableFile(f"{path}: unexpected text after the array {_at(text, position + 1)}")
    return documents


def _skip_blanks(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _at(text: str, position: int) -> str:
    if position >= len(text):
        return "at the end of the file"
    return f"at line {text.count(chr(10), 0, position) + 1}"
