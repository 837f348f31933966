"""Kaleyra's server-side user details provider: the user ids in what Kaleyra posts to the company's
`user_details_provider_url`, signed like the webhooks (`kaleyra.webhooks.verify_signature`).

[DOC video-server-side-user-details-provider]: when it is set, Kaleyra POSTs to that URL whenever
a client (call link, chat widget, SDK) needs a user's display name or avatar. The page does not
show the bodies: UNCLEAR. The request is read in each shape it plausibly has, `{"user_ids": [...]}`,
`{"users": [{"user_id": ...}, ...]}` (or `{"users": ["...", ...]}`) and `{"user_id": "..."}`;
anything else is refused with the reason, which Kaleyra logs.
"""

import json
from typing import Any

MAX_USER_IDS = 100  # a call has 25 participants at most; Kaleyra has no reason to ask for more
MAX_USER_ID_LENGTH = 128  # Kaleyra's user id rule (kaleyra/ids.py)


class UserDetailsRequestError(ValueError):
    """A signed lookup we cannot read; `reason` says why, in words safe to log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _user_id(value: Any, where: str) -> str:
    if isinstance(value, dict):
        value = value.get("user_id")
        where = f"{where}.user_id"
    if not isinstance(value, str) or not value:
        raise UserDetailsRequestError(f"{where} is not a user id")
    if len(value) > MAX_USER_ID_LENGTH:
        raise UserDetailsRequestError(f"{where} is longer than {MAX_USER_ID_LENGTH} characters")
    return value


def requested_user_ids(body: bytes | str) -> tuple[str, ...]:
    """The Kaleyra user ids a lookup asks for, each once, in the order asked."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise UserDetailsRequestError("body is not JSON") from None
    if not isinstance(payload, dict):
        raise UserDetailsRequestError("body is not a JSON object")
    if "user_ids" in payload:
        listed, name = payload["user_ids"], "user_ids"
    elif "users" in payload:
        listed, name = payload["users"], "users"
    elif "user_id" in payload:
        return (_user_id(payload["user_id"], "user_id"),)
    else:
        raise UserDetailsRequestError("body names no user_ids, users or user_id")
    if not isinstance(listed, list):
        raise UserDetailsRequestError(f"{name} is not a list")
    if len(listed) > MAX_USER_IDS:
        raise UserDetailsRequestError(
            f"{name} has {len(listed)} entries; at most {MAX_USER_IDS} are answered at once"
        )
    ids = (_user_id(value, f"{name}[{index}]") for index, value in enumerate(listed))
    return tuple(dict.fromkeys(ids))
