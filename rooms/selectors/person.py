"""What is held about one person (a participant, by the external user id the gateway gives), for
`export_person` and `erase_person` (`rooms.services.person`).

A person's records are their participant records in the visits they take part in (trashed ones
too), their user map entry, the audit entries that name them (as the caller, or in an entry's
detail) and those of their visits, the join links they were handed (the audit entries
`link.handed_out`: the link itself is never stored), and whether they have a calendar feed (when
it was made: never its secret). Each visit carries more sections, read by the functions in
`VISIT_SECTIONS`: its attendance, the person's own time in its calls.
"""

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kaleyra.ids import kaleyra_user_id_for
from rooms.domain import (
    ERASED_PREFIX,
    Attendee,
    AuditEntry,
    State,
    Teleconsultation,
    UserMapping,
    WebhookEvent,
)
from rooms.storage import get_storage
from teleconsultation_project.formats import format_datetime

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EVENTS_READ = 10_000  # the Kaleyra events read per visit: far more than a visit ever gets
LINK_HANDED_OUT = "link.handed_out"  # rooms.services.audit.LINK_HANDED_OUT (services come later)


def _attendance(visit: Teleconsultation, external_id: str) -> dict | None:
    """The person's own entry in the visit's attendance (None until collected; the others'
    entries are theirs)."""
    collected = get_storage().attendance(visit.id)
    if collected is None:
        return None
    member = visit.participant(external_id)
    kaleyra_ids = {kaleyra_user_id_for(external_id)}
    if member is not None and member.kaleyra_user_id:
        kaleyra_ids.add(member.kaleyra_user_id)
    mine = [each for each in collected.attendees if attendee_is(each, external_id, kaleyra_ids)]
    return {
        "collectedAt": format_datetime(collected.collected_at),
        "noShow": collected.no_show,
        "joined": [
            {
                "joinedAt": format_datetime(each.joined_at) if each.joined_at else None,
                "leftAt": format_datetime(each.left_at) if each.left_at else None,
                "secondsInCall": each.seconds_in_call,
                "sessions": each.sessions,
            }
            for each in mine
        ],
    }


def attendee_is(attendee: Attendee, external_id: str, kaleyra_user_ids: Iterable[str]) -> bool:
    """Whether an attendance entry is the person's: by external id, or by a Kaleyra user id of
    theirs (an entry the visit no longer names has only that)."""
    return attendee.user_id == external_id or attendee.kaleyra_user_id in set(kaleyra_user_ids)


# More per-visit sections of an export: (name, function of the visit and the external id giving
# what is held, JSON-ready).
VISIT_SECTIONS: list[tuple[str, Callable[[Teleconsultation, str], Any]]] = [
    ("attendance", _attendance),
]


@dataclass(frozen=True)
class Person:
    external_id: str
    visits: list[Teleconsultation]
    mapping: UserMapping | None
    audit: list[AuditEntry]  # those naming the person, and those of their visits, oldest first
    calendar_feed: datetime | None = None  # when their feed was made; None: they have none

    def webhook_events(self) -> list[WebhookEvent]:
        """The Kaleyra events of their visits whose data names them (by Kaleyra user id: Kaleyra
        holds no name and no external id, but a hash of the id is still theirs)."""
        marks = [mark for mark in self.marks() if mark]
        storage = get_storage()
        return [
            event
            for visit in self.visits
            for event in storage.webhook_events(teleconsultation_id=visit.id, limit=EVENTS_READ)
            if any(mark in json.dumps(event.data, ensure_ascii=False) for mark in marks)
        ]

    @property
    def kaleyra_user_ids(self) -> list[str]:
        """Every Kaleyra user id the person has: the one this service derives, the mapped one
        (Mia's may differ), and those their participant records carry."""
        ids = {kaleyra_user_id_for(self.external_id): None}
        if self.mapping is not None:
            ids[self.mapping.kaleyra_user_id] = None
        for visit in self.visits:
            member = visit.participant(self.external_id)
            if member is not None and member.kaleyra_user_id:
                ids[member.kaleyra_user_id] = None
        return list(ids)

    @property
    def full_names(self) -> list[str]:
        names = {
            member.full_name: None
            for visit in self.visits
            if (member := visit.participant(self.external_id)) is not None and member.full_name
        }
        return list(names)

    def names_them(self, entry: AuditEntry) -> bool:
        """Whether an audit entry names the person: as its actor, by one of their ids anywhere
        in its detail, or by their name in the detail of an entry of one of their visits (a name
        alone names nobody in particular elsewhere)."""
        if entry.actor == self.external_id:
            return True
        text = json.dumps(entry.detail, ensure_ascii=False)
        return any(mark in text for mark in self.marks(entry))

    def marks(self, entry: AuditEntry | None = None) -> list[str]:
        """The strings that identify the person in the entry's text, longest first."""
        marks = [self.external_id, *self.kaleyra_user_ids]
        if entry is None or entry.teleconsultation_id in {visit.id for visit in self.visits}:
            marks += self.full_names
        return sorted({mark for mark in marks if mark}, key=len, reverse=True)


