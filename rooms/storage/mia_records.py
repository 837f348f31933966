"""Mia's CRUD records as domain objects and back: the field mapping shared by the CRUD Service
backend and the import of Mia's exported collections (`import_mia_collections`).

Mia's service writes `participants[{userBandyerId, accessLinkURL, groups, fullName, language}]`
with no external user id and no role; this service adds `userExternalId` and `role`. A record
without them is read through the user map (Kaleyra user id -> external id) and the groups.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from rooms.domain import Attendee, Participant, State, Teleconsultation, UserMapping

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """Dates as the CRUD Service returns them: UTC with milliseconds, `2026-12-01T09:30:00.000Z`."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def required_date(record: Mapping, name: str) -> datetime:
    """A date Mia's schema requires; a record without it is refused, as a malformed one is."""
    value = parse_date(record.get(name))
    if value is None:
        raise ValueError(f"{name} is missing")
    return value


def parse_date(value) -> datetime | None:
    """An ISO 8601 string, or Extended JSON as mongoexport writes it: `{"$date": "<ISO>"}`, or
    milliseconds since the epoch (`{"$date": 1645543800000}`, `{"$date": {"$numberLong": ...}}`,
    the canonical form and the one for dates before 1970 or after 9999)."""
    if value in (None, ""):
        return None
    if isinstance(value, dict) and "$date" in value:
        value = value["$date"]
        if isinstance(value, dict) and "$numberLong" in value:
            value = int(value["$numberLong"])
        if isinstance(value, int) and not isinstance(value, bool):
            return EPOCH + timedelta(milliseconds=value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def role_from_groups(groups: Sequence[str]) -> str:
    """The role the service configuration gives these groups; basic when none matches (a record
    may outlive the configuration that allowed it)."""
    from teleconsultation_project.service_config import get_service_config

    role = get_service_config().privileges.role_for(groups)
    return role.value if role is not None else "basic"


def teleconsultation_from_record(
    record: Mapping, external_ids: Mapping[str, str]
) -> Teleconsultation:
    """`external_ids` maps Kaleyra user ids to external ids, for participants Mia wrote."""
    members = []
    for member in record.get("participants") or ():
        kaleyra_id = member.get("userBandyerId") or ""
        groups = tuple(member.get("groups") or ())
        members.append(
            Participant(
                external_id=member.get("userExternalId") or external_ids.get(kaleyra_id, ""),
                groups=groups,
                full_name=member.get("fullName") or "",
                role=member.get("role") or role_from_groups(groups),
                kaleyra_user_id=kaleyra_id,
                language=member.get("language") or "",
                access_link=member.get("accessLinkURL") or "",
            )
        )
    return Teleconsultation(
        id=record["_id"],
        participants_number=int(record["participantsNumber"]),
        start=required_date(record, "startDate"),
        end=required_date(record, "endDate"),
        participants=tuple(members),
        kaleyra_room_id=record.get("bandyerRoomId") or None,
        state=State(record.get("__STATE__") or "PUBLIC"),
        version=int(record.get("version") or 0),
        room_claim=record.get("roomClaim") or None,
        recording=record.get("recording") or None,
        created_at=parse_date(record.get("createdAt")),
        updated_at=parse_date(record.get("updatedAt")),
        created_by=record.get("creatorId") or "",
        updated_by=record.get("updaterId") or "",
    )


def user_mapping_from_record(record: Mapping) -> UserMapping:
    """A user map row; Mia's rows have no `role` (read as "": the next use sets it)."""
    return UserMapping(
        external_id=record["receivedUserId"],
        kaleyra_user_id=record["bandyerId"],
        role=record.get("role", ""),
    )


def record_fields(teleconsultation: Teleconsultation) -> dict:
    """The fields a write sets, in Mia's names (the CRUD Service adds `_id`, `__STATE__`, the
    creator and updater, and the dates)."""
    return {
        "bandyerRoomId": teleconsultation.kaleyra_room_id,
        "participantsNumber": teleconsultation.participants_number,
        "participants": [
            {
                "userExternalId": member.external_id,
                "userBandyerId": member.kaleyra_user_id,
                "accessLinkURL": member.access_link or None,
                "groups": list(member.groups),
                "fullName": member.full_name,
                "language": member.language or None,
                "role": member.role,
            }
            for member in teleconsultation.participants
        ],
        "startDate": iso(teleconsultation.start),
        "endDate": iso(teleconsultation.end),
        "roomClaim": teleconsultation.room_claim,
        # Only when the visit asked: a collection whose schema predates it takes the others.
        **({"recording": teleconsultation.recording} if teleconsultation.recording else {}),
    }


def user_mapping_fields(mapping: UserMapping) -> dict:
    """A user map row in Mia's names, with the role this service adds."""
    return {
        "receivedUserId": mapping.external_id,
        "bandyerId": mapping.kaleyra_user_id,
        "role": mapping.role,
    }


def attendee_record(attendee: Attendee) -> dict:
    """One participant's attendance as both backends keep it (the API's field names)."""
    return {
        "userId": attendee.user_id,
        "kaleyraUserId": attendee.kaleyra_user_id,
        "joinedAt": iso(attendee.joined_at) if attendee.joined_at else None,
        "leftAt": iso(attendee.left_at) if attendee.left_at else None,
        "secondsInCall": attendee.seconds_in_call,
        "sessions": attendee.sessions,
    }


def attendee_from_record(record: Mapping) -> Attendee:
    return Attendee(
        user_id=record.get("userId") or "",
        kaleyra_user_id=record.get("kaleyraUserId") or "",
        joined_at=parse_date(record.get("joinedAt")),
        left_at=parse_date(record.get("leftAt")),
        seconds_in_call=int(record.get("secondsInCall") or 0),
        sessions=int(record.get("sessions") or 0),
    )
