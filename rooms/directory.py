"""AUTH_SERVICE mode: participants' groups and full names come from the user directory.

`DirectoryResolver` looks every participant of a request up in one directory call, refuses the
ids the directory does not know (naming them, keyed by their field path) and gives each the role
its directory groups grant.
"""

from collections.abc import Sequence

from rooms.directory_client import DirectoryClient, get_directory_client
from rooms.participant_types import ParticipantInput, ResolvedParticipant, role_for
from teleconsultation_project.errors import ApiError


class DirectoryResolver:
    def __init__(self, client: DirectoryClient | None = None):
        self._client = client or get_directory_client()

    def resolve(
        self, inputs: Sequence[ParticipantInput], *, field: str, request_headers: dict
    ) -> list[ResolvedParticipant]:
        users = self._client.find_users(
            (entry.external_id for entry in inputs), request_headers=request_headers
        )
        unknown = {
            f"{field}[{index}].userExternalId": [
                f"user {entry.external_id} is not in the user directory"
            ]
            for index, entry in enumerate(inputs)
            if entry.external_id not in users
        }
        if unknown:
            ids = ", ".join(entry.external_id for entry in inputs if entry.external_id not in users)
            raise ApiError(f"Unknown users in the user directory: {ids}", details=unknown)
        resolved = []
        for index, entry in enumerate(inputs):
            user = users[entry.external_id]
            resolved.append(
                ResolvedParticipant(
                    external_id=entry.external_id,
                    groups=user.groups,
                    # A directory user without a name is still callable; show their id instead.
                    # Stored in 255 characters, as a name sent in the body may be.
                    full_name=(user.full_name or entry.external_id)[:255],
                    language=entry.language,
                    role=role_for(
                        external_id=entry.external_id,
                        groups=user.groups,
                        field=f"{field}[{index}]",
                    ),
                )
            )
        return resolved
