"""The participants a write brings: checked, resolved (from the body, or from the user directory
in AUTH_SERVICE mode) and given their Kaleyra users (`members_of` makes the missing ones).

Each external user gets one Kaleyra user, through the user map, with an id derived from the
external id (so creating it twice is harmless) and the role its groups grant. The map is read for
all participants in one query; users missing on Kaleyra are created, and changed roles updated,
in parallel on threads the process keeps (KALEYRA_PARALLEL_CALLS of them), so a visit with 25 new
users costs about one provider round trip rather than 25. `kaleyra_users_for` also gives the
caller of POST /credentials their user.
"""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from django.conf import settings

from kaleyra.ids import kaleyra_user_id_for
from kaleyra.provider import get_video_provider
from kaleyra.types import Role
from rooms.domain import Participant, UserMapping
from rooms.rules.participants import (
    ParticipantInput,
    ParticipantsInput,
    ResolvedParticipant,
    check_participants,
    from_body,
)
from rooms.services import concurrency
from rooms.services.concurrency import InFlight
from rooms.storage import get_storage


def members_of(resolved: Sequence[ResolvedParticipant]) -> tuple[Participant, ...]:
    """The participants as stored, each with its Kaleyra user (made now when missing)."""
    return members_with(resolved, kaleyra_users_for(resolved))


def members_with(
    resolved: Sequence[ResolvedParticipant], user_ids: Mapping[str, str]
) -> tuple[Participant, ...]:
    """The participants as stored, given {external id: Kaleyra user id} for each."""
    return tuple(
        Participant(
            external_id=person.external_id,
            groups=tuple(person.groups),
            full_name=person.full_name,
            language=person.language or "",
            role=person.role.value,
            kaleyra_user_id=user_ids[person.external_id],
        )
        for person in resolved
    )


def resolve(participants: ParticipantsInput, *, headers: dict) -> list[ResolvedParticipant]:
    check_participants(participants)
    return resolve_entries(participants.entries, field=participants.field, headers=headers)


def resolve_entries(
    entries: Sequence[ParticipantInput], *, field: str, headers: dict
) -> list[ResolvedParticipant]:
    """Who each entry is: from the body, or from the user directory with AUTH_SERVICE."""
    if not settings.AUTH_SERVICE:
        return from_body(entries, field=field)
    from rooms.directory.lookup import DirectoryResolver  # only AUTH_SERVICE reads the directory

    return DirectoryResolver().resolve(entries, field=field, request_headers=headers)


class Person(Protocol):
    @property
    def external_id(self) -> str: ...

    @property
    def role(self) -> Role: ...


def kaleyra_users_for(people: Sequence[Person]) -> dict[str, str]:
    """{external id: Kaleyra user id} for every person, creating or updating users on Kaleyra."""
    users = start_users(people)
    user_ids = users.wait()
    users.record()
    return user_ids


class PendingUsers:
    """The Kaleyra users of a write's people, being made or updated on the kept threads
    (`start_users`). `wait` gives their ids once every call ended; `record` then writes the map,
    which a caller may do while its next provider call is in flight."""

    def __init__(
        self,
        known: dict[str, UserMapping],
        created: InFlight[UserMapping] | None,
        updated: InFlight[UserMapping] | None,
    ) -> None:
        self._known = known
        self._flights = (created, updated)
        self._created: list[UserMapping] = []
        self._updated: list[UserMapping] = []

    def wait(self) -> dict[str, str]:
        """{external id: Kaleyra user id}; the first failure is raised once every call ended."""
        failure: BaseException | None = None
        results: list[list[UserMapping]] = []
        for flight in self._flights:
            try:
                results.append(flight.results() if flight is not None else [])
            except BaseException as exc:  # the other flight's calls end before this is raised
                failure = failure or exc
        if failure is not None:
            raise failure
        self._created, self._updated = results
        mappings = {**self._known}
        mappings.update({mapping.external_id: mapping for mapping in self._created + self._updated})
        return {external_id: mapping.kaleyra_user_id for external_id, mapping in mappings.items()}

    @property
    def news(self) -> bool:
        """Whether `wait` made or updated a user: the map has something to record."""
        return bool(self._created or self._updated)

    def record(self) -> None:
        """Writes what `wait` made into the user map. Only after a `wait` that succeeded: a
        failure leaves the map as it was (users made meanwhile are found again by their
        deterministic ids on the next try)."""
        get_storage().save_mappings(created=self._created, role_changed=self._updated)


def start_users(people: Sequence[Person]) -> PendingUsers:
    """Reads the map for every person, and starts the provider calls that make the missing users
    and update changed roles, on the kept threads (the map is read and written on this one)."""
    storage = get_storage()
    provider = get_video_provider()
    known = storage.mappings_for([person.external_id for person in people])
    missing, role_changed = [], []
    for person in people:
        role = Role(person.role)
        mapping = known.get(person.external_id)
        if mapping is None:
            missing.append((person.external_id, role))
        elif mapping.role != role.value:
            role_changed.append(replace(mapping, role=role.value))

    def create(entry: tuple[str, Role]) -> UserMapping:
        external_id, role = entry
        user = provider.create_user(user_id=kaleyra_user_id_for(external_id), role=role)
        return UserMapping(external_id=external_id, kaleyra_user_id=user.id, role=role.value)

    def update(mapping: UserMapping) -> UserMapping:
        provider.update_user_role(user_id=mapping.kaleyra_user_id, role=Role(mapping.role))
        return mapping

    size, name = settings.KALEYRA_PARALLEL_CALLS, "kaleyra-users"
    start = concurrency.start_on_kept_threads
    return PendingUsers(
        known,
        start(create, missing, size=size, name=name) if missing else None,
        start(update, role_changed, size=size, name=name) if role_changed else None,
    )
