"""A person's calendar feed, made and revoked with their own identity (POST and DELETE
/calendar-feeds): a new secret replaces the one before, and only its hash is stored, so the URL is
shown once (rooms/selectors/calendar.py reads the feed)."""

import secrets

from rooms.errors import UnauthorizedUser
from rooms.selectors.calendar import secret_hash
from rooms.storage import get_storage
from teleconsultation_project.identity import Caller


def create_feed(caller: Caller | None) -> str:
    """A new secret for the caller's feed (the one they had stops working)."""
    if caller is None:
        raise UnauthorizedUser()
    secret = secrets.token_urlsafe(32)
    get_storage().save_calendar_feed(caller.id, secret_hash(secret))
    return secret


def revoke_feed(caller: Caller | None) -> bool:
    """Whether the caller had a feed; it answers 404 from now on."""
    if caller is None:
        raise UnauthorizedUser()
    return get_storage().revoke_calendar_feed(caller.id)
