"""Maps the caller's user ids to the ids we give Kaleyra users.

Why a hash: external ids are often e-mail addresses, and Kaleyra is meant to hold no personal data
(users have no name or e-mail field; a call asks the service's user details provider,
`POST /kaleyra/user-details`, for display names). A SHA-256 digest is deterministic (the same
person always maps to the same Kaleyra user, even after our own user map is lost), fits Kaleyra's
id rules (`[a-zA-Z0-9._-]`, at most 128 characters: here 67), cannot collide in practice, and does
not reveal the external id. The `tc-` prefix marks ids this service made.
"""

import hashlib

PREFIX = "tc-"


def kaleyra_user_id_for(external_user_id: str) -> str:
    digest = hashlib.sha256(external_user_id.encode("utf-8")).hexdigest()
    return PREFIX + digest
