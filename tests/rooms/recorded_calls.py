"""Calls held in a visit's room on the simulator, and the recordings they leave: shared by the
recordings' tests."""

from kaleyra.simulator.rules import Refusal
from tests.rooms.conftest import links, stored
from tests.rooms.kaleyra_events import deliver, envelope

DELIVERY_SECONDS = 5


def hold_a_call(simulator, teleconsultation_id: str) -> str:
    """Every participant opens their join link, then the call ends: the session's id (it leaves
    a recording when the room records)."""
    for link in links(stored(teleconsultation_id)):
        simulator.open_link(link)
    room = stored(teleconsultation_id).kaleyra_room_id
    (session,) = [s for s in simulator.sessions(room) if s["end_date"] is None]
    thread = simulator.end_session(room)
    if thread is not None:
        thread.join(DELIVERY_SECONDS)
    return session["id"]


def announce(teleconsultation_id: str, session_id: str) -> None:
    """Kaleyra's `on_recording_available` for the session, posted to the service."""
    room = stored(teleconsultation_id).kaleyra_room_id
    data = {"room_id": room, "session_id": session_id}
    assert (
        deliver(envelope("on_recording_available", data, namespace="recording")).status_code == 200
    )


def recording_exists(simulator, session_id: str) -> bool:
    try:
        simulator.engine.get_recording(session_id, {})
    except Refusal as refusal:
        if refusal.status == 404:
            return False
        raise
    return True
