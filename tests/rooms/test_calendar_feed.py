"""The agenda as iCalendar: POST/DELETE /calendar-feeds with the caller's identity, and
GET /calendar/<secret>.ics without it, parsed with the `icalendar` package, on both backends."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.test import Client

from tests.rooms.conftest import NOW, START, audit_trail, doctor, patient

pytestmark = [pytest.mark.django_db]

FEED_URL = re.compile(r"^http://testserver/calendar/(?P<secret>[A-Za-z0-9_-]{43})\.ics$")


@pytest.fixture(autouse=True)
def backend(storage_backend, request, settings):
    """Both backends; the CRUD one with the feeds' collection as docs/crud.md has it."""
    if storage_backend == "crud":
        request.getfixturevalue("crud_simulator").configure(
            settings.CALENDAR_FEEDS_CRUD_NAME, unique=[("externalId",), ("secretHash",)]
        )
    return storage_backend


def make_feed(api, user_id: str) -> str:
    """POST /calendar-feeds as `user_id`: the feed's path."""
    response = api.as_user(user_id).post("/calendar-feeds")
    assert response.status_code == 201, response.json()
    url = response.json()["url"]
    assert FEED_URL.match(url), url
    return url.removeprefix("http://testserver")


def fetch(path: str, **headers):
    """The feed as a calendar app fetches it: no gateway headers at all."""
    return Client().get(path, headers=headers)


def events(path: str) -> list:
    response = fetch(path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content).walk("VEVENT")


def only_event(path: str):
    (event,) = events(path)
    return event


def test_making_a_feed_needs_an_identity(api):
    assert api.anonymous().post("/calendar-feeds").status_code == 401
    assert api.anonymous().delete("/calendar-feeds").status_code == 401


def test_each_visit_is_one_event_with_a_stable_uid_in_utc(api, create):
    room_id = create([doctor(), patient(full_name="Mario Bianchi")])
    path = make_feed(api, "patient-1")
    response = fetch(path)
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    event = only_event(path)
    assert str(event["UID"]) == f"{room_id}@teleconsultation-service"
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") == START + timedelta(minutes=30)
    assert b"DTSTART:20261201T100000Z" in response.content
    assert str(event["STATUS"]) == "CONFIRMED"
    assert only_event(path)["UID"] == event["UID"]  # stable across fetches


def test_the_doctors_feed_names_no_patient_by_default(api, create, settings):
    create([doctor(full_name="Dr. Ada"), patient(full_name="Mario Bianchi")])
    path = make_feed(api, "doctor-1")
    body = fetch(path).content
    assert b"Mario" not in body and b"Bianchi" not in body
    assert str(only_event(path)["SUMMARY"]) == "Teleconsultation"


def test_with_calendar_show_names_the_event_names_the_others(api, create, settings):
    settings.CALENDAR_SHOW_NAMES = True
    create([doctor(full_name="Dr. Ada"), patient(full_name="Mario Bianchi")])
    doctors, patients = make_feed(api, "doctor-1"), make_feed(api, "patient-1")
    assert str(only_event(doctors)["SUMMARY"]) == "Teleconsultation with Mario Bianchi"
    assert str(only_event(patients)["SUMMARY"]) == "Teleconsultation with Dr. Ada"


def test_a_feed_holds_only_its_owners_visits(api, create):
    mine = create([doctor("doctor-a"), patient("patient-x")])
    create([doctor("doctor-b"), patient("patient-y")])
    path = make_feed(api, "patient-x")
    assert [str(event["UID"]) for event in events(path)] == [f"{mine}@teleconsultation-service"]


def test_a_patch_bumps_the_sequence(api, create):
    room_id = create([doctor(), patient()])
    path = make_feed(api, "doctor-1")
    before = only_event(path).decoded("SEQUENCE")
    moved = {"start_date": "2026-12-01T11:00:00Z"}
    api.as_user("doctor-1", ("doctor",))
    assert api.patch(f"/teleconsultation/{room_id}", moved, format="json").status_code == 204
    event = only_event(path)
    assert event.decoded("SEQUENCE") > before
    assert event.decoded("DTSTART") == datetime(2026, 12, 1, 11, 0, tzinfo=UTC)


