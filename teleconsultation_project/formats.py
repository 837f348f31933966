"""How dates travel: ISO 8601 in, UTC with milliseconds out (`2022-02-22T15:30:00.000Z`)."""

from datetime import UTC, datetime


def format_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )
