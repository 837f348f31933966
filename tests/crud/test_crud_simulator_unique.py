"""Unique indexes in the simulator refuse duplicates as crud-service (MongoDB) does.

Sources: crud-service lib/httpInterface.js (MongoDB error 11000 is answered with
UNIQUE_INDEX_ERROR_STATUS_CODE on POST /, POST /bulk and import only; PATCH lets it through as a
500), PR mia-platform/crud-service#140 (that status is 409 from v7, 422 before), MongoDB
(E11000 message, ordered insertMany stops at the duplicate, a missing field indexes as null).
"""

import pytest

from crud.errors import CrudConflict
from tests.crud.support import raw_session

USERS = "users"


@pytest.fixture
def client(crud_simulator):
    crud_simulator.configure(USERS, default_state="PUBLIC", unique=[("receivedUserId",)])
    return crud_simulator.client(user_id="svc")


def test_a_duplicate_insert_is_a_409_with_mongodbs_message(crud_simulator, client):
    client.create(USERS, {"receivedUserId": "patient-1", "bandyerId": "b1"})
    answer = raw_session(crud_simulator).post(
        f"{crud_simulator.base_url}/{USERS}/", json={"receivedUserId": "patient-1"}
    )
    assert answer.status_code == 409
    assert answer.json() == {
        "statusCode": 409,
        "error": "Conflict",
        "message": "E11000 duplicate key error collection: crud.users index: receivedUserId_1 "
        'dup key: { receivedUserId: "patient-1" }',
    }
    assert len(crud_simulator.documents(USERS)) == 1


def test_the_client_sees_a_conflict_naming_the_index(client):
    client.create(USERS, {"receivedUserId": "patient-1"})
    with pytest.raises(CrudConflict) as caught:
        client.create(USERS, {"receivedUserId": "patient-1"})
    assert (caught.value.status, caught.value.index) == (409, "receivedUserId_1")


def test_a_bulk_insert_stops_at_the_duplicate_keeping_what_came_before(crud_simulator, client):
    client.create(USERS, {"receivedUserId": "p2"})
    with pytest.raises(CrudConflict):
        client.bulk_create(
            USERS, [{"receivedUserId": "p1"}, {"receivedUserId": "p2"}, {"receivedUserId": "p3"}]
        )
    assert [u["receivedUserId"] for u in crud_simulator.documents(USERS)] == ["p2", "p1"]


def test_a_patch_into_a_duplicate_is_a_500_carrying_e11000_and_changes_nothing(
    crud_simulator, client
):
    client.create(USERS, {"receivedUserId": "p1"})
    second = client.create(USERS, {"receivedUserId": "p2"})
    answer = raw_session(crud_simulator).patch(
        f"{crud_simulator.base_url}/{USERS}/{second}", json={"$set": {"receivedUserId": "p1"}}
    )
    assert answer.status_code == 500
    assert answer.json()["message"].startswith("E11000 duplicate key error")
    with pytest.raises(CrudConflict) as caught:
        client.patch(USERS, second, set={"receivedUserId": "p1"})
    assert (caught.value.status, caught.value.index) == (500, "receivedUserId_1")
    assert client.get(USERS, second)["receivedUserId"] == "p2"


def test_a_document_may_keep_its_own_value(client):
    user = client.create(USERS, {"receivedUserId": "p1", "bandyerId": "b1"})
    assert client.patch(USERS, user, set={"receivedUserId": "p1", "bandyerId": "b2"}) is not None


def test_missing_values_collide_as_null_like_a_non_sparse_index(client):
    client.create(USERS, {"bandyerId": "b1"})
    with pytest.raises(CrudConflict):
        client.create(USERS, {"bandyerId": "b2"})


def test_a_compound_index_refuses_only_the_same_combination(crud_simulator):
    crud_simulator.configure("links", unique=[("roomId", "userId")])
    client = crud_simulator.client()
    client.create("links", {"roomId": "r1", "userId": "u1"})
    client.create("links", {"roomId": "r1", "userId": "u2"})
    with pytest.raises(CrudConflict) as caught:
        client.create("links", {"roomId": "r1", "userId": "u2"})
    assert caught.value.index == "roomId_1_userId_1"


def test_an_index_the_stored_data_breaks_cannot_be_configured(crud_simulator):
    client = crud_simulator.client()
    client.create(USERS, {"receivedUserId": "p1"})
    client.create(USERS, {"receivedUserId": "p1"})
    with pytest.raises(ValueError, match="unique index"):
        crud_simulator.configure(USERS, unique=[("receivedUserId",)])
