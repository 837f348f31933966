"""The outbox of visit events (Django backend): what a change of a visit tells the operator's
receivers, recorded in the transaction of the change, one row per receiver (VISIT_EVENTS_URLS;
empty: nothing recorded), and the rows `rooms.services.visit_events` delivers.

An event is a CloudEvents 1.0 JSON envelope whose `data` holds ids and times only: the visit's
id, schedule, participants' external ids and roles; their names only with
VISIT_EVENTS_PERSONAL_DATA; never a join link.
"""

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from rooms import models
from rooms.domain import State, Teleconsultation

CREATED = "visit.created"
UPDATED = "visit.updated"
DELETED = "visit.deleted"
STARTING = "visit.starting"
ENDED = "visit.ended"

Status = models.VisitEvent.Status


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def visit_data(visit: Teleconsultation) -> dict:
    """The event's `data`: ids and times, names only when the operator opted in."""
    personal = settings.VISIT_EVENTS_PERSONAL_DATA
    participants = []
    for member in visit.participants:
        told = {"userId": member.external_id, "role": member.role}
        if personal:
            told["fullName"] = member.full_name
        participants.append(told)
    return {
        "teleconsultationId": visit.id,
        "startDate": _stamp(visit.start),
        "endDate": _stamp(visit.end),
        "participantsNumber": visit.participants_number,
        "participants": participants,
    }


def envelope(event_id: str, kind: str, data: dict, *, now: datetime) -> dict:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": settings.VISIT_EVENTS_SOURCE,
        "type": kind,
        "subject": data["teleconsultationId"],
        "time": _stamp(now),
        "datacontenttype": "application/json",
        "data": data,
    }


def changes(before: Teleconsultation | None, after: Teleconsultation) -> list[tuple[str, dict]]:
    """The events a write tells: (type, data). An update is told when what its payload shows
    changed (or the recording mode): a new Kaleyra room, or new join links, tell a receiver
    nothing."""
    if before is None:
        return [(CREATED, visit_data(after))]
    if after.state == State.TRASH and before.state != State.TRASH:
        return [(DELETED, visit_data(after))]
    told = visit_data(after)
    if told != visit_data(before) or before.recording != after.recording:
        return [(UPDATED, told)]
    return []


def record(events: Iterable[tuple[str, dict]], *, key: str = "") -> int:
    """Records each event for every receiver (none when VISIT_EVENTS_URLS is empty); `key` makes
    an event the worker emits once only (its rows already there: nothing recorded). Call inside
    the change's transaction; the number of rows recorded."""
    urls: Sequence[str] = settings.VISIT_EVENTS_URLS
    if not urls:
        return 0
    now = timezone.now()
    rows: list[models.VisitEvent] = []
    for kind, data in events:
        event_id = str(uuid.uuid4())
        body = envelope(event_id, kind, data, now=now)
        rows.extend(
            models.VisitEvent(
                event_id=event_id,
                key=key or event_id,
                type=kind,
                teleconsultation_id=data["teleconsultationId"],
                url=url,
                body=body,
                created_at=now,
                next_attempt_at=now,
            )
            for url in urls
        )
    if not rows:
        return 0
    if not key:
        models.VisitEvent.objects.bulk_create(rows)
        return len(rows)
    try:
        with transaction.atomic():
            models.VisitEvent.objects.bulk_create(rows)
    except IntegrityError:  # emitted already, by this run or one before
        return 0
    return len(rows)


def record_changes(pairs: Iterable[tuple[Teleconsultation | None, Teleconsultation]]) -> None:
    """The events of the writes of one transaction (before None: a new visit). The Django backend
    calls it only with visit events on."""
    record(event for before, after in pairs for event in changes(before, after))


# --- the worker's side ------------------------------------------------------------------------
def due(now: datetime, *, limit: int) -> list[int]:
    return list(
        models.VisitEvent.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def count_due(now: datetime) -> int:
    return models.VisitEvent.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).count()


def get(row_id: int) -> models.VisitEvent | None:
    return models.VisitEvent.objects.filter(id=row_id).first()


def mark_sent(row_id: int, *, now: datetime) -> None:
    models.VisitEvent.objects.filter(id=row_id).update(
        status=Status.SENT, sent_at=now, attempts=F("attempts") + 1, last_error=""
    )


def mark_failed(row_id: int, *, error: str, next_attempt_at: datetime | None) -> None:
    """A failed attempt: tried again at `next_attempt_at`, or dead (None)."""
    models.VisitEvent.objects.filter(id=row_id).update(
        status=Status.PENDING if next_attempt_at else Status.DEAD,
        attempts=F("attempts") + 1,
        last_error=error[:255],
        **({"next_attempt_at": next_attempt_at} if next_attempt_at else {}),
    )


def revive(row_ids: Sequence[int], *, now: datetime) -> int:
    """Dead events sent again from now, with a fresh retry span (the admin's "retry")."""
    return models.VisitEvent.objects.filter(id__in=row_ids, status=Status.DEAD).update(
        status=Status.PENDING, attempts=0, created_at=now, next_attempt_at=now
    )


def purge(*, created_before: datetime) -> int:
    """Sent and dead events recorded before `created_before` forgotten; pending ones kept."""
    deleted, _by_model = models.VisitEvent.objects.filter(
        created_at__lt=created_before, status__in=[Status.SENT, Status.DEAD]
    ).delete()
    return deleted


def visits_starting(now: datetime, lead: timedelta, *, limit: int = 1000) -> list[str]:
    """The ids of the live visits whose start is at most `lead` away and not passed."""
    query = models.Teleconsultation.objects.filter(
        state=State.PUBLIC, start__gt=now, start__lte=now + lead
    )
    return list(query.order_by("start", "id").values_list("id", flat=True)[:limit])


def visits_ended(now: datetime, since: datetime, *, limit: int = 1000) -> list[str]:
    """The ids of the live visits that ended after `since` and by `now`."""
    query = models.Teleconsultation.objects.filter(state=State.PUBLIC, end__gt=since, end__lte=now)
    return list(query.order_by("end", "id").values_list("id", flat=True)[:limit])


# --- a person erased (`rooms.services.person`) -------------------------------------------------
def bodies_of(teleconsultation_ids: Sequence[str]) -> list[tuple[int, dict]]:
    """(row id, body) of every outbox row of these visits, whatever its status."""
    rows = models.VisitEvent.objects.filter(teleconsultation_id__in=list(teleconsultation_ids))
    return list(rows.order_by("id").values_list("id", "body"))


def rewrite_bodies(bodies: Sequence[tuple[int, dict]]) -> None:
    """Writes each body in place of its row's (its status, attempts and times kept)."""
    with transaction.atomic():
        for row_id, body in bodies:
            models.VisitEvent.objects.filter(id=row_id).update(body=body)