def test_a_deleted_visit_stays_as_cancelled_with_a_higher_sequence(api, create):
    room_id = create([doctor(), patient()])
    path = make_feed(api, "patient-1")
    before = only_event(path).decoded("SEQUENCE")
    assert (
        api.as_user("doctor-1", ("doctor",)).delete(f"/teleconsultation/{room_id}").status_code
        == 204
    )
    event = only_event(path)
    assert str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("SEQUENCE") > before
    assert str(event["UID"]) == f"{room_id}@teleconsultation-service"


def test_a_matching_if_none_match_is_a_304_until_something_changes(api, create):
    room_id = create([doctor(), patient()])
    path = make_feed(api, "patient-1")
    first = fetch(path)
    tag = first["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', tag)
    unchanged = fetch(path, **{"If-None-Match": tag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged["ETag"] == tag
    assert fetch(path, **{"If-None-Match": '"something-else"'}).status_code == 200
    moved = {"end_date": "2026-12-01T10:45:00Z"}
    api.as_user("doctor-1", ("doctor",))
    assert api.patch(f"/teleconsultation/{room_id}", moved, format="json").status_code == 204
    changed = fetch(path, **{"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed["ETag"] != tag
    create([doctor(), patient()], start=START + timedelta(days=1))
    assert fetch(path, **{"If-None-Match": changed["ETag"]}).status_code == 200


def test_a_revoked_feed_is_a_404_and_a_new_one_replaces_the_old(api, create):
    create([doctor(), patient()])
    old = make_feed(api, "patient-1")
    new = make_feed(api, "patient-1")
    assert fetch(old).status_code == 404
    assert len(events(new)) == 1
    assert api.as_user("patient-1").delete("/calendar-feeds").status_code == 204
    response = fetch(new)
    assert response.status_code == 404
    assert response.json()["message"] == "No calendar feed at this address"
    assert fetch(new, **{"If-None-Match": "*"}).status_code == 404
    assert fetch("/calendar/not-a-secret.ics").status_code == 404


def test_visits_ended_over_thirty_days_ago_leave_the_feed(api, create, clock):
    create([doctor(), patient()])  # 10:00-10:30 on NOW's day
    path = make_feed(api, "patient-1")
    clock.move_to(NOW + timedelta(days=30))
    assert len(events(path)) == 1
    clock.move_to(NOW + timedelta(days=31))
    assert events(path) == []


def test_the_secret_is_kept_only_as_its_hash(api, backend, request, settings):
    path = make_feed(api, "patient-1")
    secret = FEED_URL.match("http://testserver" + path)["secret"]
    if backend == "crud":
        crud = request.getfixturevalue("crud_simulator")
        stored = crud.documents(settings.CALENDAR_FEEDS_CRUD_NAME)
    else:
        from rooms.models import CalendarFeed

        stored = list(CalendarFeed.objects.values())
    assert len(stored) == 1
    assert secret not in repr(stored)
    assert hashlib.sha256(secret.encode()).hexdigest() in repr(stored)


def test_a_polling_client_costs_one_query(
    api, create, django_assert_num_queries, django_storage_only
):
    create([doctor(), patient()])
    path = make_feed(api, "patient-1")
    tag = fetch(path)["ETag"]
    with django_assert_num_queries(1):
        assert fetch(path, **{"If-None-Match": tag}).status_code == 304
    with django_assert_num_queries(1):
        assert fetch("/calendar/unknown-secret.ics").status_code == 404


def test_making_and_revoking_a_feed_are_in_the_audit_trail_without_the_secret(api):
    path = make_feed(api, "patient-1")
    assert api.as_user("patient-1").delete("/calendar-feeds").status_code == 204
    made, revoked = audit_trail("calendar_feed.create"), audit_trail("calendar_feed.revoke")
    assert [(e.actor, e.outcome) for e in made] == [("patient-1", "201")]
    assert [(e.actor, e.outcome) for e in revoked] == [("patient-1", "204")]
    secret = FEED_URL.match("http://testserver" + path)["secret"]
    assert secret not in repr(made + revoked)
