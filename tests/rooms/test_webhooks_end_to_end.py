"""The simulator's signed webhooks over real HTTP to the service's receiver (a live server), as
`make run` wires them: the room Kaleyra deletes, the recording it announces, and the deletion the
service itself asked for, which comes back as an event that changes nothing."""

import time
from io import StringIO

import pytest
from django.core.management import call_command

from rooms.storage import get_storage
from tests.rooms.conftest import stored

pytestmark = [
    pytest.mark.usefixtures("storage_backend"),
    pytest.mark.django_db(transaction=True),  # the live server reads what the test wrote
]
DELIVERY_SECONDS = 5


@pytest.fixture
def receiver(live_server, settings) -> str:
    settings.KALEYRA_SIMULATOR_WEBHOOK_URL = f"{live_server.url}/webhooks/kaleyra"
    return settings.KALEYRA_SIMULATOR_WEBHOOK_URL


def events_of(teleconsultation_id: str) -> list:
    return get_storage().webhook_events(teleconsultation_id=teleconsultation_id)


def test_a_room_deleted_on_kaleyras_side_reaches_the_receiver(receiver, visit, simulator):
    room = stored(visit).kaleyra_room_id

    simulator.delete_room_on_kaleyra_side(room).join(DELIVERY_SECONDS)

    assert stored(visit).kaleyra_room_id is None
    assert [(e.event, e.room_id) for e in events_of(visit)] == [("on_room_deleted", room)]


def test_the_simulator_command_plays_the_same_deletion(receiver, visit, simulator):
    room = stored(visit).kaleyra_room_id
    out = StringIO()

    call_command("kaleyra_simulator", "--delete-room", room, "--webhook-url", receiver, stdout=out)

    assert f"Webhook posted to {receiver}" in out.getvalue()
    assert stored(visit).kaleyra_room_id is None


def test_an_announced_recording_reaches_the_visit(receiver, visit, simulator):
    room = stored(visit).kaleyra_room_id

    simulator.emit_recording_available(room, "session_9").join(DELIVERY_SECONDS)

    (event,) = events_of(visit)
    assert (event.event, event.room_id, event.data["session_id"]) == (
        "on_recording_available",
        room,
        "session_9",
    )


def test_a_visit_the_service_deleted_stays_in_the_trash_when_the_event_comes_back(
    receiver, visit, simulator, api, caplog
):
    room = stored(visit).kaleyra_room_id

    assert api.delete(f"/teleconsultation/{visit}").status_code == 204
    _wait_for_an_event(visit)

    assert stored(visit).state == "TRASH"
    assert stored(visit).kaleyra_room_id == room
    assert not [r for r in caplog.records if r.name == "kaleyra.simulator"]  # answered 200


def _wait_for_an_event(teleconsultation_id: str) -> None:
    """The service's own deletion sends the event from a thread of the simulator's, not ours to
    join."""
    deadline = time.monotonic() + DELIVERY_SECONDS
    while not events_of(teleconsultation_id):
        assert time.monotonic() < deadline, "no webhook arrived"
        time.sleep(0.05)
