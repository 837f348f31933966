"""A person's data erased (`erase_person`): their name and ids go from every record, and what
must stay (the visit, for the other participants; the audit trail) keeps a pseudonym instead.

The pseudonym is `erased-` and 24 hex characters of an HMAC-SHA256 of the external id keyed with
the service's SECRET_KEY: the same person always gets the same one (a run carried on after a
failure, the person's several visits and audit entries agree), and nobody without the key can
tell whose it is, or test a guess. It takes the place of the external id and of the Kaleyra user
id (a SHA-256 of the external id, `kaleyra.ids`, so anyone knowing the id could find it). The
erased participant keeps their groups and role (what the visit was, for the others) and loses
their name, language and join link: no link is handed out to them again, and the doctor's view
shows a participant without a name.

The steps, each one an item of the run (`erase_steps`), in an order that a failure can stop
safely: the person's Kaleyra users deactivated, their visits' recordings deleted, their calendar
feed revoked, then what is found through their visits (Kaleyra's webhook events, their entry in
each visit's attendance, the outbox rows of visit events with the Django backend) pseudonymised,
then their participant records, their user map entry and their audit entries rewritten. Every
step finds nothing left to do when it has been done, so running the command again carries on.
"""

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from django.conf import settings

from kaleyra.errors import KaleyraError, KaleyraNotFound
from kaleyra.provider import get_video_provider
from rooms.domain import ERASED_PREFIX, AuditEntry, Participant, Teleconsultation, WebhookEvent
from rooms.selectors.person import Person, attendee_is
from rooms.services import recordings
from rooms.services.support import Outcome, Result
from rooms.storage import get_storage
from rooms.storage import visit_events as outbox

DIGEST_CHARACTERS = 24


def pseudonym(external_id: str) -> str:
    """`erased-<24 hex>`, stable for a person and meaningless without the SECRET_KEY."""
    key = settings.SECRET_KEY.encode("utf-8")
    digest = hmac.new(key, b"erase_person:" + external_id.encode("utf-8"), hashlib.sha256)
    return ERASED_PREFIX + digest.hexdigest()[:DIGEST_CHARACTERS]


def erased_participant(member: Participant, alias: str) -> Participant:
    return Participant(
        external_id=alias,
        groups=member.groups,
        full_name="",
        role=member.role,
        kaleyra_user_id=alias,
        language="",
        access_link="",
    )


@dataclass(frozen=True)
class Step:
    describe: str
    run: Callable[[], Outcome]


def erase_steps(person: Person, *, actor: str) -> list[Step]:
    alias = pseudonym(person.external_id)
    steps = [
        Step(f"deactivate Kaleyra user {user_id}", partial(_deactivate, user_id))
        for user_id in person.kaleyra_user_ids
    ]
    steps += [
        Step(
            f"delete the recordings of teleconsultation {visit.id}",
            partial(_delete_recordings, visit),
        )
        for visit in person.visits
    ]
    if person.calendar_feed is not None:
        steps.append(Step("revoke the calendar feed", partial(_revoke_feed, person.external_id)))
    # Found through the visits: before their records go.
    steps += [
        Step(
            f"pseudonymise the attendance of teleconsultation {visit.id}",
            partial(_pseudonymise_attendance, visit.id, person, alias),
        )
        for visit in person.visits
        if _named_in_attendance(visit.id, person)
    ]
    bodies = _outbox_naming(person)
    if bodies:
        steps.append(
            Step(
                f"pseudonymise {len(bodies)} visit events in the outbox",
                partial(_pseudonymise_outbox, bodies, person, alias),
            )
        )
    events = person.webhook_events()
    if events:
        steps.append(
            Step(
                f"pseudonymise {len(events)} Kaleyra webhook events",
                partial(_pseudonymise_events, events, person, alias),
            )
        )
    steps += [
        Step(
            f"erase the participant from teleconsultation {visit.id}",
            partial(_erase_participant, visit, person.external_id, alias, actor=actor),
        )
        for visit in person.visits
    ]
    if person.mapping is not None:
        steps.append(Step("forget the user map entry", partial(_forget_mapping, person)))
    named = [entry for entry in person.audit if person.names_them(entry)]
    if named:
        steps.append(
            Step(
                f"pseudonymise {len(named)} audit entries",
                partial(_pseudonymise, named, person, alias),
            )
        )
    return steps


def _deactivate(user_id: str) -> Outcome:
    try:
        get_video_provider().deactivate_user(user_id)
    except KaleyraNotFound:
        return Outcome(Result.SKIPPED, f"Kaleyra user {user_id}: none on Kaleyra")
    except KaleyraError as exc:
        return Outcome(
            Result.FAILED,
            f"Kaleyra user {user_id}: could not deactivate ({exc.status})",
            provider_failed=True,
        )
    return Outcome(Result.DONE, f"Kaleyra user {user_id}: deactivated")


