"""`_q` filters in the simulator match as crud-service (MongoDB) matches them.

Sources: crud-service lib/QueryParser.js (allowed operators, "Unknown operator", "Unsupported
operator", ObjectId and Date casts), tests/httpInterface.getList.test.js (the filters it exercises),
MongoDB's query semantics for arrays, types and null.
"""

import json

import pytest

from crud.errors import CrudBadRequest
from tests.crud.support import raw_session, seed

ROOMS = "teleconsultations"


@pytest.fixture
def client(crud_simulator):
    return crud_simulator.client(user_id="doctor-1")


@pytest.fixture
def rooms(client):
    """Three rooms; the third has no `endDate` and a string where the others have numbers."""
    first, second, third = seed(
        client,
        ROOMS,
        {
            "bandyerRoomId": "r1",
            "participantsNumber": 2,
            "participants": [
                {"userExternalId": "u1", "groups": ["doctor"], "language": "it"},
                {"userExternalId": "u2", "groups": ["patient"], "language": "en"},
            ],
            "endDate": "2024-06-12T11:00:00.000Z",
            "live": True,
        },
        {
            "bandyerRoomId": "r2",
            "participantsNumber": 3,
            "participants": [
                {"userExternalId": "u2", "groups": ["doctor"], "language": "it"},
                {"userExternalId": "u3", "groups": ["patient"], "language": "it"},
            ],
            "endDate": None,
        },
        {"bandyerRoomId": "R3", "participantsNumber": "3", "participants": []},
    )
    return {"r1": first, "r2": second, "R3": third}


def room_ids(client, query):
    return [room["bandyerRoomId"] for room in client.list(ROOMS, query=query)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"bandyerRoomId": "r2"}, ["r2"]),  # implicit $eq
        ({"bandyerRoomId": {"$eq": "r2"}}, ["r2"]),
        ({"bandyerRoomId": {"$ne": "r2"}}, ["r1", "R3"]),
        ({"bandyerRoomId": {"$in": ["r1", "R3", "nope"]}}, ["r1", "R3"]),
        ({"bandyerRoomId": {"$nin": ["r1"]}}, ["r2", "R3"]),
        ({"participantsNumber": {"$gt": 2}}, ["r2"]),  # "3" is a string: no match
        ({"participantsNumber": {"$gte": 2}}, ["r1", "r2"]),
        ({"participantsNumber": {"$lt": 3}}, ["r1"]),
        ({"participantsNumber": {"$lte": 3, "$gt": 2}}, ["r2"]),
        ({"participantsNumber": "3"}, ["R3"]),  # equality is typed too
        ({"live": 1}, []),  # a boolean is not a number
        ({"live": True}, ["r1"]),
        ({"bandyerRoomId": {"$gt": "r"}}, ["r1", "r2"]),  # strings compare bytewise: "R3" < "r"
    ],
)
def test_comparison_operators_hold_only_between_values_of_one_type(client, rooms, query, expected):
    assert room_ids(client, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"endDate": {"$exists": True}}, ["r1", "r2"]),  # a null is a value that exists
        ({"endDate": {"$exists": False}}, ["R3"]),
        ({"endDate": None}, ["r2", "R3"]),  # null matches null and missing
        ({"endDate": {"$ne": None}}, ["r1"]),
    ],
)
def test_exists_and_null_follow_mongodb(client, rooms, query, expected):
    assert room_ids(client, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"participants.userExternalId": "u2"}, ["r1", "r2"]),
        ({"participants.userExternalId": {"$in": ["u3", "u9"]}}, ["r2"]),
        ({"participants.groups": "doctor"}, ["r1", "r2"]),  # an array of arrays, walked through
        ({"participants.0.userExternalId": "u2"}, ["r2"]),  # a numeric part indexes
        ({"participants": []}, ["R3"]),  # a whole-array equality
        # The same element must be u2 and a doctor: r1's u2 is a patient.
        (
            {"participants": {"$elemMatch": {"userExternalId": "u2", "groups": "doctor"}}},
            ["r2"],
        ),
        # Across elements, dotted conditions may hold on different ones.
        ({"participants.userExternalId": "u2", "participants.groups": "doctor"}, ["r1", "r2"]),
        ({"participants.language": {"$all": ["it", "en"]}}, ["r1"]),
    ],
)
def test_dotted_paths_and_elem_match_walk_arrays(client, rooms, query, expected):
    assert room_ids(client, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"$or": [{"bandyerRoomId": "r1"}, {"participantsNumber": "3"}]}, ["r1", "R3"]),
        ({"$and": [{"participantsNumber": {"$gte": 2}}, {"endDate": None}]}, ["r2"]),
        (
            {"$or": [{"$and": [{"bandyerRoomId": "r2"}]}, {"bandyerRoomId": "R3"}]},
            ["r2", "R3"],
        ),
        ({"bandyerRoomId": {"$regex": "^r", "$options": "i"}}, ["r1", "r2", "R3"]),
        ({"bandyerRoomId": {"$regex": "^r"}}, ["r1", "r2"]),
    ],
)
def test_and_or_and_regex_combine(client, rooms, query, expected):
    assert room_ids(client, query) == expected


