"""What the import decides before it stores anything: each document checked (alone, and against
the documents before it in the same file), and the role each user map row gets.

A decision is either an outcome already (the document cannot be stored) or (where, the domain
object to store).
"""

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TypeVar

from rooms.domain import Teleconsultation, UserMapping
from rooms.mia_import import records
from rooms.mia_import.files import Document
from rooms.services.support import Outcome, Result
from rooms.storage.mia_records import role_from_groups

Stored = TypeVar("Stored")
# Decided[UserMapping] for a user map row, Decided[Teleconsultation] for a visit.
Decided = Outcome | tuple[str, Stored]


def check_user_map(documents: Iterable[Document]) -> list[Decided[UserMapping]]:
    """A user or a Kaleyra user mapped twice would make participants ambiguous: only the first
    row stands (a repeat of the very same row is harmless)."""
    decided: list[Decided[UserMapping]] = []
    by_user: dict[str, tuple[str, UserMapping]] = {}
    by_kaleyra_id: dict[str, tuple[str, UserMapping]] = {}
    for document in documents:
        where = document.where
        if document.problem:
            decided.append(failed(f"{where}: {document.problem}; skipped"))
            continue
        try:
            mapping = records.user_mapping(document.content)
        except records.BadRecord as exc:
            decided.append(failed(f"{where}: user map row: {exc}; skipped"))
            continue
        first = by_user.get(mapping.external_id)
        clash = first or by_kaleyra_id.get(mapping.kaleyra_user_id)
        if first and first[1].kaleyra_user_id == mapping.kaleyra_user_id:
            decided.append(Outcome(Result.SKIPPED, f"{where}: the same row as {first[0]}"))
        elif clash:
            decided.append(
                failed(
                    f"{where}: user {mapping.external_id!r} -> Kaleyra user "
                    f"{mapping.kaleyra_user_id} clashes with {clash[0]} "
                    f"({clash[1].external_id!r} -> {clash[1].kaleyra_user_id}); skipped"
                )
            )
        else:
            by_user[mapping.external_id] = by_kaleyra_id[mapping.kaleyra_user_id] = (
                where,
                mapping,
            )
            decided.append((where, mapping))
    return decided


def external_ids(user_map: Iterable[Decided[UserMapping]]) -> dict[str, str]:
    """Kaleyra user id -> external id, from the rows that passed their checks."""
    return {
        entry[1].kaleyra_user_id: entry[1].external_id
        for entry in user_map
        if not isinstance(entry, Outcome)
    }


def survey(
    documents: Iterable[Document], external_ids: Mapping[str, str]
) -> tuple[int, dict[str, set[str]]]:
    """How many documents there are, and the groups each user appears with in the
    teleconsultations that pass their checks."""
    total = 0
    groups: dict[str, set[str]] = {}
    for document in documents:
        total += 1
        try:
            teleconsultation = records.teleconsultation(document.content, external_ids=external_ids)
        except records.BadRecord:
            continue  # reported when it is imported
        for member in teleconsultation.participants:
            groups.setdefault(member.external_id, set()).update(member.groups)
    return total, groups


def with_roles(
    user_map: Iterable[Decided[UserMapping]], groups: Mapping[str, set[str]]
) -> list[Decided[UserMapping]]:
    """A row without a role (Mia's have none) gets the one its user's groups grant, plus
    winning; basic for a user in no teleconsultation."""
    ruled: list[Decided[UserMapping]] = []
    for entry in user_map:
        if not isinstance(entry, Outcome) and not entry[1].role:
            where, mapping = entry
            role = role_from_groups(sorted(groups.get(mapping.external_id, ())))
            entry = where, replace(mapping, role=role)
        ruled.append(entry)
    return ruled


def check_teleconsultation(
    document: Document, external_ids: Mapping[str, str], first_seen: dict[str, str]
) -> Decided[Teleconsultation]:
    """`first_seen` (id -> where) is shared by the documents of one file: an id twice is a
    mistake in the export, not a second teleconsultation."""
    where = document.where
    if document.problem:
        return failed(f"{where}: {document.problem}; skipped")
    content = document.content
    subject = "record"
    if isinstance(content, dict) and isinstance(content.get("_id"), str):
        subject = f"teleconsultation {content['_id']}"
    try:
        teleconsultation = records.teleconsultation(content, external_ids=external_ids)
    except records.BadRecord as exc:
        return failed(f"{where}: {subject}: {exc}; skipped")
    if teleconsultation.id in first_seen:
        return failed(f"{where}: {subject}: the same _id as {first_seen[teleconsultation.id]}")
    first_seen[teleconsultation.id] = where
    return where, teleconsultation


def failed(message: str) -> Outcome:
    return Outcome(Result.FAILED, message)
