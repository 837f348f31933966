"""Attendance (issue #25): who joined a visit's calls, fetched from Kaleyra's sessions after the
visit is over by `collect_attendance` (or the admin's "Collect attendance"), shown to the visit's
participants on `GET /teleconsultation/{id}/attendance` and to support on the visit's page; a
visit with fewer than two participants joined is a no-show, filterable in the admin and counted in
`teleconsultation_no_shows_total`."""

from datetime import timedelta
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from prometheus_client.parser import text_string_to_metric_families

from kaleyra.types import RoomSession, SessionParticipant
from rooms.domain import Attendance, Attendee, Participant, Teleconsultation
from rooms.services import attendance, support
from rooms.storage import get_storage
from tests.rooms.conftest import NOW, START, audit_trail, doctor, patient, stored

pytestmark = [pytest.mark.django_db]

LIST = "/admin/rooms/teleconsultation/"
END = START + timedelta(minutes=30)
AFTER = END + timedelta(hours=1)  # over, and settled (collect_attendance waits 30 minutes)
DOCTOR = ("doctor-1", ("doctor",))
PATIENT = ("patient-1", ("customer",))


def links_of(api, visit: str) -> list[str]:
    """Each participant's join link, as their GET hands it out (the clock at the start)."""
    found = []
    for user_id, groups in (DOCTOR, PATIENT):
        api.as_user(user_id, groups)
        found.append(api.get(f"/teleconsultation/{visit}").json()["accessLinkURL"])
    return found


def collect(*arguments: str) -> str:
    out = StringIO()
    call_command("collect_attendance", *arguments, "--concurrency", "1", stdout=out, stderr=out)
    return out.getvalue()


def no_shows(client) -> float:
    """`teleconsultation_no_shows_total` as a scrape of /-/metrics shows it."""
    response = client.get("/-/metrics")
    assert response.status_code == 200
    families = text_string_to_metric_families(response.content.decode())
    samples = {sample.name: sample.value for family in families for sample in family.samples}
    return samples["teleconsultation_no_shows_total"]


# --- the done-when, over the HTTP simulator, on both backends ----------------------------------


def test_two_participants_who_open_their_links_are_both_in_the_attendance(
    api, create, simulator_http, storage_backend, clock
):
    visit = create([doctor(), patient(full_name="Mario Bianchi")])
    clock.move_to(START)
    doctor_link, patient_link = links_of(api, visit)
    assert requests.get(doctor_link, timeout=5).status_code == 200
    clock.move_to(START + timedelta(minutes=2))
    assert requests.get(patient_link, timeout=5).status_code == 200
    clock.move_to(START + timedelta(minutes=12))
    assert requests.post(patient_link, data={"action": "leave"}, timeout=5).status_code == 200
    api.as_user(*PATIENT)
    before = api.get(f"/teleconsultation/{visit}/attendance")
    assert before.status_code == 200
    assert before.json() == {"collectedAt": None, "noShow": None, "participants": []}

    clock.move_to(AFTER)
    told = collect()

    assert "1 teleconsultation(s) over to collect" in told and "2 joined" in told
    shown = api.get(f"/teleconsultation/{visit}/attendance").json()
    assert shown["collectedAt"] == "2026-12-01T11:30:00.000Z"
    assert shown["noShow"] is False
    members = {member.external_id: member for member in stored(visit).participants}
    assert shown["participants"] == [
        {
            "userId": "doctor-1",
            "bandyerUserId": members["doctor-1"].kaleyra_user_id,
            "joinedAt": "2026-12-01T10:00:00.000Z",
            "leftAt": "2026-12-01T10:12:00.000Z",  # the call ended when the patient left
            "secondsInCall": 720,
            "sessions": 1,
        },
        {
            "userId": "patient-1",
            "bandyerUserId": members["patient-1"].kaleyra_user_id,
            "joinedAt": "2026-12-01T10:02:00.000Z",
            "leftAt": "2026-12-01T10:12:00.000Z",
            "secondsInCall": 600,
            "sessions": 1,
        },
    ]
    (entry,) = audit_trail("attendance.collect")
    assert (entry.teleconsultation_id, entry.actor, entry.outcome) == (
        visit,
        "collect_attendance",
        "done",
    )
    assert "0 teleconsultation(s) over to collect" in collect()  # collected once: left alone


