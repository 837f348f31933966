"""The names Kaleyra shows in a call, asked for by Kaleyra user id (its user details provider,
`rooms.api.user_details`): the join link carries no name, so this is where a call gets them.

Only participants of live visits are named, with the full name their latest visit stores; a user
only trashed visits hold is unknown here, and so is any user id this service never gave out.
"""

from collections.abc import Sequence

from rooms.storage import get_storage


def call_display_names(*, kaleyra_user_ids: Sequence[str]) -> dict[str, str]:
    """Kaleyra user id -> display name, for those of the users a live visit names."""
    if not kaleyra_user_ids:
        return {}
    return get_storage().display_names(kaleyra_user_ids)
