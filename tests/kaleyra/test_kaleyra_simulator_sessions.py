"""Calls in the simulator: two participants opening their join links make a session; its end
leaves a recording when the room records, announced by `on_recording_available` to the URLs
registered for it; the sessions and recording endpoints show them (paths UNCLEAR upstream)."""

import time
from urllib.parse import urlsplit

import pytest
import requests

from kaleyra.provider import get_video_provider
from kaleyra.simulator.pytest_plugin import webhook_receiver
from kaleyra.types import ParticipantSpec, Role
from kaleyra.webhooks import configured_key, verify
from tests.kaleyra.support import simulator_api

PARTICIPANTS = [
    ParticipantSpec("doctor", True, {}),
    ParticipantSpec("patient", False, {}),
    ParticipantSpec("nurse", False, {}),
]


def api(simulator_http):
    call = simulator_api(simulator_http)
    return lambda method, path, **kwargs: call(method, path, **kwargs)[:2]


def given_a_room(call, recording="automatic"):
    for user_id, role in (("doctor", "plus"), ("patient", "basic"), ("nurse", "basic")):
        call("POST", "/v2/users", json={"id": user_id, "role": role})
    participants = [{"user_id": p.user_id, "is_admin": p.is_admin} for p in PARTICIPANTS]
    status, room = call(
        "POST", "/v2/rooms", json={"participants": participants, "recording": recording}
    )
    assert status == 201
    return room


def link(room, user_id):
    return next(p["link"] for p in room["participants"] if p["user_id"] == user_id)


def test_one_participant_alone_makes_no_session(simulator_http):
    call = api(simulator_http)
    room = given_a_room(call)
    assert requests.get(link(room, "doctor"), timeout=5).status_code == 200
    assert call("GET", "/v2/sessions", params={"room_id": room["id"]})[1]["sessions"] == []


def test_two_participants_opening_their_links_make_a_session(simulator_http):
    call = api(simulator_http)
    room = given_a_room(call)
    requests.get(link(room, "doctor"), timeout=5)
    page = requests.get(link(room, "patient"), timeout=5).text
    status, listing = call("GET", "/v2/sessions", params={"room_id": room["id"]})
    assert status == 200
    assert (listing["offset"], listing["has_more"], listing["count"]) == (0, False, 1)
    (session,) = listing["sessions"]
    assert session["id"] in page
    assert session["room_id"] == room["id"]
    assert session["end_date"] is None  # still running
    joined = {p["user_id"]: p for p in session["participants"]}
    assert set(joined) == {"doctor", "patient"}
    assert session["start_date"] == joined["patient"]["join_date"]  # the second join
    assert joined["doctor"]["join_date"] <= session["start_date"]
    assert joined["doctor"]["leave_date"] is None


def test_a_third_participant_joins_the_running_session(simulator):
    room = given_a_room_in_process(simulator)
    first = simulator.open_link(room.link_for("doctor"))
    session_id = simulator.open_link(room.link_for("patient"))
    assert first is None and session_id is not None
    assert simulator.open_link(room.link_for("nurse")) == session_id
    (session,) = simulator.sessions(room.id)
    assert {p["user_id"] for p in session["participants"]} == {"doctor", "patient", "nurse"}


def given_a_room_in_process(simulator, recording="automatic"):
    provider = get_video_provider()
    for user_id, role in (("doctor", Role.PLUS), ("patient", Role.BASIC), ("nurse", Role.BASIC)):
        provider.create_user(user_id=user_id, role=role)
    room = provider.create_room(participants=PARTICIPANTS, duration=None, live=True)
    with simulator.engine.store.transaction() as connection:  # our service sends "none"
        connection.execute("UPDATE rooms SET recording = ? WHERE id = ?", (recording, room.id))
    return room


def test_ending_a_recorded_session_sets_its_end_and_leaves_a_recording(simulator_http):
    call = api(simulator_http)
    room = given_a_room(call)
    simulator_http.open_link(link(room, "doctor"))
    session_id = simulator_http.open_link(link(room, "patient"))
    assert call("GET", f"/v2/sessions/{session_id}/recording")[0] == 404  # not before the end
    simulator_http.end_session(room["id"])
    (session,) = call("GET", "/v2/sessions", params={"room_id": room["id"]})[1]["sessions"]
    assert session["end_date"] is not None
    assert all(p["leave_date"] == session["end_date"] for p in session["participants"])

    status, recording = call(
        "GET", f"/v2/sessions/{session_id}/recording", params={"expires_in": 60}
    )
    assert status == 200
    assert (recording["session_id"], recording["room_id"], recording["expires_in"]) == (
        session_id,
        room["id"],
        60,
    )
    assert recording["expiration_date"].endswith("Z")
    download = requests.get(recording["url"], timeout=5)
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "video/mp4"
    assert session_id.encode() in download.content

    assert call("DELETE", f"/v2/sessions/{session_id}/recording") == (204, None)
    assert call("GET", f"/v2/sessions/{session_id}/recording")[0] == 404
    assert requests.get(recording["url"], timeout=5).status_code == 404


def test_a_recording_link_expires(simulator_http):
    call = api(simulator_http)
    room = given_a_room(call)
    simulator_http.open_link(link(room, "doctor"))
    session_id = simulator_http.open_link(link(room, "patient"))
    simulator_http.end_session(room["id"])
    url = call("GET", f"/v2/sessions/{session_id}/recording")[1]["url"]
    expired = url.split("?")[0] + f"?expires={int(time.time()) - 1}"
    assert requests.get(expired, timeout=5).status_code == 403


