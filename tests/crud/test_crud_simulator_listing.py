"""Lists in the simulator: `_l` limits, `_sk`, `_s` sort, `_p` projection, count, keyset walks.

Sources: crud-service lib/JSONSchemaGenerator.js (`_l`: minimum 1, default 25 and maximum
CRUD_MAX_LIMIT while CRUD_LIMIT_CONSTRAINT_ENABLED; querystring additionalProperties false),
lib/httpInterface.js (`_s` "-field", comma-separated or repeated; `_p` comma-separated; GET
/count answers a bare number), tests/httpInterface.getList.test.js ('(limits)', sorting and
projection cases), MongoDB (sort order of mixed types, `_id` always projected).
"""

import pytest

from crud.errors import CrudBadRequest
from tests.crud.support import raw_session, seed

JOBS = "teleconsultation_room_jobs"


@pytest.fixture
def client(crud_simulator):
    crud_simulator.configure(JOBS, default_state="PUBLIC")
    return crud_simulator.client()


def test_the_limit_is_25_by_default_and_200_at_most(client):
    client.bulk_create(JOBS, [{"n": n} for n in range(201)])
    assert len(client.list(JOBS)) == 25
    assert len(client.list(JOBS, limit=200)) == 200
    with pytest.raises(CrudBadRequest) as caught:
        client.list(JOBS, limit=201)
    assert caught.value.message == "querystring/_l must be <= 200"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"_l": "0"}, "querystring/_l must be >= 1"),
        ({"_l": "ten"}, "querystring/_l must be integer"),
        ({"_sk": "-1"}, "querystring/_sk must be >= 0"),
        ({"_st": "ARCHIVED"}, "querystring/_st must match pattern"),
        ({"_x": "1"}, 'querystring must NOT have additional properties. Property "_x" is not'),
    ],
)
def test_query_parameters_are_checked_as_the_schema_checks_them(crud_simulator, params, message):
    answer = raw_session(crud_simulator).get(f"{crud_simulator.base_url}/{JOBS}/", params=params)
    assert answer.status_code == 400
    assert answer.json()["message"].startswith(message)


def test_count_takes_only_a_filter_and_states(crud_simulator, client):
    seed(client, JOBS, {"kind": "delete"}, {"kind": "delete"}, {"kind": "swap"})
    assert client.count(JOBS, query={"kind": "delete"}) == 2
    session, url = raw_session(crud_simulator), f"{crud_simulator.base_url}/{JOBS}/count"
    assert session.get(url).text == "3"  # a bare number
    refused = session.get(url, params={"_l": "1"})
    assert refused.status_code == 400
    assert 'Property "_l" is not defined' in refused.json()["message"]


def test_skip_and_limit_page_in_insertion_order_without_a_sort(client):
    client.bulk_create(JOBS, [{"n": n} for n in range(7)])
    assert [d["n"] for d in client.list(JOBS, skip=2, limit=3)] == [2, 3, 4]


def test_sort_ascending_descending_and_by_several_fields(client):
    seed(
        client,
        JOBS,
        {"n": 1, "due": 3, "name": "b"},
        {"n": 2, "due": 1, "name": "z"},
        {"n": 3, "due": 3, "name": "a"},
        {"n": 4, "name": "m"},  # no `due`: sorts as null, before numbers
        {"n": 5, "due": "soon", "name": "c"},  # a string sorts after every number
    )
    assert [d["n"] for d in client.list(JOBS, sort="due")] == [4, 2, 1, 3, 5]
    assert [d["n"] for d in client.list(JOBS, sort="-due")] == [5, 1, 3, 2, 4]
    assert [d["n"] for d in client.list(JOBS, sort=["due", "-name"])] == [4, 2, 1, 3, 5]
    assert [d["n"] for d in client.list(JOBS, sort=["-due", "name"])] == [5, 3, 1, 2, 4]


def test_a_repeated_sort_parameter_counts_like_a_comma(crud_simulator, client):
    seed(client, JOBS, {"a": 1, "b": 1}, {"a": 1, "b": 2}, {"a": 0, "b": 0})
    url = f"{crud_simulator.base_url}/{JOBS}/"
    repeated = raw_session(crud_simulator).get(url, params=[("_s", "a"), ("_s", "-b")]).json()
    assert [d["b"] for d in repeated] == [0, 2, 1]


def test_projection_keeps_id_and_reaches_into_arrays(client):
    seed(
        client,
        JOBS,
        {
            "roomId": "r1",
            "secret": "x",
            "meta": {"tries": 2, "last": "e"},
            "participants": [{"userExternalId": "u1", "fullName": "Ada"}, "stray"],
        },
    )
    (document,) = client.list(
        JOBS, projection=["roomId", "meta.tries", "participants.userExternalId", "nowhere"]
    )
    assert document == {
        "_id": document["_id"],
        "roomId": "r1",
        "meta": {"tries": 2},
        "participants": [{"userExternalId": "u1"}],
    }


def test_get_one_projects_too(crud_simulator, client):
    (job,) = seed(client, JOBS, {"roomId": "r1", "secret": "x"})
    answer = raw_session(crud_simulator).get(
        f"{crud_simulator.base_url}/{JOBS}/{job}", params={"_p": "roomId"}
    )
    assert answer.json() == {"_id": job, "roomId": "r1"}


def test_a_keyset_walk_by_id_sees_every_document_once_in_order(client):
    created = client.bulk_create(JOBS, [{"n": n} for n in range(450)])
    seen, last, pages = [], None, 0
    for _ in range(10):  # bounded: 450 documents are 3 pages of 200
        query = {"_id": {"$gt": last}} if last else None
        page = client.list(JOBS, query=query, sort="_id", limit=200)
        if not page:
            break
        pages += 1
        seen += [d["_id"] for d in page]
        last = page[-1]["_id"]
    assert pages == 3
    assert seen == sorted(created)
    assert [d["n"] for d in client.list(JOBS, sort="_id", limit=3)] == [0, 1, 2]


def test_a_list_answer_is_json(crud_simulator, client):
    answer = raw_session(crud_simulator).get(f"{crud_simulator.base_url}/{JOBS}/")
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == []
