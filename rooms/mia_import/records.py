"""Checking one exported record and turning it into a domain object, or saying every reason it
cannot be imported. Only the fields this service keeps are read (`KEPT`); the mapping itself is
the CRUD backend's (`rooms.storage.mia_records`).

Mia's participants carry no external user id: it is found through the user map, by Kaleyra user
id. Lengths are the database's, so a record is refused here rather than half-way through a write.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import TypeGuard

from rooms.domain import Teleconsultation, UserMapping, is_teleconsultation_id
from rooms.storage.mia_records import (
    iso,
    parse_date,
    teleconsultation_from_record,
    user_mapping_from_record,
)

KEPT = (
    "_id",
    "__STATE__",
    "participantsNumber",
    "startDate",
    "endDate",
    "participants",
    "bandyerRoomId",
    "createdAt",
    "updatedAt",
    "creatorId",
    "updaterId",
)
STATES = ("PUBLIC", "DRAFT", "TRASH")
ROLES = ("plus", "basic")
MIN_PARTICIPANTS, MAX_PARTICIPANTS = 2, 25
USER_ID_MAX, KALEYRA_ID_MAX, NAME_MAX, LANGUAGE_MAX = 255, 128, 255, 35


class BadRecord(Exception):
    """A record that cannot be imported, with every reason found."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def user_mapping(record) -> UserMapping:
    """A user map row; its role is "" unless the row has one (Mia's rows have none)."""
    if not isinstance(record, dict):
        raise BadRecord(["not a JSON object"])
    problems: list[str] = []
    _text(record, "receivedUserId", problems, limit=USER_ID_MAX, required=True)
    _text(record, "bandyerId", problems, limit=KALEYRA_ID_MAX, required=True)
    role = record.get("role") or ""
    if role and role not in ROLES:
        problems.append(f"role: {role!r} is not one of {', '.join(ROLES)}")
    if problems:
        raise BadRecord(problems)
    return user_mapping_from_record({**record, "role": role})


def teleconsultation(record, *, external_ids: Mapping[str, str]) -> Teleconsultation:
    """`external_ids` maps the Kaleyra user ids of the imported user map to external ids."""
    if not isinstance(record, dict):
        raise BadRecord(["not a JSON object"])
    problems: list[str] = []
    if not isinstance(record.get("_id"), str) or not is_teleconsultation_id(record["_id"]):
        problems.append(f"_id: {record.get('_id')!r} is not 24 lowercase hex characters")
    state = record.get("__STATE__")
    if state is not None and state not in STATES:
        problems.append(f"__STATE__: {state!r} is not one of {', '.join(STATES)}")
    number = record.get("participantsNumber")
    if not _whole(number) or not MIN_PARTICIPANTS <= number <= MAX_PARTICIPANTS:
        problems.append(
            f"participantsNumber: {number!r} is not a whole number from {MIN_PARTICIPANTS} "
            f"to {MAX_PARTICIPANTS}"
        )
        number = None
    start = _date(record, "startDate", problems, required=True)
    end = _date(record, "endDate", problems, required=True)
    if start and end and end <= start:
        problems.append(f"endDate: {iso(end)} is not after startDate {iso(start)}")
    for name in ("createdAt", "updatedAt"):
        _date(record, name, problems)
    for name in ("creatorId", "updaterId"):
        _text(record, name, problems, limit=USER_ID_MAX)
    _text(record, "bandyerRoomId", problems, limit=KALEYRA_ID_MAX)
    members = _participants(record, problems, number=number, external_ids=external_ids)
    if problems:
        raise BadRecord(problems)
    kept = {name: record[name] for name in KEPT if name in record}
    return teleconsultation_from_record({**kept, "participants": members}, external_ids)


def _participants(record, problems, *, number, external_ids) -> list[dict]:
    members = record.get("participants")
    if members is None:
        return []
    if not isinstance(members, list):
        problems.append("participants: not a list")
        return []
    if number is not None and len(members) > number:
        problems.append(f"participants: {len(members)} of them, more than participantsNumber")
    seen: dict[str, int] = {}
    for index, member in enumerate(members):
        where = f"participants[{index}]"
        if not isinstance(member, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        found: list[str] = []
        kaleyra_id = _text(member, "userBandyerId", found, limit=KALEYRA_ID_MAX, required=True)
        groups = member.get("groups")
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            found.append("groups: not a list of strings")
        _text(member, "fullName", found, limit=NAME_MAX)
        _text(member, "language", found, limit=LANGUAGE_MAX)
        link = _text(member, "accessLinkURL", found, limit=None)
        if link and not link.startswith(("https://", "http://")):
            found.append(f"accessLinkURL: {link!r} is not an http(s) URL")
        if member.get("role") not in (None, "", *ROLES):
            found.append(f"role: {member['role']!r} is not one of {', '.join(ROLES)}")
        external_id = _text(member, "userExternalId", found, limit=USER_ID_MAX)
        external_id = external_id or external_ids.get(kaleyra_id or "")
        if kaleyra_id and not external_id:
            found.append(f"userBandyerId: {kaleyra_id!r} is not in the imported user map")
        if external_id in seen:
            found.append(f"user {external_id!r} is already participants[{seen[external_id]}]")
        elif external_id:
            seen[external_id] = index
        problems.extend(f"{where}.{problem}" for problem in found)
    return members


def _whole(value: object) -> TypeGuard[int | float]:
    if isinstance(value, float) and value.is_integer():
        return True
    return isinstance(value, int) and not isinstance(value, bool)


def _text(record, name, problems, *, limit: int | None, required: bool = False) -> str | None:
    value = record.get(name)
    if value is None or value == "" and not required:
        if required:
            problems.append(f"{name}: missing")
        return None
    if not isinstance(value, str) or not value:
        problems.append(f"{name}: {value!r} is not a non-empty string")
        return None
    if limit is not None and len(value) > limit:
        problems.append(f"{name}: longer than {limit} characters")
        return None
    return value


def _date(record, name, problems, *, required: bool = False) -> datetime | None:
    value = record.get(name)
    if value is None:
        if required:
            problems.append(f"{name}: missing")
        return None
    # An ISO string, or Extended JSON's {"$date": ISO string or epoch milliseconds}.
    moment = value.get("$date") if isinstance(value, dict) else value
    wrapped_millis = isinstance(value, dict) and type(moment) is int
    try:
        if not (isinstance(moment, str) or wrapped_millis):
            raise TypeError(moment)
        if isinstance(moment, str) and _naive(moment):
            problems.append(f"{name}: {moment!r} has no offset (Z or +hh:mm)")
            return None
        return parse_date(value)
    except (TypeError, ValueError, OverflowError):
        problems.append(f"{name}: {value!r} is not a date")
        return None


def _naive(text: str) -> bool:
    """A date string that does not say where it is in time (mongoexport always writes `Z`)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is None
