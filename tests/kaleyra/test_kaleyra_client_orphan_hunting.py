"""What hunting orphan rooms needs from the client: rooms tagged with a description at creation,
and the company's rooms listed page by page, in a bounded walk."""

import pytest
from responses import matchers

from kaleyra import wire
from kaleyra.errors import KaleyraBadResponse, KaleyraServerError
from kaleyra.types import ParticipantSpec
from tests.kaleyra import recordings
from tests.kaleyra.support import API_KEY, BASE_URL

HEADERS = matchers.header_matcher({"apikey": API_KEY, "Accept": "application/json"})
PARTICIPANTS = [ParticipantSpec("u1", True, {}), ParticipantSpec("u2", False, {})]


def room(room_id: str, description: str | None = None) -> dict:
    return {**recordings.ROOM, "id": room_id, "description": description}


def test_create_room_sends_the_description(wire_mock, client):
    expected = {
        "participants": [
            {"user_id": "u1", "is_admin": True, "tools": {}},
            {"user_id": "u2", "is_admin": False, "tools": {}},
        ],
        "recording": "none",
        "live": True,
        "description": "tc:42:0b6f1c9e",
    }
    wire_mock.post(
        f"{BASE_URL}/v2/rooms",
        json=room("room_1", "tc:42:0b6f1c9e"),
        status=201,
        match=[HEADERS, matchers.json_params_matcher(expected, strict_match=True)],
    )
    created = client.create_room(
        participants=PARTICIPANTS, duration=None, live=True, description="tc:42:0b6f1c9e"
    )
    assert created.description == "tc:42:0b6f1c9e"


def test_create_room_without_a_description_sends_none(wire_mock, client):
    wire_mock.post(f"{BASE_URL}/v2/rooms", json=room("room_1"), status=201)
    client.create_room(participants=PARTICIPANTS, duration=None, live=True)
    assert b"description" not in wire_mock.calls[0].request.body


def test_iter_rooms_follows_pages_with_offset_and_limit(wire_mock, client):
    first = [room(f"room_{n}", f"tc:{n}:x") for n in range(100)]
    for offset, rooms, has_more in ((0, first, True), (100, [room("room_last")], False)):
        wire_mock.get(
            f"{BASE_URL}/v2/rooms",
            json=recordings.rooms_page(offset, rooms, has_more),
            match=[HEADERS, matchers.query_param_matcher({"offset": str(offset), "limit": "100"})],
        )
    rooms = list(client.iter_rooms())
    assert len(rooms) == 101
    assert rooms[0].description == "tc:0:x"
    assert rooms[-1].id == "room_last"


def test_a_listed_room_may_come_without_participants(wire_mock, client):
    bare = {"id": "room_1", "description": "tc:1:x"}
    wire_mock.get(f"{BASE_URL}/v2/rooms", json=recordings.rooms_page(0, [bare], False))
    (listed,) = client.iter_rooms()
    assert (listed.id, listed.participants) == ("room_1", ())


def test_iter_rooms_stops_on_an_empty_page_even_if_has_more(wire_mock, client):
    wire_mock.get(f"{BASE_URL}/v2/rooms", json=recordings.rooms_page(0, [], True))
    assert list(client.iter_rooms()) == []
    assert len(wire_mock.calls) == 1


def test_iter_rooms_is_bounded_when_the_server_always_has_more(wire_mock, client, monkeypatch):
    monkeypatch.setattr(wire, "MAX_PAGES", 3)
    wire_mock.get(f"{BASE_URL}/v2/rooms", json=recordings.rooms_page(0, [room("room_1")], True))
    assert len(list(client.iter_rooms())) == 3
    assert len(wire_mock.calls) == 3


def test_iter_room_uploads_is_bounded_too(wire_mock, client, monkeypatch):
    monkeypatch.setattr(wire, "MAX_PAGES", 2)
    page = recordings.uploads_page(0, ["k"], True)
    wire_mock.get(f"{BASE_URL}/v2/uploads", json=page)
    assert len(list(client.iter_room_uploads("room_1"))) == 2
    assert len(wire_mock.calls) == 2


def test_a_page_is_retried_like_any_read(wire_mock, client):
    wire_mock.get(f"{BASE_URL}/v2/rooms", status=503)
    wire_mock.get(f"{BASE_URL}/v2/rooms", json=recordings.rooms_page(0, [room("room_1")], False))
    assert [r.id for r in client.iter_rooms()] == ["room_1"]
    assert len(wire_mock.calls) == 2


def test_a_page_that_keeps_failing_surfaces(wire_mock, client_factory):
    wire_mock.get(f"{BASE_URL}/v2/rooms", status=500)
    with pytest.raises(KaleyraServerError):
        list(client_factory().iter_rooms())


def test_a_listing_of_another_shape_is_a_bad_response_naming_its_keys_not_its_values(
    wire_mock, client
):
    listing = {"items": [room("room_1", "tc:42:0b6f1c9e")], "has_more": False, "count": 1}
    wire_mock.get(f"{BASE_URL}/v2/rooms", json=listing)
    with pytest.raises(KaleyraBadResponse) as caught:
        list(client.iter_rooms())
    assert "missing field 'rooms'; the page's keys: 'count', 'has_more', 'items'" in str(
        caught.value
    )
    assert "room_1" not in str(caught.value) and "tc:42" not in str(caught.value)