def test_dates_compare_as_dates_whatever_offset_or_precision_was_written(crud_simulator):
    crud_simulator.configure(ROOMS, date_fields=["startDate"])
    client = crud_simulator.client()
    seed(client, ROOMS, {"n": 1, "startDate": "2024-06-12T12:00:00+02:00"})
    seed(client, ROOMS, {"n": 2, "startDate": "2024-06-12T10:30:00.5Z"})
    stored = [room["startDate"] for room in client.list(ROOMS)]
    assert stored == ["2024-06-12T10:00:00.000Z", "2024-06-12T10:30:00.500Z"]
    query = {"startDate": {"$gt": "2024-06-12T12:15:00+02:00"}}
    assert [room["n"] for room in client.list(ROOMS, query=query)] == [2]
    epoch_ms = {"startDate": {"$lte": 1718186400000}}  # QueryParser castDate: numbers are ms
    assert [room["n"] for room in client.list(ROOMS, query=epoch_ms)] == [1]


def test_created_at_is_a_date_without_any_configuration(client, rooms):
    assert len(client.list(ROOMS, query={"createdAt": {"$gte": "2000-01-01"}})) == 3
    assert client.list(ROOMS, query={"createdAt": {"$lt": "2000-01-01T00:00:00Z"}}) == []


def test_an_unreadable_date_is_refused(client, rooms):
    with pytest.raises(CrudBadRequest, match="Invalid Date"):
        client.list(ROOMS, query={"createdAt": {"$gt": "last tuesday"}})


def test_id_operands_are_object_ids_and_upper_case_hex_is_the_same_id(client, rooms):
    upper = rooms["r2"].upper()
    assert room_ids(client, {"_id": upper}) == ["r2"]
    assert room_ids(client, {"_id": {"$in": [upper, rooms["r1"]]}}) == ["r1", "r2"]
    with pytest.raises(CrudBadRequest) as caught:
        client.list(ROOMS, query={"_id": "not-an-object-id"})
    assert caught.value.message == "Invalid objectId"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"$nor": [{"a": 1}]}, "Unknown operator: $nor"),
        ({"$where": "true"}, "Unknown operator: $where"),
        ({"a": {"$size": 1}}, "Unsupported operator: $size"),
        ({"a": {"$not": {"$eq": 1}}}, "Unsupported operator: $not"),
    ],
)
def test_operators_crud_service_does_not_accept_are_400s_with_its_message(
    crud_simulator, query, message
):
    answer = raw_session(crud_simulator).get(
        f"{crud_simulator.base_url}/{ROOMS}/", params={"_q": json.dumps(query)}
    )
    assert answer.status_code == 400
    assert answer.json() == {"statusCode": 400, "error": "Bad Request", "message": message}


def test_a_field_filter_in_the_query_string_matches_its_text_or_its_number(crud_simulator, rooms):
    session = raw_session(crud_simulator)
    url = f"{crud_simulator.base_url}/{ROOMS}/"
    by_name = session.get(url, params={"bandyerRoomId": "r2"}).json()
    by_number = session.get(url, params={"participantsNumber": "3"}).json()
    assert [room["bandyerRoomId"] for room in by_name] == ["r2"]
    assert sorted(room["bandyerRoomId"] for room in by_number) == ["R3", "r2"]
