"""Who joined a visit's calls, and for how long: collected from Kaleyra's sessions of its room
once the visit is over (`manage.py collect_attendance`, the admin's "Collect attendance").

Each session of the room (`iter_room_sessions`, every page) names who was in it, when they joined
and left. Per participant: the first join, the last leave (None while still in a call), the
seconds summed over their sessions (a session still running counts up to now), and how many
sessions. A Kaleyra user the visit does not name any more (removed by a PATCH) is kept, with an
empty `userId`. A visit with fewer than two participants joined is a no-show, counted in
`teleconsultation_no_shows_total` when a collection first marks it so. Collecting again replaces
the record: it is safe to repeat, and a late session is picked up.

The room of a visit is the one it holds now: a room replaced by support ("Recreate the Kaleyra
room") takes its sessions with it. Webhook events carry no join or leave times (Kaleyra's
`on_room_deleted` and `on_recording_available` name a room and a session only), so the sessions
are the one source.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from kaleyra.provider import get_video_provider
from kaleyra.types import RoomSession
from rooms.domain import ERASED_PREFIX, Attendance, Attendee, Teleconsultation
from rooms.errors import TeleconsultationNotFound
from rooms.storage import get_storage
from teleconsultation_project.metrics import NO_SHOWS


def collect(teleconsultation_id: str) -> Attendance:
    """Fetches the sessions of the visit's room (trashed visits included) and stores who joined;
    TeleconsultationNotFound for no such visit, KaleyraError when the provider fails."""
    storage = get_storage()
    visit = storage.find(teleconsultation_id, include_trash=True)
    if visit is None:
        raise TeleconsultationNotFound(teleconsultation_id)
    room_id = visit.kaleyra_room_id
    sessions = list(get_video_provider().iter_room_sessions(room_id)) if room_id else []
    now = timezone.now()
    attendance = Attendance(
        teleconsultation_id=visit.id, collected_at=now, attendees=attendees(visit, sessions, now)
    )
    before = storage.save_attendance(attendance)
    if attendance.no_show and (before is None or not before.no_show):
        NO_SHOWS.inc()
    return attendance


def attendees(
    visit: Teleconsultation, sessions: Iterable[RoomSession], now: datetime
) -> tuple[Attendee, ...]:
    """Who was in the sessions, the visit's participants in their order first, then the Kaleyra
    users it no longer names, by id; without their id once the visit holds an erased person
    (`erase_person`): one of them may be theirs, and an erasure must not come back."""
    joins: dict[str, list[datetime]] = defaultdict(list)
    leaves: dict[str, list[datetime | None]] = defaultdict(list)
    seconds: dict[str, float] = defaultdict(float)
    seen_in: dict[str, set[str]] = defaultdict(set)
    for session in sessions:
        for member in session.participants:
            joined = member.join_date or session.start_date
            left = member.leave_date or session.end_date
            if joined is not None:
                joins[member.user_id].append(joined)
                seconds[member.user_id] += max(0.0, ((left or now) - joined).total_seconds())
            leaves[member.user_id].append(left)
            seen_in[member.user_id].add(session.id)
    external = {member.kaleyra_user_id: member.external_id for member in visit.participants}
    order = [member.kaleyra_user_id for member in visit.participants if member.kaleyra_user_id]
    order += sorted(user for user in seen_in if user not in external)
    erased = any(member.external_id.startswith(ERASED_PREFIX) for member in visit.participants)
    return tuple(
        Attendee(
            user_id=external.get(user, ""),
            kaleyra_user_id=user if user in external or not erased else "",
            joined_at=min(joins[user], default=None),
            left_at=_last_leave(leaves[user]),
            seconds_in_call=round(seconds[user]),
            sessions=len(seen_in[user]),
        )
        for user in order
        if seen_in.get(user)
    )


def _last_leave(leaves: list[datetime | None]) -> datetime | None:
    """None while the user is still in a call (a leave not known yet)."""
    if not leaves or any(left is None for left in leaves):
        return None
    return max(left for left in leaves if left is not None)
