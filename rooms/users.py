"""Kaleyra users for the people of a teleconsultation, through the user map.

Each external user gets one Kaleyra user, with an id derived from the external id (so creating it
twice is harmless) and the role its groups grant. The map is read for all participants in one
query; a user whose role changed is updated on Kaleyra before the map is.
"""

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from kaleyra.ids import kaleyra_user_id_for
from kaleyra.provider import get_video_provider
from kaleyra.types import Role
from rooms.storage import get_storage
from rooms.storage.base import UserMapping


class Person(Protocol):
    external_id: str
    role: Role


def kaleyra_users_for(people: Sequence[Person]) -> dict[str, str]:
    """{external id: Kaleyra user id} for every person, creating or updating users on Kaleyra."""
    storage = get_storage()
    provider = get_video_provider()
    known = storage.mappings_for(person.external_id for person in people)
    created, role_changed = [], []
    for person in people:
        role = Role(person.role)
        mapping = known.get(person.external_id)
        if mapping is None:
            user = provider.create_user(user_id=kaleyra_user_id_for(person.external_id), role=role)
            mapping = UserMapping(
                external_id=person.external_id, kaleyra_user_id=user.id, role=role.value
            )
            created.append(mapping)
            known[person.external_id] = mapping
        elif mapping.role != role.value:
            provider.update_user_role(user_id=mapping.kaleyra_user_id, role=role)
            mapping = replace(mapping, role=role.value)
            role_changed.append(mapping)
            known[person.external_id] = mapping
    storage.save_mappings(created=created, role_changed=role_changed)
    return {external_id: mapping.kaleyra_user_id for external_id, mapping in known.items()}
