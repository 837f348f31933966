"""A participant's own agenda (GET /teleconsultation): their live visits, one page at a time.

A visit is in the agenda from `since` (default now) when it has not ended by then, and, with
`until`, when it starts before that; pages are in (start, id) order, and the cursor of the next
page is that order's key of the last visit shown, opaque to clients. One storage read per page.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from rooms.domain import Teleconsultation, is_teleconsultation_id
from rooms.errors import UnauthorizedUser
from rooms.rules import join_window
from rooms.storage import get_storage
from teleconsultation_project.identity import Caller

DEFAULT_LIMIT, MAX_LIMIT = 20, 100
MAX_CURSOR_LENGTH = 200


@dataclass(frozen=True)
class AgendaEntry:
    room_id: str
    start: datetime
    end: datetime
    participant_names: tuple[str, ...]
    available_from: datetime
    available: bool


@dataclass(frozen=True)
class AgendaPage:
    entries: tuple[AgendaEntry, ...]
    next_cursor: str | None


def encode_cursor(start: datetime, teleconsultation_id: str) -> str:
    key = json.dumps([start.isoformat(), teleconsultation_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (start, id) a cursor stands for; ValueError when it is not one this service gave."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ValueError("too long")
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        start, teleconsultation_id = key
        start = datetime.fromisoformat(start)
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError) as exc:
        raise ValueError("not a cursor") from exc
    if start.tzinfo is None or not (
        isinstance(teleconsultation_id, str) and is_teleconsultation_id(teleconsultation_id)
    ):
        raise ValueError("not a cursor")
    return start, teleconsultation_id


def agenda(
    *,
    caller: Caller | None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    after: tuple[datetime, str] | None = None,
) -> AgendaPage:
    if caller is None:
        raise UnauthorizedUser()
    now = timezone.now()
    # One more than asked: whether there is a next page is known without another read.
    visits = get_storage().agenda_page(
        caller.id, ends_after=since or now, starts_before=until, after=after, limit=limit + 1
    )
    shown = visits[:limit]
    entries = tuple(_entry(visit, caller_id=caller.id, now=now) for visit in shown)
    more = len(visits) > limit
    return AgendaPage(
        entries=entries,
        next_cursor=encode_cursor(shown[-1].start, shown[-1].id) if more else None,
    )


def _entry(visit: Teleconsultation, *, caller_id: str, now: datetime) -> AgendaEntry:
    me = visit.participant(caller_id)
    return AgendaEntry(
        room_id=visit.id,
        start=visit.start,
        end=visit.end,
        participant_names=tuple(member.full_name for member in visit.participants),
        available_from=join_window.opens_at(visit),
        available=me is not None and join_window.link_available(visit, me, now=now),
    )
