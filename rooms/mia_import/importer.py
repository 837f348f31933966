"""Storing checked records through the storage interface, each at most once: a teleconsultation
whose id is stored already, or a user already mapped to the same Kaleyra user, is left as it is,
so running the import again changes nothing. One outcome per record, in order."""

from collections.abc import Sequence

from django.db import IntegrityError

from rooms.domain import Teleconsultation, UserMapping
from rooms.services.support import Outcome, Result
from rooms.storage import get_storage


def store_user_mappings(rows: Sequence[tuple[str, UserMapping]], *, dry_run: bool) -> list[Outcome]:
    storage = get_storage()
    stored = storage.mappings_for(mapping.external_id for _, mapping in rows)
    outcomes: dict[int, Outcome] = {}
    new = []
    for index, (where, mapping) in enumerate(rows):
        known = stored.get(mapping.external_id)
        if known is None:
            new.append((index, where, mapping))
        elif known.kaleyra_user_id == mapping.kaleyra_user_id:
            outcomes[index] = Outcome(
                Result.SKIPPED, f"{where}: Kaleyra user {mapping.kaleyra_user_id}: already there"
            )
        else:
            outcomes[index] = _not_imported(
                where,
                mapping,
                f"the user map already gives this user Kaleyra user {known.kaleyra_user_id}",
            )
    if dry_run:
        for index, where, mapping in new:
            outcomes[index] = Outcome(Result.DONE, f"{where}: {_user(mapping)}: would be imported")
        return [outcomes[index] for index in range(len(rows))]
    storage.save_mappings(created=[mapping for _, _, mapping in new], role_changed=[])
    # A Kaleyra user already mapped to someone else makes the row be dropped: read back.
    saved = storage.mappings_for(mapping.external_id for _, _, mapping in new)
    for index, where, mapping in new:
        if saved.get(mapping.external_id) == mapping:
            outcomes[index] = Outcome(Result.DONE, f"{where}: {_user(mapping)}: imported")
        else:
            outcomes[index] = _not_imported(
                where, mapping, "that Kaleyra user already belongs to another user in the map"
            )
    return [outcomes[index] for index in range(len(rows))]


def _user(mapping: UserMapping) -> str:
    return f"Kaleyra user {mapping.kaleyra_user_id} ({mapping.role})"


def _not_imported(where: str, mapping: UserMapping, reason: str) -> Outcome:
    return Outcome(
        Result.FAILED,
        f"{where}: user {mapping.external_id!r} -> Kaleyra user {mapping.kaleyra_user_id}: "
        f"not imported, {reason}",
    )


def store_teleconsultations(
    rows: Sequence[tuple[str, Teleconsultation]], *, dry_run: bool
) -> list[Outcome]:
    storage = get_storage()
    outcomes = []
    for where, teleconsultation in rows:
        subject = f"{where}: teleconsultation {teleconsultation.id}"
        if storage.find(teleconsultation.id, include_trash=True) is not None:
            outcomes.append(Outcome(Result.SKIPPED, f"{subject}: already there"))
        elif dry_run:
            outcomes.append(Outcome(Result.DONE, f"{subject}: would be imported"))
        else:
            try:
                storage.insert(teleconsultation)
            except IntegrityError as exc:  # e.g. its Kaleyra room belongs to another one
                first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                outcomes.append(
                    Outcome(Result.FAILED, f"{subject}: clashes with what is stored ({first_line})")
                )
            else:
                outcomes.append(Outcome(Result.DONE, f"{subject}: imported"))
    return outcomes
