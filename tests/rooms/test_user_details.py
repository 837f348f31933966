"""POST /kaleyra/user-details: Kaleyra's user details provider. A signed lookup is answered with
the names of live visits' participants, nothing else; each lookup is in the audit trail, never a
name; what is unsigned or unreadable is refused with the reason."""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from kaleyra.ids import kaleyra_user_id_for
from kaleyra.user_details import MAX_USER_IDS
from rooms.storage import get_storage
from tests.rooms.conftest import NOW, doctor, patient
from tests.rooms.kaleyra_events import sign_now

pytestmark = [pytest.mark.django_db]

PATH = "/kaleyra/user-details"
ADA = kaleyra_user_id_for("doctor-1")
MARIO = kaleyra_user_id_for("patient-1")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def lookup(payload, *, signature: str | None = "sign"):
    """POSTs `payload` (JSON-encoded unless bytes) as Kaleyra does: signed now with the service's
    key, no gateway identity, no cookies. `signature` None sends none; another string, that."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if signature == "sign":
        signature = sign_now(body)
    headers = {} if signature is None else {"HTTP_BANDYER_SIGNATURE": signature}
    return Client().post(PATH, body, content_type="application/json", **headers)


def names(response) -> dict[str, str]:
    assert response.status_code == 200, response.json()
    return {user["user_id"]: user["display_name"] for user in response.json()["users"]}


def trail() -> list:
    entries = [e for batch in get_storage().audit_entries(since=EPOCH) for e in batch]
    return [e for e in entries if e.action == "kaleyra.user_details"]


def assert_error(response, status: int, message: str) -> None:
    assert response.status_code == status
    assert response.json() == {
        "statusCode": status,
        "error": {400: "Bad Request", 401: "Unauthorized"}[status],
        "message": message,
    }


# --- who is named ---------------------------------------------------------------------------


@pytest.mark.usefixtures("storage_backend")
def test_a_signed_lookup_names_the_participants_of_a_live_visit(create):
    create([doctor(), patient(full_name="Mario Bianchi")])
    response = lookup({"user_ids": [MARIO, "user_unknown_1", ADA]})
    assert response.json() == {
        "users": [
            {"user_id": MARIO, "display_name": "Mario Bianchi", "image": None},
            {"user_id": ADA, "display_name": "Dr. Ada", "image": None},
        ]
    }


@pytest.mark.usefixtures("storage_backend")
def test_the_users_of_a_trashed_visit_are_not_named(api, create):
    visit = create([doctor(), patient(full_name="Mario Bianchi")])
    assert api.delete(f"/teleconsultation/{visit}").status_code == 204
    assert names(lookup({"user_ids": [ADA, MARIO]})) == {}


@pytest.mark.usefixtures("storage_backend")
def test_a_user_is_named_as_in_their_latest_live_visit(api, create, clock):
    create([doctor(), patient(full_name="Mario Bianchi")])
    clock.move_to(NOW + timedelta(minutes=5))
    create([doctor(), patient(full_name="Mario Bianchi-Rossi")])
    clock.move_to(NOW + timedelta(minutes=10))
    trashed = create([doctor(), patient(full_name="M. B.")])
    assert api.delete(f"/teleconsultation/{trashed}").status_code == 204
    assert names(lookup({"user_ids": [MARIO]})) == {MARIO: "Mario Bianchi-Rossi"}


@pytest.mark.usefixtures("storage_backend")
def test_more_records_than_a_crud_page_still_name_everyone(create, settings, monkeypatch):
    from rooms.storage import crud

    monkeypatch.setattr(crud, "PAGE", 2)  # the CRUD backend's page; the Django one has none
    create([doctor(), patient(full_name="Mario Bianchi")])
    for number in range(3):
        create([doctor(), patient(f"patient-{number + 2}")])
    asked = [MARIO, ADA, kaleyra_user_id_for("patient-2")]
    assert names(lookup({"user_ids": asked})) == {
        MARIO: "Mario Bianchi",
        ADA: "Dr. Ada",
        kaleyra_user_id_for("patient-2"): "patient-2",
    }


def test_imported_mia_records_are_named_by_their_kaleyra_ids():
    from tests.rooms.test_import_mia import run

    run()  # Ada, Mario and Lucia in live visits and in the trash; Eva mapped, in no visit
    asked = ["user_ada_4f2c", "user_mario_9b1d", "user_lucia_77aa", "user_eva_c3d0"]
    assert names(lookup({"user_ids": asked})) == {
        "user_ada_4f2c": "Dr. Ada Rossi",
        "user_mario_9b1d": "Mario Bianchi",
        "user_lucia_77aa": "Lucia Verdi",
    }


@pytest.mark.parametrize(
    "shape",
    [
        lambda ids: {"user_ids": ids},
        lambda ids: {"users": [{"user_id": i} for i in ids]},
        lambda ids: {"users": ids},
        lambda ids: {"user_id": ids[0]},
    ],
    ids=["user_ids", "users objects", "users ids", "one user_id"],
)
def test_each_plausible_shape_of_kaleyras_request_is_read(create, shape):
    create([doctor(), patient(full_name="Mario Bianchi")])
    assert names(lookup(shape([MARIO, MARIO]))) == {MARIO: "Mario Bianchi"}


def test_an_empty_lookup_is_an_empty_answer(django_assert_num_queries):
    with django_assert_num_queries(1):  # the audit entry only
        assert lookup({"user_ids": []}).json() == {"users": []}


def test_a_full_lookup_is_one_query_and_the_audit_entry(
    create, django_storage_only, django_assert_num_queries
):
    create([doctor(), patient()])
    asked = [kaleyra_user_id_for(f"user-{n}") for n in range(MAX_USER_IDS - 2)] + [ADA, MARIO]
    with django_assert_num_queries(2):
        response = lookup({"user_ids": asked})
    assert set(names(response)) == {ADA, MARIO}


# --- the audit trail --------------------------------------------------------------------------


@pytest.mark.usefixtures("storage_backend")
def test_each_lookup_is_audited_with_the_ids_and_a_count_never_the_names(create, caplog):
    create([doctor(), patient(full_name="Mario Bianchi")])
    with caplog.at_level(logging.DEBUG):
        lookup({"user_ids": [MARIO, "user_unknown_1"]})
    [entry] = trail()
    assert (entry.actor, entry.outcome, entry.teleconsultation_id) == ("kaleyra", "200", "")
    assert entry.detail == {"userIds": [MARIO, "user_unknown_1"], "answered": 1}
    assert "Mario" not in json.dumps(entry.detail) and "Mario" not in caplog.text


# --- what is refused --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature, reason",
    [
        (None, "signature header is missing"),
        ("garbled", "malformed signature header"),
        ("t=1,v0=00", "signature timestamp is outside the tolerance"),
        ("wrong", "signature does not match the body"),
    ],
)
def test_an_unsigned_or_badly_signed_lookup_is_401_and_audited_without_its_ids(
    create, caplog, signature, reason
):
    create([doctor(), patient(full_name="Mario Bianchi")])
    body = json.dumps({"user_ids": [MARIO]}).encode()
    if signature == "wrong":
        signature = sign_now(body, key="not-the-company-key")
    with caplog.at_level(logging.WARNING):
        response = lookup(body, signature=signature)
    assert_error(response, 401, f"User details refused: {reason}")
    assert reason in caplog.text and "Mario" not in response.content.decode()
    [entry] = trail()
    assert (entry.actor, entry.outcome, entry.detail) == ("kaleyra", "401", {})


def test_no_key_configured_refuses_every_lookup(settings):
    settings.KALEYRA_WEBHOOK_KEY = ""
    settings.BANDYER_API_SECRET_KEY = ""
    settings.KALEYRA_BACKEND = "http"
    response = lookup({"user_ids": [MARIO]}, signature=sign_now(b"{}", key="anything"))
    assert_error(response, 401, "User details refused: no webhook key is configured")


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"not json", "body is not JSON"),
        (b"[]", "body is not a JSON object"),
        (b"{}", "body names no user_ids, users or user_id"),
        (b'{"user_ids": "tc-1"}', "user_ids is not a list"),
        (b'{"user_ids": ["tc-1", 7]}', "user_ids[1] is not a user id"),
        (b'{"users": [{"id": "tc-1"}]}', "users[0].user_id is not a user id"),
        (b'{"user_id": null}', "user_id is not a user id"),
        (b'{"user_ids": [""]}', "user_ids[0] is not a user id"),
        (
            json.dumps({"user_ids": ["x" * 129]}).encode(),
            "user_ids[0] is longer than 128 characters",
        ),
        (
            json.dumps({"user_ids": [f"u{n}" for n in range(MAX_USER_IDS + 1)]}).encode(),
            "user_ids has 101 entries; at most 100 are answered at once",
        ),
    ],
)
def test_a_signed_body_that_is_no_lookup_is_a_400_saying_why(body, reason):
    response = lookup(body)
    assert_error(response, 400, f"Invalid user details request: {reason}")
    [entry] = trail()
    assert (entry.outcome, entry.detail) == ("400", {})


def test_a_hundred_ids_are_still_answered():
    asked = [f"u{n}" for n in range(MAX_USER_IDS)]
    assert lookup({"user_ids": asked}).json() == {"users": []}
    assert trail()[0].detail == {"userIds": asked, "answered": 0}


def test_only_post_is_answered():
    assert Client().get(PATH).status_code == 405
