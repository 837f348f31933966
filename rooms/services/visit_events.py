"""Visit events out: the outbox (`rooms.storage.visit_events`) delivered to the operator's
receivers, signed, at least once.

Each row is one event for one receiver. `deliver` POSTs its CloudEvents JSON with
`Visit-Events-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with
VISIT_EVENTS_SECRET>`; a 2xx answer marks it sent, anything else (another status, a timeout, no
answer) is tried again after an exponential backoff (1 minute, doubling, at most an hour) until
VISIT_EVENTS_RETRY_HOURS from its creation have passed: then it is dead, shown in the admin,
which can send it again. A receiver may get an event twice (a crash between its answer and the
row's update): the CloudEvents `id` is the same, theirs to de-duplicate on.

`emit_scheduled` records the events no request writes: `visit.starting` once per visit, lead time
(VISIT_EVENTS_LEAD_TIMES) and start, when the start is at most the lead time away; and
`visit.ended` once a visit's end has passed (ids and times: the attendance is not part of it yet).
The worker (`manage.py send_visit_events`, every minute) runs both, so an event reaches a receiver
within a minute of being due.

Only the Django backend records events: the CRUD backend has no transaction to write the outbox
row in along with the change (docs/operations.md).
"""

import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from common.http.client import Answer, OutboundClient
from common.http.session import DEFAULT_POOL_SIZE, build_session
from rooms.domain import Teleconsultation
from rooms.rules.visit_events import backoff, lead_time, signature
from rooms.storage import get_storage
from rooms.storage import visit_events as outbox
from rooms.storage.visit_events import ENDED, STARTING, visit_data
from teleconsultation_project.metrics import VISIT_EVENTS

logger = logging.getLogger("teleconsultation.visit_events")

SIGNATURE_HEADER = "Visit-Events-Signature"
# visit.ended for visits ended this recently: enabling the events does not tell every past visit.
ENDED_WITHIN = timedelta(hours=1)


class DeliveryFailed(Exception):
    pass


def lead_times() -> list[timedelta]:
    return [lead_time(text) for text in settings.VISIT_EVENTS_LEAD_TIMES]


class VisitEventsClient(OutboundClient):
    service = "visit_events"
    logger = logger

    def __init__(self, *, connect_timeout: float = 3.05, read_timeout: float = 10.0):
        session = build_session(
            headers={}, pool_size=DEFAULT_POOL_SIZE, proxy_url="", environment="never"
        )
        super().__init__(
            session=session, connect_timeout=connect_timeout, read_timeout=read_timeout
        )

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        def read(answer: Answer) -> None:
            if not 200 <= answer.status < 300:
                raise DeliveryFailed(f"the receiver answered with status {answer.status}")

        self._attempt("deliver", "POST", url, read, headers=headers, data=body)

    def _transport_error(
        self, operation: str, kind: str, exc: Exception | None, resource: str
    ) -> Exception:
        what = "did not answer in time" if kind == "timeout" else "is unreachable"
        return DeliveryFailed(f"the receiver {what}")


def deliver(row_id: int, *, client: VisitEventsClient | None = None) -> str:
    """One attempt at one pending event: its outcome, `sent`, `retry` or `dead` (or `gone`: not
    pending any more, sent meanwhile by another run)."""
    row = outbox.get(row_id)
    if row is None or row.status != outbox.Status.PENDING:
        return "gone"
    body = json.dumps(row.body, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/cloudevents+json",
        SIGNATURE_HEADER: signature(
            body, timestamp=int(time.time()), secret=settings.VISIT_EVENTS_SECRET
        ),
    }
    try:
        (client or VisitEventsClient()).post(row.url, body, headers)
    except DeliveryFailed as exc:
        now = timezone.now()
        retry_at = now + backoff(row.attempts + 1)
        give_up_at = row.created_at + timedelta(hours=settings.VISIT_EVENTS_RETRY_HOURS)
        outcome = "retry" if retry_at <= give_up_at else "dead"
        outbox.mark_failed(
            row.id, error=str(exc), next_attempt_at=retry_at if outcome == "retry" else None
        )
        log = logger.warning if outcome == "dead" else logger.info
        log(
            "Visit event %s (%s) for visit %s not delivered (%s): %s",
            row.event_id,
            row.type,
            row.teleconsultation_id,
            exc,
            "dead" if outcome == "dead" else f"tried again at {retry_at.isoformat()}",
        )
    else:
        outbox.mark_sent(row.id, now=timezone.now())
        outcome = "sent"
    VISIT_EVENTS.labels(outcome=outcome).inc()
    return outcome


def emit_scheduled(now: datetime | None = None) -> int:
    """Records the `visit.starting` and `visit.ended` events now due; how many rows."""
    if not settings.VISIT_EVENTS_URLS:
        return 0
    now = now or timezone.now()
    recorded = 0
    storage = get_storage()
    for lead in lead_times():
        for visit in _found(storage, outbox.visits_starting(now, lead)):
            data = {**visit_data(visit), "leadTimeSeconds": int(lead.total_seconds())}
            key = f"{visit.id}:{STARTING}:{int(lead.total_seconds())}:{visit.start.isoformat()}"
            recorded += outbox.record([(STARTING, data)], key=key)
    for visit in _found(storage, outbox.visits_ended(now, now - ENDED_WITHIN)):
        key = f"{visit.id}:{ENDED}:{visit.end.isoformat()}"
        recorded += outbox.record([(ENDED, visit_data(visit))], key=key)
    return recorded


def _found(storage, visit_ids: list[str]) -> Iterator[Teleconsultation]:
    for visit_id in visit_ids:
        visit = storage.find(visit_id)
        if visit is not None:
            yield visit


def retry_dead(row_ids: list[int]) -> int:
    """The admin's "retry": dead events pending again, with a fresh retry span."""
    return outbox.revive(row_ids, now=timezone.now())
