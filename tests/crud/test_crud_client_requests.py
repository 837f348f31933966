"""Each CrudClient method sends exactly the crud-service request and reads its answer."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from responses import matchers

from common.request_ids import request_id_var
from crud.wire import State
from tests.crud.support import BASE_URL, COLLECTION, DOCUMENT_ID, make_client

ROOT = f"{BASE_URL}/{COLLECTION}/"
ONE = f"{ROOT}{DOCUMENT_ID}"
DOC = {"_id": DOCUMENT_ID, "bandyerRoomId": "room_1", "__STATE__": "PUBLIC"}


def query(expected: dict) -> matchers:
    return matchers.query_param_matcher(expected, strict_match=True)


def body(expected) -> matchers:
    return matchers.json_params_matcher(expected, strict_match=True)


def test_list_sends_filter_states_sort_page_and_projection(wire_mock, client):
    wire_mock.get(
        ROOT,
        json=[DOC],
        match=[
            query(
                {
                    "_q": '{"participants.userExternalId":"u1","startDate":{"$gte":'
                    '"2024-06-12T08:00:00.000Z"}}',
                    "_st": "PUBLIC,DRAFT",
                    "_s": "-startDate,_id",
                    "_l": "200",
                    "_sk": "400",
                    "_p": "bandyerRoomId,participants",
                }
            ),
            matchers.header_matcher({"Accept": "application/json"}),
        ],
    )
    found = client.list(
        COLLECTION,
        query={
            "participants.userExternalId": "u1",
            "startDate": {"$gte": datetime(2024, 6, 12, 10, tzinfo=timezone(timedelta(hours=2)))},
        },
        states=(State.PUBLIC, "DRAFT"),
        sort=("-startDate", "_id"),
        limit=200,
        skip=400,
        projection=["bandyerRoomId", "participants"],
    )
    assert found == [DOC]
    assert wire_mock.calls[0].request.req_kwargs["timeout"] == (3.05, 10.0)


def test_list_without_arguments_sends_no_parameters(wire_mock, client):
    wire_mock.get(ROOT, json=[], match=[query({})])
    assert client.list(COLLECTION) == []


def test_keyset_page_sends_the_last_id_sorted_by_id(wire_mock, client):
    expected = {"_q": f'{{"_id":{{"$gt":"{DOCUMENT_ID}"}}}}', "_s": "_id", "_l": "200"}
    wire_mock.get(ROOT, json=[], match=[query(expected)])
    client.list(COLLECTION, query={"_id": {"$gt": DOCUMENT_ID}}, sort="_id", limit=200)


def test_count_reads_the_bare_integer(wire_mock, client):
    wire_mock.get(f"{ROOT}count", body="3", match=[query({"_st": "TRASH"})])
    assert client.count(COLLECTION, states=["TRASH"]) == 3


def test_get_reads_one_document(wire_mock, client):
    wire_mock.get(ONE, json=DOC, match=[query({"_q": '{"version":3}'})])
    assert client.get(COLLECTION, DOCUMENT_ID, query={"version": 3}) == DOC


def test_get_answers_none_when_crud_says_not_found(wire_mock, client):
    wire_mock.get(ONE, json={"error": "not found"}, status=404)
    assert client.get(COLLECTION, DOCUMENT_ID) is None


def test_get_quotes_the_id_in_the_path(wire_mock, client):
    wire_mock.get(f"{ROOT}a%2Fb%3Fc", json={**DOC, "_id": "a/b?c"})
    assert client.get(COLLECTION, "a/b?c")["_id"] == "a/b?c"


def test_create_posts_the_document_and_returns_its_id(wire_mock, client):
    sent = {
        "bandyerRoomId": "room_1",
        "startDate": "2024-06-12T10:00:00.000Z",
        "participants": [{"userExternalId": "u1", "fullName": "Zoë"}],
        "__STATE__": "PUBLIC",
    }
    wire_mock.post(ROOT, json={"_id": DOCUMENT_ID}, match=[body(sent)])
    created = client.create(
        COLLECTION,
        {**sent, "startDate": datetime(2024, 6, 12, 10, tzinfo=UTC), "__STATE__": State.PUBLIC},
    )
    assert created == DOCUMENT_ID
    request = wire_mock.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert "Zoë".encode() in request.body  # UTF-8, not \\u escapes


def test_create_sends_the_acting_user_in_the_configured_header(wire_mock):
    client = make_client(user_id_header="miauserid").as_user("auth0|doctor")
    wire_mock.post(
        ROOT,
        json={"_id": DOCUMENT_ID},
        match=[matchers.header_matcher({"miauserid": "auth0|doctor"})],
    )
    client.create(COLLECTION, {"a": 1})


def test_no_user_means_no_user_header(wire_mock, client):
    wire_mock.post(ROOT, json={"_id": DOCUMENT_ID})
    client.create(COLLECTION, {"a": 1})
    assert "userid" not in wire_mock.calls[0].request.headers


def test_as_user_leaves_the_original_client_anonymous(wire_mock, client):
    wire_mock.get(ROOT, json=[])
    wire_mock.get(ROOT, json=[])
    client.as_user("someone").list(COLLECTION)
    client.list(COLLECTION)
    assert wire_mock.calls[0].request.headers["userid"] == "someone"
    assert "userid" not in wire_mock.calls[1].request.headers


def test_the_request_id_of_the_request_being_served_is_forwarded(wire_mock, client):
    wire_mock.get(ROOT, json=[], match=[matchers.header_matcher({"X-Request-Id": "req-42"})])
    token = request_id_var.set("req-42")
    try:
        client.list(COLLECTION)
    finally:
        request_id_var.reset(token)


def test_without_a_request_id_none_is_sent(wire_mock, client):
    wire_mock.get(ROOT, json=[])
    client.list(COLLECTION)
    assert "X-Request-Id" not in wire_mock.calls[0].request.headers


def test_bulk_create_posts_the_array_and_returns_the_ids_in_order(wire_mock, client):
    ids = [{"_id": "a" * 24}, {"_id": "b" * 24}]
    wire_mock.post(f"{ROOT}bulk", json=ids, match=[body([{"n": 1}, {"n": 2}])])
    assert client.bulk_create(COLLECTION, [{"n": 1}, {"n": 2}]) == ["a" * 24, "b" * 24]


def test_bulk_create_of_nothing_makes_no_call(wire_mock, client):
    assert client.bulk_create(COLLECTION, []) == []


def test_patch_sends_every_command_and_returns_the_document_after(wire_mock, client):
    commands = {
        "$set": {"participants.$.fullName": "Ada", "endDate": "2024-06-12T11:00:00.000Z"},
        "$unset": {"accessLink": True},
        "$inc": {"version": 1},
        "$push": {"participants": {"userExternalId": "u3"}},
        "$pull": {"participants": {"userExternalId": "u9"}},
    }
    wire_mock.patch(
        ONE,
        json={**DOC, "version": 4},
        match=[query({"_q": '{"version":3}', "_st": "PUBLIC,DRAFT"}), body(commands)],
    )
    after = client.patch(
        COLLECTION,
        DOCUMENT_ID,
        query={"version": 3},
        states=("PUBLIC", "DRAFT"),
        set={"participants.$.fullName": "Ada", "endDate": datetime(2024, 6, 12, 11, tzinfo=UTC)},
        unset=["accessLink"],
        inc={"version": 1},
        push={"participants": {"userExternalId": "u3"}},
        pull={"participants": {"userExternalId": "u9"}},
    )
    assert after["version"] == 4
    assert b'"$unset":{"accessLink":true}' in wire_mock.calls[0].request.body  # not 1


def test_patch_sends_only_the_commands_given(wire_mock, client):
    wire_mock.patch(ONE, json=DOC, match=[query({}), body({"$set": {"a": 1}})])
    client.patch(COLLECTION, DOCUMENT_ID, set={"a": 1})


def test_a_patch_whose_filter_matched_nothing_answers_none(wire_mock, client):
    wire_mock.patch(ONE, json={"error": "not found"}, status=404)
    assert client.patch(COLLECTION, DOCUMENT_ID, query={"version": 3}, inc={"version": 1}) is None


def test_a_patch_without_commands_is_refused_before_any_call(wire_mock, client):
    with pytest.raises(ValueError, match="at least one of"):
        client.patch(COLLECTION, DOCUMENT_ID, set={}, unset=[])


def test_patch_many_sends_the_filter_and_returns_how_many(wire_mock, client):
    wire_mock.patch(
        ROOT,
        body="2",
        match=[query({"_q": '{"jobState":"pending"}'}), body({"$set": {"jobState": "done"}})],
    )
    assert (
        client.patch_many(COLLECTION, query={"jobState": "pending"}, set={"jobState": "done"}) == 2
    )


def test_delete_answers_true_on_204_and_false_on_404(wire_mock, client):
    wire_mock.delete(ONE, status=204, match=[query({"_st": "TRASH"})])
    wire_mock.delete(ONE, json={"error": "not found"}, status=404)
    assert client.delete(COLLECTION, DOCUMENT_ID, states=["TRASH"]) is True
    assert client.delete(COLLECTION, DOCUMENT_ID) is False


def test_delete_many_sends_the_filter_and_returns_how_many(wire_mock, client):
    wire_mock.delete(ROOT, body="0", match=[query({"_q": '{"bandyerRoomId":"r"}'})])
    assert client.delete_many(COLLECTION, query={"bandyerRoomId": "r"}) == 0


def test_delete_many_refuses_an_empty_filter(wire_mock, client):
    with pytest.raises(ValueError, match="non-empty query"):
        client.delete_many(COLLECTION, query={})


def test_change_state_posts_state_to_without_a_state_filter(wire_mock, client):
    wire_mock.post(
        f"{ONE}/state",
        status=204,
        match=[query({"_q": '{"version":2}'}), body({"stateTo": "TRASH"})],
    )
    wire_mock.post(f"{ONE}/state", json={"error": "not found"}, status=404)
    assert client.change_state(COLLECTION, DOCUMENT_ID, State.TRASH, query={"version": 2}) is True
    assert client.change_state(COLLECTION, DOCUMENT_ID, "TRASH") is False


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.list(COLLECTION, states=["ARCHIVED"]), "ARCHIVED"),
        (lambda c: c.list(COLLECTION, states=[]), "at least one state"),
        (lambda c: c.list(COLLECTION, limit=0), "limit"),
        (lambda c: c.list(COLLECTION, limit=True), "limit"),
        (lambda c: c.list(COLLECTION, skip=-1), "skip"),
        (lambda c: c.list("rooms/../users"), "collection name"),
        (lambda c: c.get(COLLECTION, ""), "non-empty"),
        (lambda c: c.change_state(COLLECTION, DOCUMENT_ID, "GONE"), "GONE"),
        (lambda c: c.create(COLLECTION, {"at": datetime(2024, 1, 1)}), "timezone-aware"),
        (lambda c: c.as_user("line\nbreak"), "printable"),
    ],
)
def test_what_crud_service_would_refuse_is_refused_before_any_call(
    wire_mock, client, call, message
):
    with pytest.raises(ValueError, match=message):
        call(client)


def test_a_value_json_cannot_carry_is_refused_before_any_call(wire_mock, client):
    with pytest.raises(TypeError, match="bytes cannot be sent"):
        client.create(COLLECTION, {"blob": b"x"})


def test_the_session_ignores_environment_proxies_unless_one_is_configured(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    assert make_client()._session.trust_env is False
    proxied = make_client(proxy_url="http://egress:3128")
    assert proxied._session.proxies == {"http": "http://egress:3128", "https": "http://egress:3128"}


def test_a_body_is_compact_json(wire_mock, client):
    wire_mock.post(ROOT, json={"_id": DOCUMENT_ID})
    client.create(COLLECTION, {"a": [1, 2], "b": {"c": None}})
    assert (
        wire_mock.calls[0].request.body
        == json.dumps({"a": [1, 2], "b": {"c": None}}, separators=(",", ":")).encode()
    )
