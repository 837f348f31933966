"""Sessions and their recordings: each call sends exactly the request we believe Kaleyra v2 takes
(kaleyra/wire.py, SESSIONS_PATH) and reads each plausible shape of the answer."""

from datetime import UTC, datetime

import pytest
from responses import matchers

from kaleyra import wire
from kaleyra.errors import KaleyraNotFound
from kaleyra.types import RecordingLink, RoomSession, SessionParticipant
from tests.kaleyra.support import API_KEY, BASE_URL

HEADERS = matchers.header_matcher({"apikey": API_KEY, "Accept": "application/json"})
ROOM = "room_5beecf8c0f29"
DOWNLOAD = "https://recordings.example.test/session_1.mp4?signature=abc"


def session_json(session_id: str) -> dict:
    return {
        "id": session_id,
        "room_id": ROOM,
        "start_date": "2026-12-01T10:00:00.000Z",
        "end_date": "2026-12-01T10:25:00.000Z",
        "participants": [
            {
                "user_id": "doctor",
                "join_date": "2026-12-01T10:00:00.000Z",
                "leave_date": "2026-12-01T10:25:00.000Z",
            }
        ],
    }


def sessions_page(offset: int, ids: list[str], has_more: bool) -> dict:
    return {
        "offset": offset,
        "limit": 100,
        "has_more": has_more,
        "count": len(ids),
        "sessions": [session_json(session_id) for session_id in ids],
    }


def test_iter_room_sessions_follows_pages_by_room_with_offset_and_limit(wire_mock, client):
    first = [f"session_{i}" for i in range(100)]
    for offset, ids, has_more in ((0, first, True), (100, ["session_last"], False)):
        query = {"room_id": ROOM, "offset": str(offset), "limit": "100"}
        wire_mock.get(
            f"{BASE_URL}/v2/sessions",
            json=sessions_page(offset, ids, has_more),
            match=[HEADERS, matchers.query_param_matcher(query)],
        )

    sessions = list(client.iter_room_sessions(ROOM))

    assert len(sessions) == 101
    at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    ended = datetime(2026, 12, 1, 10, 25, tzinfo=UTC)
    assert sessions[-1] == RoomSession(
        "session_last", ROOM, at, ended, (SessionParticipant("doctor", at, ended),)
    )


def test_iter_room_sessions_stops_on_an_empty_page(wire_mock, client):
    wire_mock.get(f"{BASE_URL}/v2/sessions", json={"sessions": [], "has_more": True})
    assert list(client.iter_room_sessions(ROOM)) == []


def test_recording_link_asks_for_a_lifetime_and_reads_the_link(wire_mock, client):
    answer = {
        "session_id": "session_1",
        "room_id": ROOM,
        "url": DOWNLOAD,
        "expires_in": 300,
        "expiration_date": "2026-12-01T10:05:00.000Z",
    }
    wire_mock.get(
        f"{BASE_URL}/v2/sessions/session_1/recording",
        json=answer,
        match=[HEADERS, matchers.query_param_matcher({"expires_in": "300"})],
    )

    link = client.recording_link("session_1", expires_in=300)

    assert link == RecordingLink(
        "session_1", DOWNLOAD, ROOM, 300, datetime(2026, 12, 1, 10, 5, tzinfo=UTC)
    )


def test_recording_link_of_a_session_without_recording_is_not_found(wire_mock, client):
    wire_mock.get(f"{BASE_URL}/v2/sessions/session_1/recording", status=404, json={})
    with pytest.raises(KaleyraNotFound):
        client.recording_link("session_1", expires_in=300)


@pytest.mark.parametrize("expires_in", [29, 3601, True])
def test_recording_link_refuses_a_lifetime_kaleyra_refuses_without_calling(
    wire_mock, client, expires_in
):
    with pytest.raises(ValueError, match="between 30 and 3600"):
        client.recording_link("session_1", expires_in=expires_in)
    assert len(wire_mock.calls) == 0


def test_delete_recording_sends_delete_on_the_sessions_recording(wire_mock, client):
    wire_mock.delete(f"{BASE_URL}/v2/sessions/session_1/recording", status=204, match=[HEADERS])
    client.delete_recording("session_1")
    assert [call.request.method for call in wire_mock.calls] == ["DELETE"]


def test_delete_recording_of_none_is_not_found(wire_mock, client):
    wire_mock.delete(f"{BASE_URL}/v2/sessions/session_1/recording", status=404)
    with pytest.raises(KaleyraNotFound):
        client.delete_recording("session_1")


def test_session_ids_are_quoted_in_the_path(wire_mock, client):
    wire_mock.delete(f"{BASE_URL}/v2/sessions/a%2Fb/recording", status=204)
    client.delete_recording("a/b")
    assert wire_mock.calls[0].request.url == f"{BASE_URL}/v2/sessions/a%2Fb/recording"


def test_create_room_sends_the_recording_asked_for(wire_mock, client):
    wire_mock.post(
        f"{BASE_URL}/v2/rooms",
        json={"id": ROOM, "participants": [], "recording": "automatic"},
        match=[matchers.json_params_matcher({"recording": "automatic"}, strict_match=False)],
    )
    room = client.create_room(participants=[], duration=None, live=True, recording="automatic")
    assert room.recording == "automatic"


# --- the plausible variants of the unclear shapes ----------------------------------------------


def test_a_session_may_be_wrapped_named_session_id_and_have_no_participants():
    session = wire.parse_session({"session": {"session_id": "s1"}})
    assert session == RoomSession("s1", None, None, None, ())


@pytest.mark.parametrize("name", ["url", "link", "download_url"])
def test_a_recording_link_may_be_named_url_link_or_download_url_wrapped_or_not(name):
    bare = wire.parse_recording_link({name: DOWNLOAD}, "s1")
    wrapped = wire.parse_recording_link({"recording": {name: DOWNLOAD}}, "s1")
    assert bare == wrapped == RecordingLink("s1", DOWNLOAD, None, None, None)


def test_a_recording_without_a_link_is_a_wire_error():
    with pytest.raises(wire.WireError, match="missing field 'url'"):
        wire.parse_recording_link({"session_id": "s1"}, "s1")
