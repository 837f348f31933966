"""Only reads are repeated, only after transient failures, a bounded number of times."""

import pytest
import requests

from crud.errors import CrudBadRequest, CrudTimeout, CrudUnavailable
from tests.crud.support import BASE_URL, COLLECTION, DOCUMENT_ID, make_client

ROOT = f"{BASE_URL}/{COLLECTION}/"
ONE = f"{ROOT}{DOCUMENT_ID}"


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 502},
        {"status": 503},
        {"status": 504},
        {"body": requests.ConnectionError("reset")},
        {"body": requests.ReadTimeout("slow")},
    ],
)
def test_a_read_is_repeated_after_a_transient_failure(wire_mock, client, sleeps, failure):
    wire_mock.get(ROOT, **failure)
    wire_mock.get(ROOT, json=[])
    assert client.list(COLLECTION) == []
    assert len(wire_mock.calls) == 2
    assert sleeps.waits == [0.1]  # jitter picks the maximum in these tests


def test_reads_give_up_after_the_configured_retries_with_growing_waits(wire_mock, sleeps):
    client = make_client(sleeps, get_retries=2)
    for _ in range(3):
        wire_mock.get(f"{ROOT}count", status=503)
    with pytest.raises(CrudUnavailable):
        client.count(COLLECTION)
    assert len(wire_mock.calls) == 3
    assert sleeps.waits == [0.1, 0.2]


def test_a_timeout_that_persists_is_a_timeout(wire_mock, sleeps):
    client = make_client(sleeps, get_retries=1)
    wire_mock.get(ONE, body=requests.ConnectTimeout("no route"))
    wire_mock.get(ONE, body=requests.ConnectTimeout("no route"))
    with pytest.raises(CrudTimeout):
        client.get(COLLECTION, DOCUMENT_ID)
    assert len(wire_mock.calls) == 2


@pytest.mark.parametrize(("status", "error"), [(500, CrudUnavailable), (400, CrudBadRequest)])
def test_a_read_is_not_repeated_after_a_failure_repeating_would_not_fix(
    wire_mock, client, sleeps, status, error
):
    wire_mock.get(ROOT, status=status, json={"message": "no"})
    with pytest.raises(error):
        client.list(COLLECTION)
    assert len(wire_mock.calls) == 1
    assert sleeps.waits == []


@pytest.mark.parametrize(
    ("method", "url", "call"),
    [
        ("POST", ROOT, lambda c: c.create(COLLECTION, {"a": 1})),
        ("POST", f"{ROOT}bulk", lambda c: c.bulk_create(COLLECTION, [{"a": 1}])),
        ("PATCH", ONE, lambda c: c.patch(COLLECTION, DOCUMENT_ID, inc={"version": 1})),
        ("PATCH", ROOT, lambda c: c.patch_many(COLLECTION, query={"a": 1}, set={"b": 2})),
        ("DELETE", ONE, lambda c: c.delete(COLLECTION, DOCUMENT_ID)),
        ("DELETE", ROOT, lambda c: c.delete_many(COLLECTION, query={"a": 1})),
        ("POST", f"{ONE}/state", lambda c: c.change_state(COLLECTION, DOCUMENT_ID, "TRASH")),
    ],
)
@pytest.mark.parametrize(
    "failure", [{"status": 503}, {"body": requests.ConnectionError("reset after sending")}]
)
def test_a_write_is_never_repeated(wire_mock, client, sleeps, method, url, call, failure):
    wire_mock.add(method, url, **failure)
    with pytest.raises(CrudUnavailable):
        call(client)
    assert len(wire_mock.calls) == 1
    assert sleeps.waits == []
