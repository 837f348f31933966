"""Kaleyra SDK credentials for the calling user (POST /credentials).

The caller's role comes from the groups the gateway sent or, in AUTH_SERVICE mode, from the user
directory. Their Kaleyra user and user-map row are made on first use and reused afterwards
(updated when their role changed), exactly as for teleconsultation participants. A caller who
already has a Kaleyra user and comes without groups (a gateway that sends none on this route) keeps
the role stored in the user map.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from kaleyra.provider import get_video_provider
from kaleyra.types import Role
from rooms.directory.client import get_directory_client
from rooms.rules.participants import role_for
from rooms.services.participants import kaleyra_users_for
from rooms.storage import get_storage
from teleconsultation_project.errors import ApiError
from teleconsultation_project.identity import Caller

DEFAULT_EXPIRES_IN = 3600
MIN_EXPIRES_IN, MAX_EXPIRES_IN = 360, 86400
CALLER_FIELD = "caller"


@dataclass(frozen=True)
class CallerAsUser:
    external_id: str
    role: Role


@dataclass(frozen=True)
class Credentials:
    access_token: str
    expires_at: datetime
    kaleyra_user_id: str


def _caller_groups(caller: Caller) -> tuple[str, ...]:
    if not settings.AUTH_SERVICE:
        return caller.groups
    users = get_directory_client().find_users([caller.id], request_headers=caller.headers)
    if caller.id not in users:
        message = f"user {caller.id} is not in the user directory, so no role can be given"
        raise ApiError(f"{CALLER_FIELD}: {message}", details={CALLER_FIELD: [message]})
    return users[caller.id].groups


def _kaleyra_user_id(caller: Caller) -> str:
    """The caller's Kaleyra user, made or given the role their groups grant; without groups (and
    without the directory) the one already in the user map, as it is."""
    if not settings.AUTH_SERVICE and not caller.groups:
        mapping = get_storage().mappings_for([caller.id]).get(caller.id)
        if mapping is not None:
            return mapping.kaleyra_user_id
    role = role_for(external_id=caller.id, groups=_caller_groups(caller), field=CALLER_FIELD)
    return kaleyra_users_for([CallerAsUser(external_id=caller.id, role=role)])[caller.id]


def credentials_create(*, caller: Caller, expires_in: int = DEFAULT_EXPIRES_IN) -> Credentials:
    """A token for the caller's Kaleyra user, valid `expires_in` seconds from now."""
    kaleyra_user_id = _kaleyra_user_id(caller)
    sdk = get_video_provider().create_sdk_credentials(
        user_id=kaleyra_user_id, expires_in=expires_in
    )
    return Credentials(
        access_token=sdk.access_token, expires_at=sdk.expires_at, kaleyra_user_id=kaleyra_user_id
    )