def test_a_visit_nobody_joined_is_a_no_show_in_the_admin_filter_and_counted_once(
    api, create, simulator_http, admin_client, clock
):
    attended = create([doctor(), patient()])
    deserted = create([doctor("doctor-2"), patient("patient-2")])
    clock.move_to(START)
    for link in links_of(api, attended):
        assert requests.get(link, timeout=5).status_code == 200
    counted = no_shows(admin_client)

    clock.move_to(AFTER)
    collect()

    def listed(query: str) -> set[str]:
        page = admin_client.get(f"{LIST}?{query}")
        assert page.status_code == 200
        return {visit.pk for visit in page.context["cl"].result_list}

    assert listed("attendance=no-show") == {deserted}
    assert listed("attendance=attended") == {attended}
    assert listed("attendance=uncollected") == set()
    assert no_shows(admin_client) == counted + 1
    (run,) = audit_trail("command.collect_attendance")
    assert (run.detail["done"], run.detail["noShows"]) == (2, 1)
    collect("--again")
    assert no_shows(admin_client) == counted + 1  # marked before: not counted again
    page = admin_client.get(f"{LIST}{deserted}/change/").content.decode()
    panel = page[page.index('id="attendance"') :]
    assert "no-show" in panel


def test_the_admin_button_collects_one_visit_and_its_page_shows_who_joined(
    api, create, simulator, admin_client, clock
):
    visit = create([doctor(), patient()])
    clock.move_to(START)
    doctor_link, patient_link = links_of(api, visit)
    simulator.open_link(doctor_link)
    simulator.open_link(patient_link)  # still in the call: no leave yet
    page = admin_client.get(f"{LIST}{visit}/change/").content.decode()
    assert "Not collected yet" in page[page.index('id="attendance"') :]

    clock.move_to(START + timedelta(minutes=5))
    asked = admin_client.get(f"{LIST}{visit}/run/collect_attendance/")
    assert asked.status_code == 200 and "Collect attendance?" in asked.content.decode()
    done = admin_client.post(f"{LIST}{visit}/run/collect_attendance/", {"post": "yes"})

    assert done.status_code == 302
    page = admin_client.get(f"{LIST}{visit}/change/").content.decode()
    panel = page[page.index('id="attendance"') :]
    assert "2 joined" in panel and "doctor-1" in panel and "patient-1" in panel
    assert "still in a call" in panel and "0:05:00" in panel


# --- who may see it -----------------------------------------------------------------------------


def test_only_the_visit_s_participants_see_its_attendance(api, visit):
    api.as_user(None)
    assert api.get(f"/teleconsultation/{visit}/attendance").status_code == 401
    api.as_user("stranger-9", ("doctor",))
    refused = api.get(f"/teleconsultation/{visit}/attendance")
    assert refused.status_code == 401
    assert refused.json()["message"] == "Unauthorized user"
    api.as_user(*PATIENT)
    unknown = api.get("/teleconsultation/0123456789abcdef01234567/attendance")
    assert unknown.status_code == 404
    assert api.get(f"/teleconsultation/{visit}/attendance").status_code == 200


# --- the command ---------------------------------------------------------------------------------


def test_a_dry_run_says_what_it_would_collect_and_stores_nothing(create, simulator, clock):
    visit = create([doctor(), patient()])
    clock.move_to(AFTER)

    told = collect("--dry-run")

    assert f"would collect the attendance of {visit}" in told
    assert get_storage().attendance(visit) is None