def _delete_recordings(visit: Teleconsultation) -> Outcome:
    try:
        sessions = recordings.sessions_to_clear(visit)
    except KaleyraError as exc:
        return Outcome(
            Result.FAILED,
            f"Teleconsultation {visit.id}: could not list its sessions ({exc.status})",
            provider_failed=True,
        )
    results = [
        recordings.delete_one(session, teleconsultation_id=visit.id, stop=lambda: False)
        for session in sessions
    ]
    if -1 in results:
        left = results.count(-1)
        return Outcome(
            Result.FAILED,
            f"Teleconsultation {visit.id}: {left} recording(s) not deleted",
            provider_failed=True,
        )
    return Outcome(
        Result.DONE, f"Teleconsultation {visit.id}: {results.count(1)} recording(s) deleted"
    )


def _erase_participant(
    visit: Teleconsultation, external_id: str, alias: str, *, actor: str
) -> Outcome:
    member = visit.participant(external_id)
    if member is None:
        return Outcome(Result.SKIPPED, f"Teleconsultation {visit.id}: not a participant")
    erased = erased_participant(member, alias)
    if not get_storage().erase_participant(visit.id, external_id, erased, actor=actor):
        return Outcome(Result.SKIPPED, f"Teleconsultation {visit.id}: erased already")
    return Outcome(Result.DONE, f"Teleconsultation {visit.id}: participant erased")


def _forget_mapping(person: Person) -> Outcome:
    forgotten = get_storage().forget_mappings([person.external_id])
    return Outcome(Result.DONE, f"User map: {forgotten} entry erased")


def _pseudonymise(entries: list[AuditEntry], person: Person, alias: str) -> Outcome:
    rewritten = [
        replace(
            entry,
            actor=alias if entry.actor == person.external_id else entry.actor,
            detail=_scrubbed(entry.detail, person.marks(entry), alias),
        )
        for entry in entries
    ]
    get_storage().replace_audit_entries(rewritten)
    return Outcome(Result.DONE, f"Audit trail: {len(rewritten)} entries pseudonymised")


def _revoke_feed(external_id: str) -> Outcome:
    if not get_storage().revoke_calendar_feed(external_id):
        return Outcome(Result.SKIPPED, "Calendar feed: revoked already")
    return Outcome(Result.DONE, "Calendar feed: revoked")


def _named_in_attendance(teleconsultation_id: str, person: Person) -> bool:
    collected = get_storage().attendance(teleconsultation_id)
    return collected is not None and any(
        attendee_is(each, person.external_id, person.kaleyra_user_ids)
        for each in collected.attendees
    )


def _pseudonymise_attendance(teleconsultation_id: str, person: Person, alias: str) -> Outcome:
    """Their entry keeps its times (the visit's attendance, for the others) under the alias."""
    storage = get_storage()
    collected = storage.attendance(teleconsultation_id)
    if collected is None:
        return Outcome(Result.SKIPPED, f"Teleconsultation {teleconsultation_id}: no attendance")
    attendees = tuple(
        replace(each, user_id=alias, kaleyra_user_id=alias)
        if attendee_is(each, person.external_id, person.kaleyra_user_ids)
        else each
        for each in collected.attendees
    )
    if attendees == collected.attendees:
        return Outcome(
            Result.SKIPPED, f"Teleconsultation {teleconsultation_id}: attendance erased already"
        )
    storage.save_attendance(replace(collected, attendees=attendees))
    return Outcome(Result.DONE, f"Teleconsultation {teleconsultation_id}: attendance pseudonymised")


def _outbox_naming(person: Person) -> list[tuple[int, dict]]:
    """The outbox rows of their visits whose body names them (the Django backend only: the CRUD
    one has no outbox)."""
    if settings.STORAGE_BACKEND != "django" or not person.visits:
        return []
    marks = person.marks()
    return [
        (row_id, body)
        for row_id, body in outbox.bodies_of([visit.id for visit in person.visits])
        if any(mark in json.dumps(body, ensure_ascii=False) for mark in marks)
    ]


def _pseudonymise_outbox(bodies: list[tuple[int, dict]], person: Person, alias: str) -> Outcome:
    marks = person.marks()
    outbox.rewrite_bodies([(row_id, _scrubbed(body, marks, alias)) for row_id, body in bodies])
    return Outcome(Result.DONE, f"Visit events outbox: {len(bodies)} events pseudonymised")


def _pseudonymise_events(events: list[WebhookEvent], person: Person, alias: str) -> Outcome:
    marks = person.marks()
    rewritten = [replace(event, data=_scrubbed(event.data, marks, alias)) for event in events]
    get_storage().replace_webhook_event_data(rewritten)
    return Outcome(Result.DONE, f"Kaleyra webhook events: {len(rewritten)} pseudonymised")


def _scrubbed(value: Any, marks: list[str], alias: str) -> Any:
    """`value` with every mark of the person (ids, names) replaced by the pseudonym."""
    if isinstance(value, str):
        for mark in marks:
            value = value.replace(mark, alias)
        return value
    if isinstance(value, Mapping):
        return {
            _scrubbed(key, marks, alias): _scrubbed(item, marks, alias)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrubbed(item, marks, alias) for item in value]
    return value
