"""The simulator's room listing (paginated like every v2 list) and the fate of deleted rooms, as
the in-process provider sees them (the HTTP side is in the contract suite)."""

import pytest

from kaleyra.errors import KaleyraNotFound
from kaleyra.provider import get_video_provider
from kaleyra.simulator.rules import Refusal
from kaleyra.types import ParticipantSpec, Role

PARTICIPANTS = [ParticipantSpec("doctor", True, {}), ParticipantSpec("patient", False, {})]


@pytest.fixture
def provider(simulator):
    provider = get_video_provider()
    provider.create_user(user_id="doctor", role=Role.PLUS)
    provider.create_user(user_id="patient", role=Role.BASIC)
    return provider


def create(provider, description=None):
    return provider.create_room(
        participants=PARTICIPANTS, duration=None, live=True, description=description
    )


def test_iter_rooms_lists_every_room_in_creation_order_with_descriptions(provider):
    rooms = [create(provider, f"tc:{n}:x") for n in range(3)]
    listed = list(provider.iter_rooms())
    assert [(r.id, r.description) for r in listed] == [(r.id, r.description) for r in rooms]
    assert listed[0].link_for("doctor") == rooms[0].link_for("doctor")


def test_the_listing_is_paginated_with_offset_and_limit(provider, simulator):
    ids = [create(provider).id for _ in range(3)]
    first = simulator.engine.list_rooms({"offset": "0", "limit": "2"})
    second = simulator.engine.list_rooms({"offset": "2", "limit": "2"})
    assert [r["id"] for r in first["rooms"]] == ids[:2]
    assert (first["has_more"], first["count"]) == (True, 2)
    assert [r["id"] for r in second["rooms"]] == ids[2:]
    assert (second["has_more"], second["count"]) == (False, 1)


def test_each_page_is_one_logged_call(provider, simulator):
    create(provider)
    simulator.reset_call_log()
    list(provider.iter_rooms())
    assert simulator.calls() == {"iter_rooms": 1}


def test_a_deleted_room_is_not_found_and_not_listed(provider):
    kept, deleted = create(provider), create(provider)
    provider.delete_room(deleted.id)
    with pytest.raises(KaleyraNotFound):
        provider.get_room(deleted.id)
    assert [r.id for r in provider.iter_rooms()] == [kept.id]


def test_a_room_deleted_on_kaleyras_side_is_not_found(provider, simulator):
    room = create(provider)
    simulator.delete_room_on_kaleyra_side(room.id)
    with pytest.raises(KaleyraNotFound):
        provider.get_room(room.id)


def test_a_description_that_is_not_a_string_is_refused(simulator):
    with pytest.raises(Refusal):
        simulator.engine.create_room(
            {"participants": [{"user_id": "a"}, {"user_id": "b"}], "description": 5}
        )