def test_a_visit_not_settled_yet_or_ended_long_ago_is_left_for_later(create, simulator, clock):
    create([doctor(), patient()])
    clock.move_to(END + timedelta(minutes=10))  # its call may still run over
    assert "0 teleconsultation(s) over to collect" in collect()
    clock.move_to(END + timedelta(days=8))
    assert "0 teleconsultation(s) over to collect" in collect()
    assert "1 teleconsultation(s) over to collect" in collect("--ended-within-days", "9")


def test_one_visit_by_its_id_is_collected_whenever_asked(create, simulator, clock):
    visit = create([doctor(), patient()])
    told = collect("--room", visit)  # not over yet: support asked for it anyway
    assert "no-show, 0 joined" in told
    assert get_storage().attendance(visit).no_show


def test_an_unknown_visit_fails_the_run_with_its_reason(simulator):
    with pytest.raises(Exception, match="1 item"):
        collect("--room", "0123456789abcdef01234567")


# --- the storage, both backends ------------------------------------------------------------------


def test_attendance_is_stored_once_per_visit_and_replaced_when_collected_again(
    create, simulator, storage_backend
):
    first, second = create([doctor(), patient()]), create([doctor(), patient("patient-2")])
    storage = get_storage()
    joined = Attendee("doctor-1", "tc-1", NOW, NOW + timedelta(minutes=3), 180, 1)
    assert storage.without_attendance([first, second]) == [first, second]

    assert storage.save_attendance(Attendance(first, NOW, (joined,))) is None
    again = Attendance(first, NOW + timedelta(hours=1), (joined, joined))
    replaced = storage.save_attendance(again)

    assert replaced == Attendance(first, NOW, (joined,)) and replaced.no_show
    assert storage.attendance(first) == again and not again.no_show
    assert storage.attendance(second) is None
    assert storage.without_attendance([second, first]) == [second]


# --- from sessions to attendees ------------------------------------------------------------------


def test_attendees_sum_their_sessions_and_keep_a_user_the_visit_no_longer_names():
    visit = Teleconsultation(
        id="0123456789abcdef01234567",
        participants_number=2,
        start=START,
        end=END,
        participants=(
            Participant("doctor-1", ("doctor",), "Dr. Ada", "plus", "tc-doc"),
            Participant("patient-1", ("customer",), "Mario", "basic", "tc-pat"),
            Participant("nurse-1", ("customer",), "Nurse", "basic", "tc-nurse"),
        ),
    )
    at = lambda minutes: START + timedelta(minutes=minutes)  # noqa: E731
    sessions = [
        RoomSession(
            "s1",
            "room",
            at(0),
            at(10),
            (
                SessionParticipant("tc-pat", at(1), at(10)),
                SessionParticipant("tc-doc", at(0), None),  # left when the call ended
                SessionParticipant("tc-gone", at(2), at(4)),
            ),
        ),
        RoomSession(
            "s2",
            "room",
            at(20),
            None,
            (
                SessionParticipant("tc-doc", at(20), None),
                SessionParticipant("tc-pat", at(21), at(25)),
            ),
        ),
    ]

    found = attendance.attendees(visit, sessions, now=at(30))

    assert found == (
        Attendee("doctor-1", "tc-doc", at(0), None, 600 + 600, 2),  # still in the second call
        Attendee("patient-1", "tc-pat", at(1), at(25), 540 + 240, 2),
        Attendee("", "tc-gone", at(2), at(4), 120, 1),
    )


def test_a_visit_erased_from_the_trash_takes_its_attendance_with_it(
    create, simulator, storage_backend, clock
):
    visit = create([doctor(), patient()])
    clock.move_to(AFTER)
    collect("--room", visit)
    support.one(support.move_to_trash, visit, actor="test")
    storage = get_storage()
    assert storage.attendance(visit) is not None  # in the trash: kept

    assert storage.erase_trashed([visit]) == [visit]

    assert storage.attendance(visit) is None
