"""When a participant's join link is handed out: from `start - IMMUTABLE_PERIOD_MS` (Mia's rule)
until `end + JOIN_CLOSES_AFTER_END_MS` (unset: never closes, as in Mia's service).

The one place that says whether the window is open; the GET endpoint, the agenda and the admin
all ask here, so the edges are the same everywhere: open at the opening instant, closed at the
closing one.
"""

from datetime import datetime, timedelta

from django.conf import settings

from rooms.domain import Participant, Teleconsultation


def opens_at(teleconsultation: Teleconsultation) -> datetime:
    return teleconsultation.immutable_from


def closes_at(teleconsultation: Teleconsultation) -> datetime | None:
    after_end = settings.JOIN_CLOSES_AFTER_END_MS
    if after_end is None:
        return None
    return teleconsultation.end + timedelta(milliseconds=after_end)


def closed_at(teleconsultation: Teleconsultation, *, now: datetime) -> datetime | None:
    """When the window closed, once it has; None while it is still to close (or never does)."""
    closing = closes_at(teleconsultation)
    return closing if closing is not None and now >= closing else None


def is_open(teleconsultation: Teleconsultation, *, now: datetime) -> bool:
    return now >= opens_at(teleconsultation) and closed_at(teleconsultation, now=now) is None


def link_available(
    teleconsultation: Teleconsultation, participant: Participant, *, now: datetime
) -> bool:
    """Whether this participant gets their link now: everyone known, a room, a link, and the
    window open."""
    return bool(
        teleconsultation.complete
        and teleconsultation.kaleyra_room_id
        and participant.access_link
        and is_open(teleconsultation, now=now)
    )
