"""Visit events out: what a receiver at VISIT_EVENTS_URLS gets from `send_visit_events` (signed
CloudEvents, at least once, retried with backoff, dead-lettered in the admin) and when
`visit.starting` reaches it. The receiver is `responses` (no network); the clock is moved by hand
as a CronJob's minutes pass."""

import hashlib
import hmac
import json
from datetime import timedelta
from io import StringIO

import pytest
import responses
from django.core.management import call_command
from django.core.management.base import CommandError
from prometheus_client.parser import text_string_to_metric_families

from rooms.checks import check_visit_events
from rooms.rules.visit_events import backoff, lead_time
from rooms.services.visit_events import SIGNATURE_HEADER
from tests.rooms.conftest import NOW, START, doctor, patient, use_mia_collections

pytestmark = [pytest.mark.django_db]

RECEIVER = "https://receiver.example.test/hooks/visits"
SECRET = "whsec-test-secret"
OUTBOX = "/admin/rooms/visitevent/"


@pytest.fixture(autouse=True)
def events_on(settings):
    settings.VISIT_EVENTS_URLS = [RECEIVER]
    settings.VISIT_EVENTS_SECRET = SECRET
    settings.VISIT_EVENTS_LEAD_TIMES = ["15m"]
    settings.VISIT_EVENTS_RETRY_HOURS = 24