def is_erased(external_id: str) -> bool:
    return external_id.startswith(ERASED_PREFIX)


def in_progress(visit: Teleconsultation, *, now: datetime) -> bool:
    """A live visit whose call may be going on: started and not yet ended."""
    return visit.state == State.PUBLIC and visit.start <= now < visit.end


def find_person(external_id: str) -> Person:
    """Everything held about the person. The audit trail is read once, whole (a batch at a
    time): an entry names the person by their id, which no index covers."""
    storage = get_storage()
    visits = storage.visits_of(external_id)
    mapping = storage.mappings_for([external_id]).get(external_id)
    person = Person(external_id, visits, mapping, [])
    visit_ids = {visit.id for visit in visits}
    entries = [
        entry
        for batch in storage.audit_entries(since=EPOCH)
        for entry in batch
        if entry.teleconsultation_id in visit_ids or person.names_them(entry)
    ]
    feed = storage.calendar_feed_made(external_id)
    return Person(external_id, visits, mapping, entries, calendar_feed=feed)


def export(person: Person) -> dict:
    """The JSON document `export_person` writes. Join links are secrets and never exported; the
    other participants of a visit appear by name and groups, not by their ids."""
    return {
        "userId": person.external_id,
        "visits": [_visit(visit, person.external_id) for visit in person.visits],
        "participantRecords": [
            {"teleconsultationId": visit.id, **_own_record(visit, person.external_id)}
            for visit in person.visits
        ],
        "linksHandedOut": [
            {
                "time": format_datetime(entry.at) if entry.at else None,
                "teleconsultationId": entry.teleconsultation_id,
                "clientType": entry.client_type,
            }
            for entry in person.audit
            if entry.action == LINK_HANDED_OUT and entry.actor == person.external_id
        ],
        "auditEntries": [_audit_row(entry) for entry in person.audit],
        "kaleyraUser": (
            {
                "userId": person.mapping.external_id,
                "kaleyraUserId": person.mapping.kaleyra_user_id,
                "role": person.mapping.role,
            }
            if person.mapping is not None
            else None
        ),
        "calendarFeed": (
            {"createdAt": format_datetime(person.calendar_feed)}
            if person.calendar_feed is not None
            else None
        ),
    }


def _visit(visit: Teleconsultation, external_id: str) -> dict:
    document = {
        "roomId": visit.id,
        "startDate": format_datetime(visit.start),
        "endDate": format_datetime(visit.end),
        "participantsNumber": visit.participants_number,
        "state": visit.state.value,
        "kaleyraRoomId": visit.kaleyra_room_id,
        "recording": visit.recording,
        "participants": [
            {
                "you": member.external_id == external_id,
                "fullName": member.full_name,
                "groups": list(member.groups),
            }
            for member in visit.participants
        ],
    }
    for name, section in VISIT_SECTIONS:
        document[name] = section(visit, external_id)
    return document


def _own_record(visit: Teleconsultation, external_id: str) -> dict:
    member = visit.participant(external_id)
    if member is None:
        return {}
    return {
        "userExternalId": member.external_id,
        "fullName": member.full_name,
        "groups": list(member.groups),
        "language": member.language,
        "role": member.role,
        "kaleyraUserId": member.kaleyra_user_id,
        "joinLinkHeld": bool(member.access_link),
    }


def _audit_row(entry: AuditEntry) -> dict:
    return {
        "time": format_datetime(entry.at) if entry.at else None,
        "actor": entry.actor,
        "action": entry.action,
        "teleconsultationId": entry.teleconsultation_id,
        "outcome": entry.outcome,
        "requestId": entry.request_id,
        "clientType": entry.client_type,
        "detail": dict(entry.detail),
        "id": entry.id,
    }


def batches(items: list, size: int) -> Iterator[list]:
    for index in range(0, len(items), size):
        yield items[index : index + size]
