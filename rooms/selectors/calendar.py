"""A participant's visits as an iCalendar feed (GET /calendar/<secret>.ics), for calendar apps
that subscribe without the gateway's headers: the secret in the URL is the credential.

The feed is found by the SHA-256 of its secret (the secret is never stored, and a lookup by hash
leaks nothing of it through timing). Each visit ending in the last `PAST` or later is one
VEVENT: UID the visit's id, SEQUENCE its change counter (every write bumps it), STATUS CANCELLED
once trashed, times in UTC, and a SUMMARY that names the other participants only with
CALENDAR_SHOW_NAMES. The ETag is made of the feed's stamp (one query on a database: how many
visits, the sum of their sequences, the latest write), read before the visits, so a client
polling with If-None-Match gets its 304 for that one query.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar
from django.conf import settings
from django.utils import timezone

from rooms.domain import CalendarStamp, State, Teleconsultation
from rooms.storage import get_storage

PAST = timedelta(days=30)  # ended visits stay this long in the feed (cancelled ones too)
MAX_EVENTS = 500
UID_DOMAIN = "teleconsultation-service"
PRODID = "-//teleconsultation-service//calendar feed//EN"
SUMMARY = "Teleconsultation"
FORMAT = "1"  # part of the ETag: a change of what an event holds must change every tag
SECRET_MAX_LENGTH = 100


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Feed:
    etag: str
    body: bytes | None  # None: the client's copy (If-None-Match) is current


def feed(secret: str, *, if_none_match: str = "") -> Feed | None:
    """The feed of this secret, None when no feed has it."""
    if not secret or len(secret) > SECRET_MAX_LENGTH:
        return None
    now = timezone.now()
    since = now - PAST
    storage = get_storage()
    stamp = storage.calendar_stamp(secret_hash(secret), ends_after=since)
    if stamp is None:
        return None
    tag = etag(stamp)
    if matches(if_none_match, tag):
        return Feed(etag=tag, body=None)
    visits = storage.calendar_visits(stamp.owner, ends_after=since, limit=MAX_EVENTS)
    return Feed(etag=tag, body=render(visits, owner=stamp.owner, now=now))


def etag(stamp: CalendarStamp) -> str:
    latest = stamp.latest.isoformat() if stamp.latest else ""
    parts = (
        FORMAT,
        settings.CALENDAR_SHOW_NAMES,
        stamp.owner,
        stamp.visits,
        stamp.sequences,
        latest,
    )
    key = "|".join(str(part) for part in parts)
    return f'"{hashlib.sha256(key.encode()).hexdigest()[:32]}"'


def matches(if_none_match: str, tag: str) -> bool:
    """Whether an If-None-Match header names `tag` (weakly compared, as RFC 9110 has it)."""
    candidates = {candidate.strip() for candidate in if_none_match.split(",")}
    return "*" in candidates or any(candidate.removeprefix("W/") == tag for candidate in candidates)


def render(visits: list[Teleconsultation], *, owner: str, now: datetime) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Teleconsultations")
    for visit in visits:
        calendar.add_component(_event(visit, owner=owner, now=now))
    return calendar.to_ical()


def _event(visit: Teleconsultation, *, owner: str, now: datetime) -> icalendar.Event:
    written = (visit.updated_at or visit.created_at or now).astimezone(UTC)
    event = icalendar.Event()
    event.add("uid", f"{visit.id}@{UID_DOMAIN}")
    event.add("dtstamp", written)
    event.add("last-modified", written)
    event.add("dtstart", visit.start.astimezone(UTC))
    event.add("dtend", visit.end.astimezone(UTC))
    event.add("summary", _summary(visit, owner=owner))
    event.add("sequence", visit.version)
    event.add("status", "CANCELLED" if visit.state == State.TRASH else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def _summary(visit: Teleconsultation, *, owner: str) -> str:
    if not settings.CALENDAR_SHOW_NAMES:
        return SUMMARY
    others = [
        member.full_name
        for member in visit.participants
        if member.external_id != owner and member.full_name
    ]
    return f"{SUMMARY} with {', '.join(others)}" if others else SUMMARY
