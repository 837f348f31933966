"""What each Kaleyra event does to the visits, on both storage backends: a room deleted on
Kaleyra's side leaves a live visit needing a new room (which the next write or reconcile_rooms
gives it), an ended or trashed one as it is; the other events are stored, linked to the visit."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from rooms.services import audit, lifecycle
from rooms.storage import get_storage
from tests.rooms.conftest import NOW, START, iso, links, stored
from tests.rooms.kaleyra_events import deliver, envelope, room_deleted

pytestmark = [
    pytest.mark.usefixtures("storage_backend"),
    pytest.mark.django_db,
]


def events_of(teleconsultation_id: str, event: str | None = None) -> list:
    return get_storage().webhook_events(teleconsultation_id=teleconsultation_id, event=event)


def audit_actions(teleconsultation_id: str) -> list[str]:
    batches = get_storage().audit_entries(
        since=NOW - timedelta(days=1), teleconsultation_id=teleconsultation_id
    )
    return [entry.action for batch in batches for entry in batch]


def test_a_live_visit_whose_room_kaleyra_deleted_is_left_needing_a_room(
    api, visit, simulator, clock
):
    room = stored(visit).kaleyra_room_id
    simulator.delete_room_on_kaleyra_side(room)  # no webhook URL here: the test delivers it

    response = deliver(room_deleted(room))

    assert response.status_code == 200
    after = stored(visit)
    assert after.kaleyra_room_id is None
    assert links(after) == ["", ""]
    assert after.updated_by == "kaleyra"
    (event,) = events_of(visit)
    assert (event.event, event.room_id, event.teleconsultation_id) == (
        "on_room_deleted",
        room,
        visit,
    )
    assert audit.ROOM_LOST in audit_actions(visit)
    clock.move_to(START)
    api.as_user("patient-1", ("customer",))
    assert api.get(f"/teleconsultation/{visit}").json()["accessLinkURL"] is None


def test_the_next_patch_that_keeps_the_room_gives_it_a_new_room_at_once(api, visit, simulator):
    room = stored(visit).kaleyra_room_id
    simulator.delete_room_on_kaleyra_side(room)
    deliver(room_deleted(room))

    same = api.patch(f"/teleconsultation/{visit}", {"start_date": iso(START)}, format="json")

    assert same.status_code == 204
    new_room = stored(visit).kaleyra_room_id
    assert new_room and new_room != room
    assert simulator.room_exists(new_room)
    assert all(links(stored(visit)))


def test_reconcile_rooms_gives_it_a_new_room(api, visit, simulator, clock):
    room = stored(visit).kaleyra_room_id
    simulator.delete_room_on_kaleyra_side(room)
    deliver(room_deleted(room))

    call_command("reconcile_rooms", stdout=StringIO(), stderr=StringIO())

    new_room = stored(visit).kaleyra_room_id
    assert new_room and new_room != room
    assert simulator.room_exists(new_room)


def test_an_ended_visit_keeps_its_record_and_the_fact_is_recorded(api, visit, clock):
    before = stored(visit)
    clock.move_to(before.end + timedelta(minutes=1))

    assert deliver(room_deleted(before.kaleyra_room_id)).status_code == 200

    assert stored(visit) == before
    (event,) = events_of(visit)
    assert (event.event, event.teleconsultation_id) == ("on_room_deleted", visit)


def test_a_trashed_visit_is_left_alone(api, visit):
    room = stored(visit).kaleyra_room_id
    assert api.delete(f"/teleconsultation/{visit}").status_code == 204
    trashed = stored(visit)

    assert deliver(room_deleted(room)).status_code == 200

    assert stored(visit) == trashed
    assert audit.ROOM_LOST not in audit_actions(visit)


def test_the_deletion_of_a_room_the_visit_no_longer_holds_changes_nothing(api, visit, simulator):
    old_room = stored(visit).kaleyra_room_id
    lifecycle.recreate_room(teleconsultation_id=visit, actor="support")
    current = stored(visit)
    assert current.kaleyra_room_id != old_room

    assert deliver(room_deleted(old_room)).status_code == 200

    assert stored(visit) == current
    assert events_of(visit) == []  # no visit holds that room any more


def test_a_visit_given_another_room_while_the_event_was_handled_keeps_it(api, visit, monkeypatch):
    old_room = stored(visit).kaleyra_room_id
    as_read = stored(visit)
    lifecycle.recreate_room(teleconsultation_id=visit, actor="support")
    current = stored(visit)
    # The lookup saw the visit before the new room was written.
    monkeypatch.setattr(type(get_storage()), "find_by_room", lambda *args, **kwargs: as_read)

    assert deliver(room_deleted(old_room)).status_code == 200

    assert stored(visit) == current


def test_a_recording_is_kept_with_its_room_and_session(api, visit):
    room = stored(visit).kaleyra_room_id
    body = envelope(
        "on_recording_available",
        {"room_id": room, "session_id": "session_1"},
        namespace="recording",
    )
    before = stored(visit)

    assert deliver(body).json() == {"event": "on_recording_available", "duplicate": False}

    assert stored(visit) == before
    (recording,) = events_of(visit, "on_recording_available")
    assert (recording.room_id, recording.data["session_id"]) == (room, "session_1")
    assert recording.namespace == "recording"
    assert recording.timestamp == NOW


@pytest.mark.parametrize(
    "event, data",
    [
        ("on_call_incoming", {"initiator": "doctor-1"}),
        ("on_message_sent", {"sender": "doctor-1", "participants": ["patient-1"]}),
        ("on_something_new", {"anything": [1, 2]}),
    ],
)
def test_other_events_are_stored_and_acknowledged_and_change_nothing(api, visit, event, data):
    room = stored(visit).kaleyra_room_id
    before = stored(visit)

    response = deliver(envelope(event, {"room_id": room, **data}))

    assert response.json() == {"event": event, "duplicate": False}
    assert stored(visit) == before
    (stored_event,) = events_of(visit)
    assert stored_event.event == event
    assert stored_event.data == {"room_id": room, **data}


def test_an_event_naming_no_room_is_stored_unlinked(api):
    assert deliver(envelope("on_something_new", {"company": "c"})).status_code == 200
    (event,) = events_of("")
    assert (event.event, event.room_id, event.data) == ("on_something_new", "", {"company": "c"})


def test_a_replay_on_this_backend_is_acknowledged_once(api, visit):
    body = envelope("on_recording_available", {"room_id": stored(visit).kaleyra_room_id})
    assert deliver(body).json()["duplicate"] is False
    assert deliver(body).json()["duplicate"] is True
    assert len(events_of(visit)) == 1


# --- retention ------------------------------------------------------------------------------------


def cleanup(*options: str) -> str:
    out = StringIO()
    call_command("cleanup_teleconsultations", *options, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_retention_erases_the_events_received_before_the_cut_off_only(visit, clock):
    room = stored(visit).kaleyra_room_id
    assert deliver(envelope("on_call_incoming", {"room_id": room})).status_code == 200
    clock.move_to(NOW + timedelta(days=40))
    assert deliver(envelope("on_message_sent", {"room_id": room})).status_code == 200

    out = cleanup("--webhook-events-older-than-days", "30", "--dry-run")
    assert "would erase the Kaleyra webhook events received before 2026-12-11 08:00:00+00:00" in out
    assert len(events_of(visit)) == 2

    out = cleanup("--webhook-events-older-than-days", "30")
    assert "1 Kaleyra webhook event(s) received before 2026-12-11 08:00:00+00:00 erased" in out
    assert [event.event for event in events_of(visit)] == ["on_message_sent"]
    (run,) = [
        entry
        for batch in get_storage().audit_entries(since=NOW)
        for entry in batch
        if entry.action == "command.cleanup_teleconsultations" and entry.outcome == "done"
    ]
    assert run.detail["webhookEventsErased"] == 1


def test_a_replay_of_an_erased_event_is_refused_by_its_signatures_age(visit, clock):
    """Erasing old events cannot let an old event in again: its signature is too old by then."""
    room = stored(visit).kaleyra_room_id
    sent_at = int(NOW.timestamp())
    body = room_deleted(room, timestamp=sent_at * 1000)
    assert deliver(body, t=sent_at).status_code == 200
    clock.move_to(NOW + timedelta(days=40))
    cleanup("--webhook-events-older-than-days", "30")
    assert events_of(visit) == []
    assert deliver(body, t=sent_at).status_code == 401


def test_the_latest_events_of_a_visit_come_newest_first_and_bounded(visit):
    room = stored(visit).kaleyra_room_id
    at = int(NOW.timestamp() * 1000)
    for second, session in enumerate(["oldest", "middle", "latest"]):
        data = {"room_id": room, "session_id": session}
        deliver(envelope("on_call_incoming", data, timestamp=at + second * 1000))

    latest = get_storage().webhook_events(teleconsultation_id=visit, limit=2, newest_first=True)

    assert [event.data["session_id"] for event in latest] == ["latest", "middle"]
    assert [event.data["session_id"] for event in events_of(visit)] == [
        "oldest",
        "middle",
        "latest",
    ]
