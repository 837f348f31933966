"""`__STATE__` in the simulator: the default on insert, the `_st` filter, the state route.

Sources: crud-service lib/CrudService.js (insertOne `doc.__STATE__ || stateOnInsert`,
ALLOWED_STATES_MAP and changeStateById), lib/CrudService.utils.js (getStateQuery: PUBLIC when no
`_st`), lib/JSONSchemaGenerator.js (`_st` default PUBLIC; no `_st` on POST /:id/state),
tests/httpInterface.changeStateById.test.js.
"""

import itertools

import pytest
import time_machine

from crud.errors import CrudBadRequest
from tests.crud.support import raw_session

ROOMS = "teleconsultations"
STATES = ("PUBLIC", "DRAFT", "TRASH", "DELETED")
ALLOWED = {
    ("PUBLIC", "DRAFT"),
    ("PUBLIC", "PUBLIC"),
    ("PUBLIC", "TRASH"),
    ("DRAFT", "DRAFT"),
    ("DRAFT", "PUBLIC"),
    ("DRAFT", "TRASH"),
    ("TRASH", "DELETED"),
    ("TRASH", "DRAFT"),
    ("TRASH", "TRASH"),
    ("DELETED", "DELETED"),
    ("DELETED", "TRASH"),
}


@pytest.fixture
def client(crud_simulator):
    return crud_simulator.client(user_id="doctor-1")


def test_a_document_inserted_without_a_state_is_draft_and_invisible_by_default(client):
    draft_id = client.create(ROOMS, {"bandyerRoomId": "r1"})
    assert client.get(ROOMS, draft_id) is None
    assert client.list(ROOMS) == []
    assert client.count(ROOMS) == 0
    assert client.patch(ROOMS, draft_id, set={"a": 1}) is None
    assert client.delete(ROOMS, draft_id) is False
    assert client.get(ROOMS, draft_id, states=["DRAFT"])["__STATE__"] == "DRAFT"
    assert client.count(ROOMS, states=["PUBLIC", "DRAFT"]) == 1


def test_the_collection_default_state_applies_and_a_given_state_wins(crud_simulator):
    crud_simulator.configure(ROOMS, default_state="PUBLIC")
    client = crud_simulator.client()
    public_id = client.create(ROOMS, {"n": 1})
    trashed_id = client.create(ROOMS, {"n": 2, "__STATE__": "TRASH"})
    assert client.get(ROOMS, public_id)["__STATE__"] == "PUBLIC"
    assert client.get(ROOMS, trashed_id, states=["TRASH"])["__STATE__"] == "TRASH"


def test_a_state_outside_the_four_is_refused_on_insert(client):
    with pytest.raises(CrudBadRequest, match="__STATE__ must be equal to one of the allowed"):
        client.create(ROOMS, {"__STATE__": "ARCHIVED"})


def test_states_select_what_every_route_sees(client):
    ids = {state: client.create(ROOMS, {"s": state, "__STATE__": state}) for state in STATES}
    assert [d["s"] for d in client.list(ROOMS, states=["TRASH", "DELETED"])] == ["TRASH", "DELETED"]
    assert client.count(ROOMS, states=["DRAFT"]) == 1
    assert client.patch(ROOMS, ids["TRASH"], set={"x": 1}) is None
    assert client.patch(ROOMS, ids["TRASH"], states=["TRASH"], set={"x": 1})["x"] == 1
    assert client.patch_many(ROOMS, query={"x": 1}, set={"y": 2}) == 0
    assert client.delete_many(ROOMS, query={"s": {"$exists": True}}) == 1  # PUBLIC only


@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATES, STATES)))
def test_the_state_route_allows_exactly_crud_services_transitions(client, current, target):
    document_id = client.create(ROOMS, {"__STATE__": current})
    if (current, target) in ALLOWED:
        assert client.change_state(ROOMS, document_id, target) is True
        assert client.get(ROOMS, document_id, states=[target])["__STATE__"] == target
    else:
        with pytest.raises(CrudBadRequest) as caught:
            client.change_state(ROOMS, document_id, target)
        assert caught.value.message == f"transition from {current} to {target} not allowed."
        assert client.get(ROOMS, document_id, states=[current]) is not None


def test_the_state_route_records_who_and_when(crud_simulator):
    with time_machine.travel("2024-06-12T10:00:00.123Z", tick=False):
        document_id = crud_simulator.client(user_id="creator").create(ROOMS, {"__STATE__": "DRAFT"})
    with time_machine.travel("2024-06-13T08:30:00Z", tick=False):
        crud_simulator.client(user_id="remover").change_state(ROOMS, document_id, "TRASH")
    (stored,) = crud_simulator.documents(ROOMS)
    assert (stored["creatorId"], stored["createdAt"]) == ("creator", "2024-06-12T10:00:00.123Z")
    assert (stored["updaterId"], stored["updatedAt"]) == ("remover", "2024-06-13T08:30:00.000Z")


def test_the_state_route_filters_by_query_and_reports_a_miss(client):
    document_id = client.create(ROOMS, {"version": 2, "__STATE__": "PUBLIC"})
    assert client.change_state(ROOMS, document_id, "TRASH", query={"version": 3}) is False
    assert client.change_state(ROOMS, "ffffffffffffffffffffffff", "TRASH") is False
    assert client.change_state(ROOMS, document_id, "TRASH", query={"version": 2}) is True


def test_a_document_without_a_state_may_move_to_any(crud_simulator):
    crud_simulator.put(ROOMS, {"_id": "65a1b2c3d4e5f60718293a4b", "legacy": True})
    client = crud_simulator.client()
    assert client.change_state(ROOMS, "65a1b2c3d4e5f60718293a4b", "DELETED") is True


def test_the_state_route_takes_no_state_filter(crud_simulator, client):
    document_id = client.create(ROOMS, {"__STATE__": "PUBLIC"})
    answer = raw_session(crud_simulator).post(
        f"{crud_simulator.base_url}/{ROOMS}/{document_id}/state",
        params={"_st": "PUBLIC"},
        json={"stateTo": "TRASH"},
    )
    assert answer.status_code == 400
    assert answer.json()["message"] == (
        'querystring must NOT have additional properties. Property "_st" is not defined in '
        "validation schema"
    )


def test_a_successful_state_change_is_a_204_without_body(crud_simulator, client):
    document_id = client.create(ROOMS, {"__STATE__": "PUBLIC"})
    answer = raw_session(crud_simulator).post(
        f"{crud_simulator.base_url}/{ROOMS}/{document_id}/state", json={"stateTo": "DRAFT"}
    )
    assert (answer.status_code, answer.content) == (204, b"")
