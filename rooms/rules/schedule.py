"""When a teleconsultation happens: start, end, and the rules on its duration.

Dates arrive as aware UTC datetimes (the serializers refuse dates without an offset). The end is
given either as `end_date` or as `duration_in_seconds`, never both. The start and the duration are
checked before any date arithmetic, so no input can make it overflow.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from rooms.errors import InvalidRequest
from teleconsultation_project.formats import format_datetime

MIN_DURATION = timedelta(minutes=5)
MAX_DURATION = timedelta(hours=24)
# A visit is booked at most about five years ahead; later dates are typing mistakes (2062 for 2026).
MAX_LEAD_TIME = timedelta(days=1827)


@dataclass(frozen=True)
class ScheduleInput:
    start: datetime | None = None
    end: datetime | None = None
    duration_seconds: int | None = None

    @property
    def given(self) -> bool:
        return any(value is not None for value in (self.start, self.end, self.duration_seconds))


class InvalidSchedule(InvalidRequest):
    """A schedule rule broken, worded as every validation error (`Invalid request: ...`): the
    wording `InvalidRequest` gives already."""


def _duration_field(schedule: ScheduleInput) -> str:
    """The field the caller sent the end in, so a duration error names it."""
    return "duration_in_seconds" if schedule.duration_seconds is not None else "end_date"


def _end_from(start: datetime, schedule: ScheduleInput) -> datetime:
    if schedule.end is not None and schedule.duration_seconds is not None:
        raise InvalidRequest("end_date", "send either end_date or duration_in_seconds, not both")
    if schedule.end is not None:
        return schedule.end
    if schedule.duration_seconds is not None:
        seconds = schedule.duration_seconds
        if not MIN_DURATION.total_seconds() <= seconds <= MAX_DURATION.total_seconds():
            raise _duration_error(seconds, "duration_in_seconds")
        return start + timedelta(seconds=seconds)
    raise InvalidRequest("end_date", "one of end_date or duration_in_seconds is required")


def _duration_error(duration: timedelta | int, field: str) -> InvalidRequest:
    """The duration said in hours, minutes and seconds (in seconds when absurdly long)."""
    total = int(duration.total_seconds()) if isinstance(duration, timedelta) else int(duration)
    minutes, seconds = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    parts = [(hours, "hour"), (minutes, "minute"), (seconds, "second")]
    words = " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n)
    if abs(total) > MAX_DURATION.total_seconds() * 1000:
        words = f"{total} seconds"
    return InvalidSchedule(
        field,
        f"the teleconsultation would last {words or '0 seconds'}; it must last between "
        "5 minutes (300 seconds) and 24 hours (86400 seconds)",
    )


def _check_start(start: datetime, *, now: datetime) -> None:
    if start > now + MAX_LEAD_TIME:
        raise InvalidSchedule(
            "start_date",
            f"the teleconsultation would start at {format_datetime(start)}, more than 5 years "
            "from now",
        )


def check_schedule(
    start: datetime, end: datetime, *, now: datetime, field: str = "end_date"
) -> None:
    """`field` is where the end came from: `end_date` or `duration_in_seconds`."""
    duration = end - start
    if duration <= timedelta(0):
        raise InvalidSchedule(field, "the teleconsultation would end before it starts")
    if duration < MIN_DURATION or duration > MAX_DURATION:
        raise _duration_error(duration, field)
    if end <= now:
        raise InvalidSchedule(
            "end_date", f"the teleconsultation would end at {format_datetime(end)}, in the past"
        )


def new_schedule(schedule: ScheduleInput, *, now: datetime) -> tuple[datetime, datetime]:
    if schedule.start is None:
        raise InvalidRequest("start_date", "is required")
    _check_start(schedule.start, now=now)
    end = _end_from(schedule.start, schedule)
    check_schedule(schedule.start, end, now=now, field=_duration_field(schedule))
    return schedule.start, end


def changed_schedule(
    schedule: ScheduleInput, *, start: datetime, end: datetime, now: datetime
) -> tuple[datetime, datetime]:
    """Applies a PATCH: a new start alone keeps the duration; a new end alone keeps the start."""
    if not schedule.given:
        return start, end
    new_start = schedule.start or start
    _check_start(new_start, now=now)
    if schedule.end is None and schedule.duration_seconds is None:
        new_end = new_start + (end - start)
    else:
        new_end = _end_from(new_start, schedule)
    check_schedule(new_start, new_end, now=now, field=_duration_field(schedule))
    return new_start, new_end