@pytest.mark.parametrize("expires_in", ["29", "3601", "soon"])
def test_a_recording_link_lives_30_to_3600_seconds(simulator_http, expires_in):
    call = api(simulator_http)
    status, body = call(
        "GET", "/v2/sessions/session_x/recording", params={"expires_in": expires_in}
    )
    assert status == 400
    assert "30 to 3600" in body["message"]


def test_the_default_recording_link_lives_an_hour(simulator_http):
    call = api(simulator_http)
    room = given_a_room(call)
    simulator_http.open_link(link(room, "doctor"))
    session_id = simulator_http.open_link(link(room, "patient"))
    simulator_http.end_session(room["id"])
    assert call("GET", f"/v2/sessions/{session_id}/recording")[1]["expires_in"] == 3600


def test_an_unknown_session_has_no_recording(simulator_http):
    status, body = api(simulator_http)("GET", "/v2/sessions/session_missing/recording")
    assert status == 404
    assert "session_missing" in body["message"]


def test_a_room_that_does_not_record_leaves_no_recording(simulator_http):
    call = api(simulator_http)
    room = given_a_room(call, recording="none")
    simulator_http.open_link(link(room, "doctor"))
    session_id = simulator_http.open_link(link(room, "patient"))
    assert simulator_http.end_session(room["id"]) is None
    assert call("GET", f"/v2/sessions/{session_id}/recording")[0] == 404


def test_a_manual_room_records_only_once_an_admin_starts_it(simulator_http):
    call = api(simulator_http)
    room = given_a_room(call, recording="manual")

    def a_session(*, recorded: bool) -> str:
        simulator_http.open_link(link(room, "doctor"))
        session_id = simulator_http.open_link(link(room, "patient"))
        if recorded:
            simulator_http.start_recording(room["id"])
        simulator_http.end_session(room["id"])
        return session_id

    unrecorded, recorded = a_session(recorded=False), a_session(recorded=True)
    assert call("GET", f"/v2/sessions/{unrecorded}/recording")[0] == 404
    assert call("GET", f"/v2/sessions/{recorded}/recording")[0] == 200


def test_an_automatic_room_cannot_be_started_by_hand(simulator):
    room = given_a_room_in_process(simulator, recording="automatic")
    simulator.open_link(room.link_for("doctor"))
    simulator.open_link(room.link_for("patient"))
    with pytest.raises(LookupError):
        simulator.start_recording(room.id)


def test_ending_a_session_that_does_not_run_is_a_lookup_error(simulator):
    room = given_a_room_in_process(simulator)
    with pytest.raises(LookupError):
        simulator.end_session(room.id)


def test_the_session_ends_when_fewer_than_two_remain_on_the_page(
    simulator_http, simulator_webhooks
):
    call = api(simulator_http)
    room = given_a_room(call)
    doctor, patient = link(room, "doctor"), link(room, "patient")
    requests.get(doctor, timeout=5)
    requests.get(patient, timeout=5)
    page = requests.post(patient, data={"action": "leave"}, timeout=5)
    assert page.status_code == 200 and "You left" in page.text
    (session,) = call("GET", "/v2/sessions", params={"room_id": room["id"]})[1]["sessions"]
    assert session["end_date"] is not None
    received = simulator_webhooks.wait_for(1)
    envelope = verify(
        received[0].signature, received[0].body, key=configured_key(), now=time.time(), tolerance=60
    )
    assert envelope.event == "on_recording_available"
    assert envelope.data == {"room_id": room["id"], "session_id": session["id"]}


def test_an_admin_of_a_manual_room_starts_recording_from_the_page(simulator_http):
    call = api(simulator_http)
    room = given_a_room(call, recording="manual")
    doctor = link(room, "doctor")
    requests.get(link(room, "patient"), timeout=5)
    assert "Start recording" in requests.get(doctor, timeout=5).text
    assert requests.post(doctor, data={"action": "record"}, timeout=5).status_code == 200
    simulator_http.end_session(room["id"])
    (session,) = simulator_http.sessions(room["id"])
    assert call("GET", f"/v2/sessions/{session['id']}/recording")[0] == 200


def test_on_recording_available_goes_only_to_urls_registered_for_it(simulator_http):
    call = api(simulator_http)
    room = given_a_room(call)
    with webhook_receiver() as recordings, webhook_receiver() as deletions:
        for url, event in (
            (recordings.url, "on_recording_available"),
            (deletions.url, "on_room_deleted"),
        ):
            body = {"post_event_webhook_url": url, "webhook_filters": [{"event": event}]}
            assert call("POST", "/v2/webhooks", json=body)[0] == 201
        simulator_http.open_link(link(room, "doctor"))
        session_id = simulator_http.open_link(link(room, "patient"))
        simulator_http.end_session(room["id"]).join(5)
        (received,) = recordings.wait_for(1)
        assert deletions.received == []
    assert urlsplit(recordings.url).path == received.path
    assert b'"event":"on_recording_available"' in received.body
    assert session_id.encode() in received.body


def test_a_receiver_answering_500_is_tried_again(simulator_http):
    call = api(simulator_http)
    room = given_a_room(call)
    with webhook_receiver() as inbox:
        inbox.fail_first(2)
        body = {"post_event_webhook_url": inbox.url, "webhook_filters": ["on_recording_available"]}
        call("POST", "/v2/webhooks", json=body)
        simulator_http.open_link(link(room, "doctor"))
        simulator_http.open_link(link(room, "patient"))
        simulator_http.end_session(room["id"]).join(5)
        attempts = inbox.received
    assert len(attempts) == 3  # two 500s, then the 200 that ends the retries
    assert len({attempt.body for attempt in attempts}) == 1
