"""Failures become the CrudError tree, carrying no body, no filter and no duplicated value."""

import logging

import pytest
import requests

from crud.errors import (
    CrudBadRequest,
    CrudBadResponse,
    CrudConflict,
    CrudError,
    CrudNotFound,
    CrudTimeout,
    CrudUnavailable,
)
from tests.crud.support import BASE_URL, COLLECTION, DOCUMENT_ID, make_client

ROOT = f"{BASE_URL}/{COLLECTION}/"
PERSONAL = "mario.rossi@example.org"
DUPLICATE = (
    "E11000 duplicate key error collection: crud.users index: receivedUserId_1 "
    f'dup key: {{ receivedUserId: "{PERSONAL}" }}'
)


def fastify_body(status: int, error: str, message: str) -> dict:
    return {"statusCode": status, "error": error, "message": message}


@pytest.fixture
def quiet_client():
    return make_client(get_retries=0)


def test_a_400_is_a_bad_request_with_crud_services_message(wire_mock, quiet_client):
    message = 'querystring must NOT have additional properties. Property "_x" is not defined'
    wire_mock.get(ROOT, json=fastify_body(400, "Bad Request", message), status=400)
    with pytest.raises(CrudBadRequest) as caught:
        quiet_client.list(COLLECTION)
    assert caught.value.status == 400
    assert caught.value.message == message
    assert (caught.value.operation, caught.value.collection) == ("list", COLLECTION)
    assert message in str(caught.value)


@pytest.mark.parametrize("status", [406, 413, 415, 422])
def test_other_4xx_are_bad_requests(wire_mock, quiet_client, status):
    wire_mock.get(ROOT, json=fastify_body(status, "x", "refused"), status=status)
    with pytest.raises(CrudBadRequest) as caught:
        quiet_client.list(COLLECTION)
    assert caught.value.status == status


def test_a_404_on_a_collection_route_means_no_such_collection(wire_mock, quiet_client):
    wire_mock.get(ROOT, json={"error": "not found"}, status=404)
    with pytest.raises(CrudNotFound):
        quiet_client.list(COLLECTION)


def test_a_409_is_a_conflict_naming_the_index_not_the_value(wire_mock, quiet_client):
    wire_mock.post(ROOT, json=fastify_body(409, "Conflict", DUPLICATE), status=409)
    with pytest.raises(CrudConflict) as caught:
        quiet_client.create(COLLECTION, {"receivedUserId": PERSONAL})
    assert caught.value.index == "receivedUserId_1"
    assert caught.value.status == 409
    assert PERSONAL not in str(caught.value)
    assert not hasattr(caught.value, "message")


def test_a_duplicate_key_on_patch_arrives_as_a_500_and_is_a_conflict(wire_mock, quiet_client):
    # crud-service maps MongoDB's 11000 to 409 only on POST /, /bulk and import (httpInterface.js).
    url = f"{ROOT}{DOCUMENT_ID}"
    wire_mock.patch(url, json=fastify_body(500, "Internal Server Error", DUPLICATE), status=500)
    with pytest.raises(CrudConflict) as caught:
        quiet_client.patch(COLLECTION, DOCUMENT_ID, set={"receivedUserId": PERSONAL})
    assert caught.value.index == "receivedUserId_1"
    assert PERSONAL not in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_is_unavailable_without_its_message(wire_mock, quiet_client, status):
    wire_mock.get(ROOT, json=fastify_body(status, "x", f"boom {PERSONAL}"), status=status)
    with pytest.raises(CrudUnavailable) as caught:
        quiet_client.list(COLLECTION)
    assert caught.value.status == status
    assert PERSONAL not in str(caught.value)


def test_connection_refused_is_unavailable_and_does_not_quote_the_url(wire_mock, quiet_client):
    filter_ = {"participants.userExternalId": PERSONAL}
    wire_mock.get(ROOT, body=requests.ConnectionError(f"refused: {ROOT}?_q={PERSONAL}"))
    with pytest.raises(CrudUnavailable) as caught:
        quiet_client.list(COLLECTION, query=filter_)
    assert caught.value.status is None
    assert PERSONAL not in str(caught.value)
    assert "ConnectionError" in str(caught.value)


@pytest.mark.parametrize("failure", [requests.ReadTimeout, requests.ConnectTimeout])
def test_timeouts_are_timeouts(wire_mock, quiet_client, failure):
    wire_mock.get(ROOT, body=failure(f"timed out: {PERSONAL}"))
    with pytest.raises(CrudTimeout) as caught:
        quiet_client.list(COLLECTION)
    assert PERSONAL not in str(caught.value)


@pytest.mark.parametrize(
    ("method", "url", "answer", "call"),
    [
        ("GET", ROOT, "not json", lambda c: c.list(COLLECTION)),
        ("GET", ROOT, '{"_id": "x"}', lambda c: c.list(COLLECTION)),
        ("GET", ROOT, '[{"name": "no id"}]', lambda c: c.list(COLLECTION)),
        ("GET", f"{ROOT}count", '"3"', lambda c: c.count(COLLECTION)),
        ("GET", f"{ROOT}count", "true", lambda c: c.count(COLLECTION)),
        ("GET", f"{ROOT}count", "-1", lambda c: c.count(COLLECTION)),
        ("POST", ROOT, "{}", lambda c: c.create(COLLECTION, {})),
        ("POST", ROOT, '{"_id": ""}', lambda c: c.create(COLLECTION, {})),
        ("POST", f"{ROOT}bulk", '{"_id": "x"}', lambda c: c.bulk_create(COLLECTION, [{}])),
        ("GET", f"{ROOT}{DOCUMENT_ID}", "[]", lambda c: c.get(COLLECTION, DOCUMENT_ID)),
        ("GET", f"{ROOT}{DOCUMENT_ID}", "", lambda c: c.get(COLLECTION, DOCUMENT_ID)),
    ],
)
def test_an_answer_of_the_wrong_shape_is_a_bad_response(
    wire_mock, quiet_client, method, url, answer, call
):
    wire_mock.add(method, url, body=answer, status=200)
    with pytest.raises(CrudBadResponse) as caught:
        call(quiet_client)
    assert caught.value.status == 200


def test_a_redirect_is_not_followed(wire_mock, quiet_client):
    wire_mock.get(ROOT, status=302, headers={"Location": "http://elsewhere.invalid/"})
    with pytest.raises(CrudBadResponse) as caught:
        quiet_client.list(COLLECTION)
    assert caught.value.status == 302


def test_every_error_is_a_crud_error(wire_mock, quiet_client):
    wire_mock.get(ROOT, status=503)
    with pytest.raises(CrudError):
        quiet_client.list(COLLECTION)


def test_each_call_is_logged_with_status_and_duration_but_no_filter_or_body(
    wire_mock, quiet_client, caplog
):
    wire_mock.get(ROOT, json=[{"_id": DOCUMENT_ID, "fullName": PERSONAL}])
    wire_mock.post(ROOT, json=fastify_body(409, "Conflict", DUPLICATE), status=409)
    with caplog.at_level(logging.DEBUG, logger="crud"):
        quiet_client.list(COLLECTION, query={"fullName": PERSONAL})
        with pytest.raises(CrudConflict):
            quiet_client.create(COLLECTION, {"receivedUserId": PERSONAL})
    records = [r for r in caplog.records if r.name == "crud"]
    assert [(r.operation, r.status) for r in records] == [("list", 200), ("create", 409)]
    assert all(isinstance(r.duration_ms, float) for r in records)
    assert all(PERSONAL not in r.getMessage() for r in caplog.records)
