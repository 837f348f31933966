"""Writes in the simulator: ids and standard fields, PATCH commands, deletes, error bodies.

Sources: crud-service lib/CrudService.js (insertOne, patchById, assertCommands, STANDARD_FIELDS),
lib/httpInterface.js (status codes; injectContextInRequest: user id "public" when the header is
missing, '', 'null' or 'undefined'; 404 when patchById finds nothing), lib/consts.js
(INVALID_USERID), lib/QueryParser.js (`.$.merge` / `.$.replace`), lib/JSONSchemaGenerator.js
(the POST body leaves out `_id` and the standard fields; ObjectId pattern),
tests/httpInterface.utils.js (NOT_FOUND_BODY).
"""

import re

import pytest
import time_machine

from crud.errors import CrudBadRequest, CrudUnavailable
from tests.crud.support import raw_session, seed

ROOMS = "teleconsultations"
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


@pytest.fixture
def client(crud_simulator):
    return crud_simulator.client(user_id="doctor-1")


@pytest.fixture
def room(client):
    (room_id,) = seed(
        client,
        ROOMS,
        {
            "bandyerRoomId": "r1",
            "version": 0,
            "participants": [
                {"userExternalId": "u1", "fullName": "Ada", "groups": ["doctor"]},
                {"userExternalId": "u2", "fullName": "Bob", "groups": ["patient"]},
            ],
        },
    )
    return room_id


def test_create_makes_an_object_id_and_the_standard_fields(crud_simulator):
    with time_machine.travel("2024-06-12T10:00:00.5Z", tick=False):
        document_id = crud_simulator.client(user_id="auth0|doc").create(ROOMS, {"a": 1})
    assert OBJECT_ID.match(document_id)
    (stored,) = crud_simulator.documents(ROOMS)
    assert stored == {
        "_id": document_id,
        "a": 1,
        "creatorId": "auth0|doc",
        "updaterId": "auth0|doc",
        "createdAt": "2024-06-12T10:00:00.500Z",
        "updatedAt": "2024-06-12T10:00:00.500Z",
        "__STATE__": "DRAFT",
    }