class Receiver:
    """Answers each event's first `failures` deliveries with a 500, then 200; keeps what it
    accepted (verified signature, parsed body) and every attempt."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        self.attempts: dict[str, int] = {}
        self.accepted: list[dict] = []

    def __call__(self, request):
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        event = json.loads(body)
        tries = self.attempts[event["id"]] = self.attempts.get(event["id"], 0) + 1
        if tries <= self.failures:
            return 500, {}, "down"
        assert valid_signature(request.headers[SIGNATURE_HEADER], body)
        assert request.headers["Content-Type"] == "application/cloudevents+json"
        self.accepted.append(event)
        return 200, {}, ""


def valid_signature(header: str, body: bytes) -> bool:
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(parts["v1"], expected.hexdigest())


@pytest.fixture
def receiver():
    answering = Receiver()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, RECEIVER, callback=answering)
        yield answering


def send_events() -> str:
    out = StringIO()
    call_command("send_visit_events", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_receiver_failing_twice_gets_each_event_once_signed_and_without_names(
    receiver, create, api, clock
):
    receiver.failures = 2
    visit = create([doctor(), patient(full_name="Paola Rossi")])
    later = START + timedelta(hours=1)
    response = api.patch(
        f"/teleconsultation/{visit}",
        {"start_date": later.isoformat(), "end_date": (later + timedelta(minutes=30)).isoformat()},
        format="json",
    )
    assert response.status_code == 204

    send_events()  # both fail: tried again a minute later
    assert receiver.accepted == []
    clock.move_to(NOW + backoff(1))
    send_events()  # fail again: two minutes later
    assert receiver.accepted == []
    clock.move_to(NOW + backoff(1) + backoff(2))
    send_events()
    clock.move_to(NOW + timedelta(hours=1))
    send_events()  # nothing left to send

    assert [event["type"] for event in receiver.accepted] == ["visit.created", "visit.updated"]
    assert len({event["id"] for event in receiver.accepted}) == 2
    assert set(receiver.attempts.values()) == {3}
    created, updated = receiver.accepted
    assert created["specversion"] == "1.0"
    assert created["source"] == "/teleconsultation"
    assert created["datacontenttype"] == "application/json"
    assert created["data"]["teleconsultationId"] == visit
    assert [member["userId"] for member in created["data"]["participants"]] == [
        "doctor-1",
        "patient-1",
    ]
    assert updated["data"]["startDate"] == later.isoformat().replace("+00:00", "Z")
    sent = json.dumps(receiver.accepted)
    assert "Paola Rossi" not in sent and "Dr. Ada" not in sent and "http" not in sent


def test_names_go_out_only_when_the_operator_opts_in(receiver, create, settings):
    settings.VISIT_EVENTS_PERSONAL_DATA = True
    create([doctor(), patient(full_name="Paola Rossi")])
    send_events()
    names = [member["fullName"] for member in receiver.accepted[0]["data"]["participants"]]
    assert names == ["Dr. Ada", "Paola Rossi"]


def test_a_deleted_visit_is_told_once_as_deleted(receiver, create, api):
    visit = create([doctor(), patient()])
    assert api.delete(f"/teleconsultation/{visit}").status_code == 204
    send_events()
    assert [event["type"] for event in receiver.accepted] == ["visit.created", "visit.deleted"]


def visit_events_total(client) -> dict[str, float]:
    text = client.get("/-/metrics").content.decode()
    return {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "teleconsultation_visit_events"
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def test_a_receiver_down_for_the_whole_span_leaves_the_event_dead_in_the_admin(
    receiver, create, clock, settings, admin_client
):
    receiver.failures = 1000
    settings.VISIT_EVENTS_RETRY_HOURS = 0.1  # six minutes: tries at 0, 1 and 3 minutes
    before = visit_events_total(admin_client)
    create([doctor(), patient()])

    send_events()
    clock.move_to(NOW + timedelta(minutes=1))
    send_events()
    clock.move_to(NOW + timedelta(minutes=3))
    with pytest.raises(CommandError, match="1 item"):
        send_events()  # dead: the run fails, for someone to look at the receiver
    clock.move_to(NOW + timedelta(hours=2))
    send_events()  # a dead event is not tried again
    assert list(receiver.attempts.values()) == [3]

    page = admin_client.get(OUTBOX, {"status__exact": "dead"}).content.decode()
    assert "visit.created" in page and "the receiver answered with status 500" in page
    after = visit_events_total(admin_client)
    assert after.get("dead", 0) - before.get("dead", 0) == 1
    assert after.get("retry", 0) - before.get("retry", 0) == 2

    # "retry" in the admin: pending again, sent by the next run once the receiver is back.
    dead_id = admin_client.get(OUTBOX).context["cl"].result_list[0].id
    answer = admin_client.post(OUTBOX, {"action": "retry", "_selected_action": [dead_id]})
    assert answer.status_code == 302
    receiver.failures = 0
    send_events()
    assert [event["type"] for event in receiver.accepted] == ["visit.created"]
    page = admin_client.get(OUTBOX, {"status__exact": "sent"}).content.decode()
    assert "visit.created" in page


def test_the_outbox_is_read_only_in_the_admin(receiver, create, admin_client):
    create([doctor(), patient()])
    row = admin_client.get(OUTBOX).context["cl"].result_list[0]
    page = admin_client.get(f"{OUTBOX}{row.id}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.get(f"{OUTBOX}add/").status_code == 403


def test_visit_starting_arrives_within_a_minute_of_its_lead_time(receiver, create, clock):
    create([doctor(), patient()])  # starts at START, two hours from now
    arrived = None
    minute = START - timedelta(minutes=20)
    while minute <= START - timedelta(minutes=10):  # a CronJob every minute
        clock.move_to(minute)
        send_events()
        if arrived is None and any(e["type"] == "visit.starting" for e in receiver.accepted):
            arrived = minute
        minute += timedelta(seconds=60)

    starting = [event for event in receiver.accepted if event["type"] == "visit.starting"]
    assert len(starting) == 1  # once per visit and lead time
    due = START - lead_time("15m")
    assert arrived is not None and due <= arrived < due + timedelta(minutes=1)
    assert starting[0]["data"]["leadTimeSeconds"] == 900
    assert starting[0]["data"]["teleconsultationId"] == receiver.accepted[0]["subject"]


def test_no_receivers_no_events(receiver, create, settings):
    settings.VISIT_EVENTS_URLS = []
    create([doctor(), patient()])
    assert "no visit events" in send_events()
    assert receiver.attempts == {}


def test_a_lead_time_that_does_not_read_is_refused(settings):
    settings.VISIT_EVENTS_LEAD_TIMES = ["soon"]
    with pytest.raises(CommandError, match="'soon' is not a lead time"):
        call_command("send_visit_events", stdout=StringIO(), stderr=StringIO())


def test_with_the_crud_backend_no_event_is_recorded_and_the_worker_says_why(
    receiver, create, settings, crud_simulator
):
    use_mia_collections(crud_simulator, settings)
    create([doctor(), patient()])
    with pytest.raises(CommandError, match="Visit events need the Django backend"):
        send_events()
    assert receiver.attempts == {}
    assert [check.id for check in check_visit_events(None)] == ["rooms.W020"]


def test_the_settings_are_checked_at_start_up(settings):
    settings.VISIT_EVENTS_LEAD_TIMES = ["15m", "0m", "tomorrow"]
    settings.VISIT_EVENTS_SECRET = ""
    problems = {check.id: check.msg for check in check_visit_events(None)}
    assert problems == {
        "rooms.E020": "VISIT_EVENTS_LEAD_TIMES: 'tomorrow' is not a lead time such as 24h or 15m",
        "rooms.E021": "VISIT_EVENTS_URLS is set but VISIT_EVENTS_SECRET is empty: events would "
        "go out unsigned",
    }
    settings.VISIT_EVENTS_URLS = []
    settings.VISIT_EVENTS_LEAD_TIMES = ["24h"]
    assert check_visit_events(None) == []


def test_a_participant_added_is_told_as_an_update(receiver, create, api):
    visit = create([doctor()], number=2)
    answer = api.post(f"/teleconsultation/{visit}/participants/data", patient(), format="json")
    assert answer.status_code == 201, answer.content
    send_events()
    assert [event["type"] for event in receiver.accepted] == ["visit.created", "visit.updated"]
    assert len(receiver.accepted[1]["data"]["participants"]) == 2


def test_visits_moved_to_the_trash_by_cleanup_are_told_as_deleted(receiver, create, clock):
    create([doctor(), patient()])
    clock.move_to(NOW + timedelta(days=40))
    call_command(
        "cleanup_teleconsultations", "--older-than-days", "30", stdout=StringIO(), stderr=StringIO()
    )
    send_events()
    assert [event["type"] for event in receiver.accepted] == ["visit.created", "visit.deleted"]


def test_visit_ended_is_told_once_after_the_end(receiver, create, clock):
    create([doctor(), patient()], duration=1800)  # ends at START + 30 minutes
    clock.move_to(START + timedelta(minutes=29))
    send_events()
    assert "visit.ended" not in [event["type"] for event in receiver.accepted]
    for minutes in (31, 32, 50):
        clock.move_to(START + timedelta(minutes=minutes))
        send_events()
    ended = [event for event in receiver.accepted if event["type"] == "visit.ended"]
    assert len(ended) == 1
    assert ended[0]["data"]["endDate"] == (START + timedelta(minutes=30)).isoformat().replace(
        "+00:00", "Z"
    )


def test_switching_the_events_on_does_not_tell_visits_long_over(receiver, create, clock, settings):
    settings.VISIT_EVENTS_URLS = []
    create([doctor(), patient()])
    settings.VISIT_EVENTS_URLS = [RECEIVER]
    clock.move_to(START + timedelta(days=1))
    send_events()
    assert receiver.attempts == {}


def test_a_support_user_retries_a_dead_event(receiver, create, clock, settings, client):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("helpdesk", is_staff=True)
    user.groups.set([Group.objects.get(name="Support")])
    client.force_login(user)
    receiver.failures = 1
    settings.VISIT_EVENTS_RETRY_HOURS = 0  # the first failure is the last
    create([doctor(), patient()])
    with pytest.raises(CommandError):
        send_events()
    dead = client.get(OUTBOX, {"status__exact": "dead"}).context["cl"].result_list
    assert [event.type for event in dead] == ["visit.created"]
    client.post(OUTBOX, {"action": "retry", "_selected_action": [dead[0].id]})
    send_events()
    assert [event["type"] for event in receiver.accepted] == ["visit.created"]


def test_sent_and_dead_events_are_forgotten_after_the_keeping_days(receiver, create, clock):
    from rooms.models import VisitEvent  # the outbox is the Django backend's table

    create([doctor(), patient()])
    send_events()  # sent
    receiver.failures = 1000
    create([doctor("doctor-2"), patient("patient-2")])
    send_events()  # failed once: pending for a day, then dead
    clock.move_to(NOW + timedelta(days=29))
    with pytest.raises(CommandError):
        send_events()  # the second is dead by now
    assert VisitEvent.objects.count() == 2
    clock.move_to(NOW + timedelta(days=30, minutes=1))
    send_events()
    assert VisitEvent.objects.count() == 0
