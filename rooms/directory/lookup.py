"""AUTH_SERVICE mode: participants' groups and full names come from the user directory.

`DirectoryResolver` looks every participant of a request up in one directory call, refuses the
ids the directory does not know (naming them, keyed by their field path) and gives each the role
its directory groups grant. With CUSTOM_ID_USERS_API_ENDPOINT (Mia 1.8.0) the ids the client sends
are custom ids: they are first mapped to identity provider ids through that endpoint, and the
participant is stored under the identity provider id, the one the gateway sends as the caller's.
"""

from collections.abc import Sequence

from rooms.directory.client import (
    CUSTOM_IDS,
    CustomIdClient,
    DirectoryClient,
    get_custom_id_client,
    get_directory_client,
)
from rooms.rules.participants import ParticipantInput, ResolvedParticipant, role_for
from teleconsultation_project.errors import ApiError, validation_message
from teleconsultation_project.service_config import get_service_config


def _where(field: str, index: int) -> str:
    return f"{field}[{index}].userExternalId"


class DirectoryResolver:
    def __init__(self, client: DirectoryClient | None = None):
        self._client = client or get_directory_client()
        self._custom_ids: CustomIdClient | None = get_custom_id_client()

    def resolve(
        self, inputs: Sequence[ParticipantInput], *, field: str, request_headers: dict
    ) -> list[ResolvedParticipant]:
        ids = self._identity_ids(inputs, field=field, request_headers=request_headers)
        users = self._client.find_users(ids, request_headers=request_headers)
        missing = [index for index, user_id in enumerate(ids) if user_id not in users]
        if missing:
            named = [_named(inputs[index].external_id, ids[index]) for index in missing]
            raise ApiError(
                f"Unknown users in the user directory: {', '.join(named)}",
                details={
                    _where(field, index): [f"user {name} is not in the user directory"]
                    for index, name in zip(missing, named, strict=True)
                },
            )
        resolved = []
        for index, (entry, user_id) in enumerate(zip(inputs, ids, strict=True)):
            user = users[user_id]
            resolved.append(
                ResolvedParticipant(
                    external_id=user_id,
                    groups=user.groups,
                    # A directory user without a name is still callable; show their id instead.
                    # Stored in 255 characters, as a name sent in the body may be.
                    full_name=(user.full_name or user_id)[:255],
                    language=entry.language,
                    role=role_for(
                        external_id=user_id, groups=user.groups, field=f"{field}[{index}]"
                    ),
                )
            )
        return resolved

    def _identity_ids(
        self, inputs: Sequence[ParticipantInput], *, field: str, request_headers: dict
    ) -> list[str]:
        """The identity provider id of each input, in order: the id as sent, or (custom user
        ids) the `target` of the user whose `source` is that id."""
        sent = [entry.external_id for entry in inputs]
        if self._custom_ids is None:
            return sent
        custom = get_service_config().custom_user_id
        mapped = self._custom_ids.identity_ids(
            sent, source=custom.source, target=custom.target, request_headers=request_headers
        )
        unknown = {
            _where(field, index): [f"user {custom_id} is not known to {CUSTOM_IDS}"]
            for index, custom_id in enumerate(sent)
            if custom_id not in mapped
        }
        if unknown:
            raise ApiError(validation_message(unknown), details=unknown)
        first_of: dict[str, int] = {}
        for index, custom_id in enumerate(sent):
            earlier = first_of.setdefault(mapped[custom_id], index)
            if earlier != index:
                same = {_where(field, index): [f"user {custom_id} is user {sent[earlier]}"]}
                raise ApiError(validation_message(same), details=same)
        return [mapped[custom_id] for custom_id in sent]


def _named(sent: str, identity_id: str) -> str:
    return sent if sent == identity_id else f"{sent} ({identity_id})"
