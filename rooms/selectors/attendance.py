"""A visit's attendance as its participants see it (`GET /teleconsultation/{roomId}/attendance`):
who joined its calls, when, and for how long, once `collect_attendance` has fetched it.

The same caller rules as the GET of the visit: an identity (401 without), a participant of the
visit (401 `Unauthorized user` otherwise, as Mia answers a stranger), a live visit (404).
"""

from dataclasses import dataclass
from datetime import datetime

from rooms.domain import Attendee
from rooms.errors import TeleconsultationNotFound
from rooms.rules import permissions
from rooms.storage import get_storage
from teleconsultation_project.identity import Caller


@dataclass(frozen=True)
class VisitAttendance:
    collected_at: datetime | None  # None until collected: the visit is not over, or not yet
    no_show: bool | None
    attendees: tuple[Attendee, ...]


def visit_attendance(*, teleconsultation_id: str, caller: Caller | None) -> VisitAttendance:
    storage = get_storage()
    permissions.require_caller(caller)
    teleconsultation = storage.find(teleconsultation_id)
    if teleconsultation is None:
        raise TeleconsultationNotFound(teleconsultation_id)
    permissions.require_participant(caller, teleconsultation)
    collected = storage.attendance(teleconsultation.id)
    if collected is None:
        return VisitAttendance(collected_at=None, no_show=None, attendees=())
    return VisitAttendance(
        collected_at=collected.collected_at,
        no_show=collected.no_show,
        attendees=collected.attendees,
    )
