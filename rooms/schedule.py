"""When a teleconsultation happens: start, end, and the rules on its duration.

Dates arrive as aware UTC datetimes (the serializers refuse dates without an offset). The end is
given either as `end_date` or as `duration_in_seconds`, never both.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from rooms.errors import InvalidRequest
from teleconsultation_project.formats import format_datetime

MIN_DURATION = timedelta(minutes=5)
MAX_DURATION = timedelta(hours=24)


@dataclass(frozen=True)
class ScheduleInput:
    start: datetime | None = None
    end: datetime | None = None
    duration_seconds: int | None = None

    @property
    def given(self) -> bool:
        return any(value is not None for value in (self.start, self.end, self.duration_seconds))


def _end_from(start: datetime, schedule: ScheduleInput, *, keep: timedelta | None) -> datetime:
    if schedule.end is not None and schedule.duration_seconds is not None:
        raise InvalidRequest("end_date", "send either end_date or duration_in_seconds, not both")
    if schedule.end is not None:
        return schedule.end
    if schedule.duration_seconds is not None:
        return start + timedelta(seconds=schedule.duration_seconds)
    if keep is None:
        raise InvalidRequest("end_date", "one of end_date or duration_in_seconds is required")
    return start + keep


def check_schedule(start: datetime, end: datetime, *, now: datetime) -> None:
    duration = end - start
    if duration < MIN_DURATION or duration > MAX_DURATION:
        minutes = duration.total_seconds() / 60
        raise InvalidRequest(
            "end_date",
            f"the teleconsultation would last {minutes:g} minutes; it must last between "
            "5 minutes and 24 hours",
        )
    if end <= now:
        raise InvalidRequest(
            "end_date", f"the teleconsultation would end at {format_datetime(end)}, in the past"
        )


def new_schedule(schedule: ScheduleInput, *, now: datetime) -> tuple[datetime, datetime]:
    if schedule.start is None:
        raise InvalidRequest("start_date", "is required")
    end = _end_from(schedule.start, schedule, keep=None)
    check_schedule(schedule.start, end, now=now)
    return schedule.start, end


def changed_schedule(
    schedule: ScheduleInput, *, start: datetime, end: datetime, now: datetime
) -> tuple[datetime, datetime]:
    """Applies a PATCH: a new start alone keeps the duration; a new end alone keeps the start."""
    if not schedule.given:
        return start, end
    new_start = schedule.start or start
    if schedule.end is None and schedule.duration_seconds is None:
        new_end = new_start + (end - start)
    else:
        new_end = _end_from(new_start, schedule, keep=None)
    check_schedule(new_start, new_end, now=now)
    return new_start, new_end
