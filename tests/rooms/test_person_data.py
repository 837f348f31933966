"""A person's data exported and erased (`export_person`, `erase_person`): the export holds their
visits and audit entries; afterwards no table and no CRUD collection holds their name or external
id, their Kaleyra user is inactive, and the doctor still sees the visit, the person in it without
a name. Against both storage backends and the in-process Kaleyra simulator."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from kaleyra.ids import kaleyra_user_id_for
from rooms.selectors.person import EPOCH
from rooms.services import support
from rooms.services.person import pseudonym
from rooms.services.support import Result
from rooms.storage import get_storage
from tests.rooms.conftest import START, doctor, mapping, patient, stored
from tests.rooms.kaleyra_events import deliver, envelope
from tests.rooms.recorded_calls import announce, hold_a_call, recording_exists

pytestmark = [pytest.mark.usefixtures("storage_backend"), pytest.mark.django_db]

NAME = "Mario Bianchi"
PATIENT = "patient-1"
LINKS_OUT = START - timedelta(minutes=10)  # the links are handed out, the call not begun


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args) -> str:
    with pytest.raises(CommandError) as failure:
        call_command(*args, stdout=StringIO(), stderr=StringIO())
    return str(failure.value)


@pytest.fixture
def two_visits(create, simulator, clock, api, settings):
    """Two visits of Mario Bianchi with Dr. Ada, his join link to the first handed out."""
    settings.IMMUTABLE_PERIOD_MS = 15 * 60 * 1000  # links handed out 15 minutes early
    first = create([doctor(), patient(PATIENT, full_name=NAME)])
    second = create([doctor(), patient(PATIENT, full_name=NAME)], start=START + timedelta(days=1))
    clock.move_to(LINKS_OUT)
    answer = api.as_user(PATIENT, ("customer",)).get(f"/teleconsultation/{first}")
    assert answer.json()["accessLinkURL"]
    return first, second


def everything_stored() -> str:
    """Every row of every table of the service, or every document of every CRUD collection."""
    if settings.STORAGE_BACKEND == "crud":
        names = [
            settings.TELECONSULTATIONS_CRUD_NAME,
            settings.USER_ID_MAP_CRUD_NAME,
            settings.ROOM_JOBS_CRUD_NAME,
            settings.AUDIT_CRUD_NAME,
            settings.WEBHOOK_EVENTS_CRUD_NAME,
            settings.ATTENDANCE_CRUD_NAME,
            settings.CALENDAR_FEEDS_CRUD_NAME,
        ]
        return json.dumps([_crud_handle.documents(name) for name in names], default=str)
    rows = [list(model.objects.values()) for model in apps.get_models()]
    return json.dumps(rows, default=str)


_crud_handle = None  # the CRUD simulator of the running test, with that backend


@pytest.fixture(autouse=True)
def _remember_crud(request, storage_backend):
    global _crud_handle
    _crud_handle = request.getfixturevalue("crud_simulator") if storage_backend == "crud" else None


def exported(*args) -> dict:
    out, _ = run("export_person", PATIENT, *args)
    return json.loads(out)


def test_export_then_erase_leaves_no_name_or_id_and_the_doctor_still_sees_the_visit(
    two_visits, simulator, api
):
    first, second = two_visits
    document = exported()

    assert {visit["roomId"] for visit in document["visits"]} == {first, second}
    assert [record["fullName"] for record in document["participantRecords"]] == [NAME, NAME]
    assert {entry["teleconsultationId"] for entry in document["auditEntries"]} >= {first, second}
    assert [link["teleconsultationId"] for link in document["linksHandedOut"]] == [first]
    assert document["kaleyraUser"]["kaleyraUserId"] == kaleyra_user_id_for(PATIENT)
    assert "http" not in json.dumps(document)  # no join link, ever
    assert PATIENT in everything_stored() and NAME in everything_stored()

    run("erase_person", PATIENT)

    kept = everything_stored()
    assert PATIENT not in kept and NAME not in kept
    assert kaleyra_user_id_for(PATIENT) not in kept
    assert pseudonym(PATIENT) in kept
    assert simulator.engine.get_user(kaleyra_user_id_for(PATIENT))["active"] is False
    assert simulator.engine.get_user(kaleyra_user_id_for("doctor-1"))["active"] is True
    assert mapping(PATIENT) is None
    for visit in (first, second):
        answer = api.as_user("doctor-1", ("doctor",)).get(f"/teleconsultation/{visit}")
        assert answer.status_code == 200, answer.json()
        assert answer.json()["accessLinkURL"] or visit == second  # the doctor's own link
        members = answer.json()["participantsBandyerCall"]
        assert [member["fullName"] for member in members] == ["Dr. Ada", ""]
        assert members[1]["bandyerUserId"] == pseudonym(PATIENT)
        assert stored(visit).participants[1].external_id == pseudonym(PATIENT)
    # Nobody is handed the erased person's link any more.
    assert api.as_user(PATIENT, ("customer",)).get(f"/teleconsultation/{first}").status_code in (
        401,
        403,
        404,
    )


def test_a_dry_run_changes_nothing(two_visits, simulator):
    before = everything_stored()
    out, _ = run("erase_person", PATIENT, "--dry-run")
    assert "would erase the participant from teleconsultation" in out
    assert "would deactivate Kaleyra user" in out
    after = everything_stored()
    assert NAME in after and mapping(PATIENT) is not None
    assert simulator.engine.get_user(kaleyra_user_id_for(PATIENT))["active"] is True
    assert after.count(PATIENT) >= before.count(PATIENT)  # only the run's own entry added

    out, _ = run("export_person", PATIENT, "--dry-run")
    assert out.startswith("Dry run, nothing written: would export 2 visits")


def test_erasing_twice_finds_nothing_more_to_do(two_visits, simulator):
    run("erase_person", PATIENT)
    kept = everything_stored()

    out, _ = run("erase_person", PATIENT)

    assert "participant erased" not in out
    assert PATIENT not in everything_stored()
    assert everything_stored().count(pseudonym(PATIENT)) >= kept.count(pseudonym(PATIENT))
    assert exported()["visits"] == []


def test_a_visit_in_progress_is_refused_unless_forced(two_visits, clock, tmp_path):
    clock.move_to(START + timedelta(minutes=5))
    first, _ = two_visits

    refusal = run_failing("erase_person", PATIENT)
    assert first in refusal and "--force" in refusal
    assert NAME in everything_stored()
    assert first in run_failing("export_person", PATIENT)

    target = tmp_path / "person.json"
    run("export_person", PATIENT, "--force", "--output", str(target))
    assert len(json.loads(target.read_text())["visits"]) == 2
    run("erase_person", PATIENT, "--force")
    assert NAME not in everything_stored()


def test_each_run_is_audited_the_erasure_by_pseudonym_only(two_visits):
    run("export_person", PATIENT)
    run("erase_person", PATIENT)

    entries = [e for batch in get_storage().audit_entries(since=EPOCH) for e in batch]
    erasure = [e for e in entries if e.action == "command.erase_person"]
    assert [e.detail["person"] for e in erasure] == [pseudonym(PATIENT)]
    (export,) = [e for e in entries if e.action == "person.export"]
    assert export.detail["userId"] == pseudonym(PATIENT)  # rewritten by the erasure


def test_the_recordings_of_their_visits_go_and_kaleyra_events_naming_them_are_pseudonymised(
    create, simulator, api
):
    visit = create([doctor(), patient(PATIENT, full_name=NAME)], recording="automatic")
    session = hold_a_call(simulator, visit)
    announce(visit, session)
    room = stored(visit).kaleyra_room_id
    joined = {"room_id": room, "user_id": kaleyra_user_id_for(PATIENT)}
    assert deliver(envelope("on_participant_joined", joined)).status_code == 200
    assert kaleyra_user_id_for(PATIENT) in everything_stored()

    out, _ = run("erase_person", PATIENT)

    assert "1 recording(s) deleted" in out
    assert not recording_exists(simulator, session)
    kept = everything_stored()
    assert kaleyra_user_id_for(PATIENT) not in kept and PATIENT not in kept
    (event,) = get_storage().webhook_events(
        teleconsultation_id=visit, event="on_participant_joined"
    )
    assert event.data == {"room_id": room, "user_id": pseudonym(PATIENT)}


def test_a_room_made_again_after_the_erasure_has_the_others_only(create, simulator):
    visit = create([doctor(), patient(PATIENT, full_name=NAME), patient("patient-2")])
    run("erase_person", PATIENT)

    outcome = support.recreate_room(visit, actor="support")

    assert outcome.result is Result.DONE, outcome.message
    room = simulator.get_room_record(stored(visit).kaleyra_room_id)
    assert [member["user_id"] for member in room["participants"]] == [
        kaleyra_user_id_for("doctor-1"),
        kaleyra_user_id_for("patient-2"),
    ]


def test_a_kaleyra_failure_stops_the_erasure_before_the_records_and_a_second_run_finishes(
    create, simulator
):
    visit = create([doctor(), patient(PATIENT, full_name=NAME)], recording="automatic")
    session = hold_a_call(simulator, visit)
    announce(visit, session)
    simulator.fail_next("delete_recording", mode="500", times=20)

    refusal = run_failing("erase_person", PATIENT)

    assert "running the command again is safe" in refusal
    assert NAME in everything_stored() and mapping(PATIENT) is not None
    simulator.clear_faults()
    run("erase_person", PATIENT)
    assert not recording_exists(simulator, session)
    assert NAME not in everything_stored() and PATIENT not in everything_stored()


def test_their_attendance_calendar_feed_and_visit_events_are_exported_then_erased_too(
    create, simulator, clock, api, settings, storage_backend
):
    """What the later features hold: the attendance collected (their entry exported, then kept
    under the pseudonym), their calendar feed (said to exist, then revoked) and, with the Django
    backend, the outbox of visit events naming them (rewritten)."""
    if storage_backend == "django":
        settings.VISIT_EVENTS_URLS = ["https://receiver.example.test/hooks/visits"]
        settings.VISIT_EVENTS_SECRET = "whsec-test-secret"
        settings.VISIT_EVENTS_PERSONAL_DATA = True  # their name in the events' bodies too
    visit = create([doctor(), patient(PATIENT, full_name=NAME)])
    made = api.as_user(PATIENT, ("customer",)).post("/calendar-feeds")
    assert made.status_code == 201, made.json()
    feed = made.json()["url"].removeprefix("http://testserver")
    assert Client().get(feed).status_code == 200
    clock.move_to(START)
    for user_id, groups in (("doctor-1", ("doctor",)), (PATIENT, ("customer",))):
        simulator.open_link(
            api.as_user(user_id, groups).get(f"/teleconsultation/{visit}").json()["accessLinkURL"]
        )
    clock.move_to(START + timedelta(hours=2))  # over
    run("collect_attendance", "--room", visit, "--concurrency", "1")
    assert len(get_storage().attendance(visit).attendees) == 2
    if storage_backend == "django":
        from rooms.models import VisitEvent

        assert NAME in json.dumps(list(VisitEvent.objects.values_list("body", flat=True)))

    document = exported()

    (held,) = document["visits"]
    assert held["attendance"]["noShow"] is False
    assert held["attendance"]["joined"][0]["joinedAt"] == "2026-12-01T10:00:00.000Z"
    assert document["calendarFeed"] == {"createdAt": "2026-12-01T08:00:00.000Z"}
    assert feed.split("/")[-1].removesuffix(".ics") not in json.dumps(document)

    out, _ = run("erase_person", PATIENT)

    assert "Calendar feed: revoked" in out and "attendance pseudonymised" in out
    kept = everything_stored()
    assert PATIENT not in kept and NAME not in kept
    assert kaleyra_user_id_for(PATIENT) not in kept
    assert Client().get(feed).status_code == 404
    attendees = get_storage().attendance(visit).attendees
    assert [each.user_id for each in attendees] == ["doctor-1", pseudonym(PATIENT)]
    seen = api.as_user("doctor-1", ("doctor",)).get(f"/teleconsultation/{visit}/attendance")
    assert seen.status_code == 200
    # Collected again by hand, the visit's attendance does not bring their Kaleyra id back.
    run("collect_attendance", "--room", visit, "--concurrency", "1")
    again = everything_stored()
    assert PATIENT not in again and kaleyra_user_id_for(PATIENT) not in again
    assert len(get_storage().attendance(visit).attendees) == 2  # still two joined: no no-show
    assert exported()["calendarFeed"] is None