def test_ids_made_one_after_another_grow(client):
    ids = [client.create(ROOMS, {"n": n}) for n in range(20)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 20


@pytest.mark.parametrize("header", [None, "", "null", "undefined"])
def test_without_a_usable_user_header_the_user_is_public(crud_simulator, header):
    session = raw_session(crud_simulator)
    headers = {} if header is None else {"userid": header}
    answer = session.post(f"{crud_simulator.base_url}/{ROOMS}/", json={"a": 1}, headers=headers)
    assert answer.status_code == 200
    assert answer.json() == {"_id": crud_simulator.documents(ROOMS)[0]["_id"]}
    assert crud_simulator.documents(ROOMS)[0]["creatorId"] == "public"


def test_a_non_numeric_increment_is_a_400(client, room):
    with pytest.raises(CrudBadRequest) as caught:
        client.patch(ROOMS, room, inc={"version": "1"})
    assert caught.value.message == "body/$inc/version must be number"


def test_the_user_header_name_is_the_configured_one_in_any_case(crud_simulator):
    from crud.simulator.handle import CrudSimulator

    simulator = CrudSimulator(
        crud_simulator.db_path, base_url="http://crud-service", user_id_header="MiaUserId"
    )
    simulator.client(user_id="u-7").create(ROOMS, {"a": 1})
    assert simulator.documents(ROOMS)[0]["creatorId"] == "u-7"


@pytest.mark.parametrize("field", ["_id", "creatorId", "createdAt", "updaterId", "updatedAt"])
def test_create_refuses_the_fields_the_service_owns(client, field):
    with pytest.raises(CrudBadRequest) as caught:
        client.create(ROOMS, {field: "x"})
    assert caught.value.message == (
        f'body must NOT have additional properties. Property "{field}" is not defined in '
        "validation schema"
    )


def test_bulk_create_answers_the_ids_in_order(client):
    ids = client.bulk_create(
        ROOMS, [{"n": 1, "__STATE__": "PUBLIC"}, {"n": 2, "__STATE__": "PUBLIC"}]
    )
    assert [client.get(ROOMS, i)["n"] for i in ids] == [1, 2]


def test_patch_set_unset_inc_and_returns_the_document_after(crud_simulator, client, room):
    with time_machine.travel("2024-06-12T11:00:00Z", tick=False):
        after = crud_simulator.client(user_id="nurse").patch(
            ROOMS,
            room,
            set={"endDate": "2024-06-12T12:00:00.000Z", "meta.source": "api"},
            unset=["bandyerRoomId"],
            inc={"version": 1, "reschedules": 1},
        )
    assert after["version"] == 1
    assert after["reschedules"] == 1  # $inc on a missing field sets it
    assert after["meta"] == {"source": "api"}  # a dotted $set makes the sub-document
    assert "bandyerRoomId" not in after
    assert (after["updaterId"], after["updatedAt"]) == ("nurse", "2024-06-12T11:00:00.000Z")
    assert after["creatorId"] == "doctor-1"
    assert crud_simulator.document(ROOMS, room) == after


def test_patch_reaches_array_elements_by_index_and_by_positional_dollar(client, room):
    client.patch(ROOMS, room, set={"participants.0.language": "it"})
    after = client.patch(
        ROOMS,
        room,
        query={"participants.userExternalId": "u2"},
        set={"participants.$.fullName": "Robert"},
    )
    assert after["participants"][0] == {
        "userExternalId": "u1",
        "fullName": "Ada",
        "groups": ["doctor"],
        "language": "it",
    }
    assert after["participants"][1]["fullName"] == "Robert"


def test_positional_dollar_uses_the_element_elem_match_selected(client, room):
    after = client.patch(
        ROOMS,
        room,
        query={"participants": {"$elemMatch": {"groups": "patient", "userExternalId": "u2"}}},
        set={"participants.$.accessLinkURL": "https://link/2"},
    )
    assert "accessLinkURL" not in after["participants"][0]
    assert after["participants"][1]["accessLinkURL"] == "https://link/2"


def test_crud_services_merge_and_replace_array_operators(client, room):
    query = {"participants.userExternalId": "u1"}
    merged = client.patch(
        ROOMS, room, query=query, set={"participants.$.merge": {"language": "en", "fullName": "A"}}
    )
    assert merged["participants"][0] == {
        "userExternalId": "u1",
        "fullName": "A",
        "groups": ["doctor"],
        "language": "en",
    }
    replaced = client.patch(
        ROOMS, room, query=query, set={"participants.$.replace": {"userExternalId": "u1"}}
    )
    assert replaced["participants"][0] == {"userExternalId": "u1"}


def test_push_and_pull(client, room):
    pushed = client.patch(
        ROOMS,
        room,
        push={"participants": {"$each": [{"userExternalId": "u3"}, {"userExternalId": "u4"}]}},
    )
    assert [p["userExternalId"] for p in pushed["participants"]] == ["u1", "u2", "u3", "u4"]
    pulled = client.patch(
        ROOMS, room, pull={"participants": {"userExternalId": {"$in": ["u1", "u3"]}}}
    )
    assert [p["userExternalId"] for p in pulled["participants"]] == ["u2", "u4"]


def test_a_patch_whose_filter_does_not_match_is_a_404_and_changes_nothing(
    crud_simulator, client, room
):
    before = crud_simulator.document(ROOMS, room)
    assert client.patch(ROOMS, room, query={"version": 7}, inc={"version": 1}) is None
    assert crud_simulator.document(ROOMS, room) == before
    answer = raw_session(crud_simulator).patch(
        f"{crud_simulator.base_url}/{ROOMS}/{room}",
        params={"_q": '{"version":7}'},
        json={"$inc": {"version": 1}},
    )
    assert (answer.status_code, answer.json()) == (404, {"error": "not found"})


@pytest.mark.parametrize(
    ("commands", "where", "field"),
    [
        ({"$set": {"__STATE__": "PUBLIC"}}, "body/$set", "__STATE__"),
        ({"$set": {"updaterId": "x"}}, "body/$set", "updaterId"),
        ({"$unset": {"createdAt": True}}, "body/$unset", "createdAt"),
        ({"$inc": {"_id": 1}}, "body/$inc", "_id"),
        ({"$rename": {"a": "b"}}, "body", "$rename"),
    ],
)
def test_patch_refuses_service_fields_and_unknown_commands(
    crud_simulator, room, commands, where, field
):
    answer = raw_session(crud_simulator).patch(
        f"{crud_simulator.base_url}/{ROOMS}/{room}", json=commands
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": f'{where} must NOT have additional properties. Property "{field}" is not '
        "defined in validation schema",
    }


@pytest.mark.parametrize(
    "commands",
    [
        {"$set": {"version": 1}, "$inc": {"version": 1}},  # two commands on one path
        {"$set": {"participants": [], "participants.0.fullName": "x"}},
        {"$inc": {"bandyerRoomId": 1}},  # not a number
        {"$push": {"bandyerRoomId": "x"}},  # not an array
        {"$set": {"participants.$.fullName": "x"}},  # `$` with no array condition in the filter
    ],
)
def test_what_mongodb_refuses_while_writing_is_a_500_and_changes_nothing(
    crud_simulator, client, room, commands
):
    before = crud_simulator.document(ROOMS, room)
    answer = raw_session(crud_simulator).patch(
        f"{crud_simulator.base_url}/{ROOMS}/{room}", json=commands
    )
    assert answer.status_code == 500
    assert answer.json()["error"] == "Internal Server Error"
    assert crud_simulator.document(ROOMS, room) == before


def test_a_500_reaches_the_client_as_unavailable(client, room):
    with pytest.raises(CrudUnavailable):
        client.patch(ROOMS, room, inc={"bandyerRoomId": 1})


def test_patch_many_and_delete_many_answer_how_many(client):
    seed(client, ROOMS, {"job": "a", "n": 1}, {"job": "a", "n": 2}, {"job": "b", "n": 3})
    assert client.patch_many(ROOMS, query={"job": "a"}, set={"done": True}) == 2
    assert client.count(ROOMS, query={"done": True}) == 2
    assert client.delete_many(ROOMS, query={"job": "a"}) == 2
    assert [d["n"] for d in client.list(ROOMS)] == [3]


def test_delete_is_hard_and_answers_204_then_404(crud_simulator, client, room):
    url = f"{crud_simulator.base_url}/{ROOMS}/{room}"
    first, second = raw_session(crud_simulator).delete(url), raw_session(crud_simulator).delete(url)
    assert (first.status_code, first.content) == (204, b"")
    assert (second.status_code, second.json()) == (404, {"error": "not found"})
    assert crud_simulator.documents(ROOMS) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/teleconsultations/65a1b2c3d4e5f60718293a4b"),
        ("GET", "/teleconsultations/not-an-object-id"),
        ("GET", "/teleconsultations/65a1b2c3d4e5f60718293a4b/extra"),
        ("PUT", "/teleconsultations/"),
        ("POST", "/teleconsultations/count"),
        ("GET", "/"),
    ],
)
def test_every_404_has_crud_services_body(crud_simulator, method, path):
    answer = raw_session(crud_simulator).request(method, crud_simulator.base_url + path)
    assert (answer.status_code, answer.json()) == (404, {"error": "not found"})


def test_date_fields_are_stored_as_crud_service_writes_dates(crud_simulator):
    crud_simulator.configure(ROOMS, date_fields=["startDate", "endDate"])
    client = crud_simulator.client()
    (room_id,) = seed(client, ROOMS, {"startDate": "2024-06-12T12:00:00+02:00", "endDate": None})
    after = client.patch(ROOMS, room_id, set={"endDate": "2024-06-12T11:00:00.1Z"})
    assert (after["startDate"], after["endDate"]) == (
        "2024-06-12T10:00:00.000Z",
        "2024-06-12T11:00:00.100Z",
    )
    with pytest.raises(CrudBadRequest, match='body/startDate must match pattern "'):
        client.create(ROOMS, {"startDate": "12/06/2024"})
    with pytest.raises(CrudBadRequest, match='body/\\$set/endDate must match pattern "'):
        client.patch(ROOMS, room_id, set={"endDate": 1718186400000})
