"""Who may write (rooms/rules/permissions.py, TELECONSULTATION_WRITE_ACCESS): every endpoint against
every kind of caller, in both modes, with the exact status; a refusal changes nothing anywhere."""

import pytest
from django.core.management import call_command

from tests.conftest import GatewayClient
from tests.rooms.conftest import audit_trail, body, doctor, patient, stored, visit_count

pytestmark = [
    pytest.mark.usefixtures("storage_backend"),
    pytest.mark.django_db,
]

UNKNOWN = "0123456789abcdef01234567"

# Who calls: the headers the gateway would set (None: no identity headers at all).
CALLERS = {
    "plus participant": {"user_id": "doctor-1", "groups": ("doctor",)},
    "basic participant": {"user_id": "patient-1", "groups": ("customer",)},
    "stranger": {"user_id": "stranger", "groups": ("customer",)},
    "plus user of another visit": {"user_id": "doctor-2", "groups": ("doctor",)},
    "no identity": None,
    "admin": {"user_id": "ops", "groups": ("admin",)},
    "back office with a user id": {"user_id": "desk-1", "isbackoffice": "true"},
    "back office without a user id": {"user_id": None, "isbackoffice": "true"},
}
WRITERS = {
    "plus participant",
    "admin",
    "back office with a user id",
    "back office without a user id",
}
CREATORS = WRITERS | {"plus user of another visit"}
READERS = {"plus participant", "basic participant"}  # GET: participants only, in both modes


def expected(endpoint: str, caller: str, mode: str) -> int:
    success = SUCCESS[endpoint]
    if endpoint == "get":
        return success if caller in READERS else 401
    if mode == "open":
        return success
    if caller == "no identity":
        return 401
    allowed = CREATORS if endpoint == "create" else WRITERS
    return success if caller in allowed else 403


def identify(api: GatewayClient, caller: str) -> GatewayClient:
    headers = CALLERS[caller]
    if headers is None:
        return api.anonymous()
    headers = dict(headers)
    return api.as_user(headers.pop("user_id"), headers.pop("groups", ()), **headers)


# --- the endpoints: each makes its request and checks what success did --------------------------


def create(api, visit):
    response = api.post("/teleconsultation", body([doctor("doctor-9"), patient("patient-9")]))
    if response.status_code == 201:
        assert stored(response.json()["roomId"]).participant("patient-9") is not None
    return response


def change(api, visit):
    participants = {"number": 2, "data": [doctor(), patient("newcomer")]}
    response = api.patch(f"/teleconsultation/{visit}", {"participants": participants})
    if response.status_code == 204:
        assert stored(visit).participant("newcomer") is not None
    return response


def delete(api, visit):
    response = api.delete(f"/teleconsultation/{visit}")
    if response.status_code == 204:
        assert stored(visit).state == "TRASH"
    return response


def add(api, visit):
    response = api.post(f"/teleconsultation/{visit}/participants/data", patient("newcomer"))
    if response.status_code == 201:
        assert stored(visit).participant("newcomer") is not None
    return response


def delete_uploads(api, visit):
    response = api.delete(f"/teleconsultation/{visit}/uploads")
    if response.status_code == 200:
        assert response.json() == {"total": 2, "deleted": 2}
    return response


def get(api, visit):
    response = api.get(f"/teleconsultation/{visit}")
    if response.status_code == 200:
        assert response.json()["participantsBandyerCall"]
    return response


ENDPOINTS = {
    "create": create,
    "change": change,
    "delete": delete,
    "add": add,
    "delete uploads": delete_uploads,
    "get": get,
}
SUCCESS = {
    "create": 201,
    "change": 204,
    "delete": 204,
    "add": 201,
    "delete uploads": 200,
    "get": 200,
}


@pytest.fixture(autouse=True)
def _uploads_deletion_on(settings):
    settings.TELECONSULTATION_DELETE_UPLOADS = True


@pytest.fixture
def guarded_visit(simulator, request):
    """doctor-1 (plus) and patient-1 (basic): complete with a room and two uploads, or, for the
    participant addition, waiting for a third participant. doctor-2 is plus in another visit."""
    setup = GatewayClient()  # the back office
    callspec = getattr(request.node, "callspec", None)
    number = 3 if callspec and callspec.params.get("endpoint") == "add" else 2

    def make(people, number):
        response = setup.post("/teleconsultation", body(people, number=number), format="json")
        assert response.status_code == 201, response.json()
        return response.json()["roomId"]

    make([doctor("doctor-2"), patient("patient-2")], 2)
    visit = make([doctor(), patient()], number)
    if number == 2:
        simulator.add_upload(stored(visit).kaleyra_room_id)
        simulator.add_upload(stored(visit).kaleyra_room_id, upload_type="snapshot")
    return visit


def snapshot(simulator, visit) -> dict:
    """Everything a request could change: the visit, how many there are, what Kaleyra was asked
    (a new user, a room, a deletion) and the room's uploads."""
    room = stored(visit).kaleyra_room_id
    return {
        "visit": stored(visit),
        "visits": visit_count(),
        "kaleyra calls": simulator.calls(),
        "kaleyra users": simulator.users(),
        "uploads": simulator.uploads(room) if room else [],
    }


# The decision is taken before storage is asked, by the same code on both backends: the whole
# table runs on the Django backend, and on the CRUD backend the callers that reach every outcome
# and write as every kind of actor the CRUD Service records (a participant, the back office
# without a user id, nobody), so a success writes there and a refusal leaves it untouched.
CRUD_CALLERS = ("plus participant", "back office without a user id", "stranger", "no identity")
WHO_MAY_DO_WHAT = [
    pytest.param(backend, mode, caller, endpoint, id=f"{backend}-{endpoint}-{caller}-{mode}")
    for backend in ("django", "crud")
    for endpoint in ENDPOINTS
    for caller in CALLERS
    for mode in ("participants", "open")
    if backend == "django" or caller in CRUD_CALLERS
]


@pytest.mark.parametrize(
    ("storage_backend", "mode", "caller", "endpoint"), WHO_MAY_DO_WHAT, indirect=["storage_backend"]
)
def test_who_may_do_what(api, settings, simulator, guarded_visit, mode, caller, endpoint):
    settings.TELECONSULTATION_WRITE_ACCESS = mode
    api.default_format = "json"
    before = snapshot(simulator, guarded_visit)
    response = ENDPOINTS[endpoint](identify(api, caller), guarded_visit)
    status = expected(endpoint, caller, mode)
    assert response.status_code == status, response.content
    if status == 401:
        assert response.json() == {
            "statusCode": 401,
            "error": "Unauthorized user",
            "message": "Unauthorized user",
        }
    elif status == 403:
        assert response.json()["error"] == "Forbidden"
        assert CALLERS[caller]["user_id"] in response.json()["message"]
    if status >= 400:
        assert snapshot(simulator, guarded_visit) == before


def test_the_table_covers_every_outcome():
    outcomes = {
        (endpoint, expected(endpoint, caller, mode))
        for endpoint in ENDPOINTS
        for caller in CALLERS
        for mode in ("participants", "open")
    }
    assert {status for _, status in outcomes} == {200, 201, 204, 401, 403}
    for endpoint in ENDPOINTS:
        assert (endpoint, SUCCESS[endpoint]) in outcomes and (endpoint, 401) in outcomes


WRITES = ["change", "delete", "add", "delete uploads"]
IDENTIFIED = [caller for caller in CALLERS if caller != "no identity"]


@pytest.mark.parametrize("mode", ["participants", "open"])
@pytest.mark.parametrize("endpoint", [*WRITES, "get"])
def test_an_unknown_or_trashed_visit_is_a_404_for_anyone_identified(
    api, settings, simulator, mode, endpoint
):
    settings.TELECONSULTATION_WRITE_ACCESS = mode
    api.default_format = "json"
    trashed = GatewayClient().post("/teleconsultation", body([doctor(), patient()]), format="json")
    trashed = trashed.json()["roomId"]
    assert GatewayClient().delete(f"/teleconsultation/{trashed}").status_code == 204
    for caller in IDENTIFIED:  # one trashed visit for them all: a 404 changes nothing
        identify(api, caller)
        # A read needs a user id: the back-office flag alone is no identity for it.
        anonymous_read = endpoint == "get" and CALLERS[caller]["user_id"] is None
        for visit in (UNKNOWN, trashed):
            calls = simulator.calls()
            response = ENDPOINTS[endpoint](api, visit)
            if anonymous_read:
                assert response.status_code == 401, caller
                continue
            assert response.status_code == 404, (caller, response.content)
            assert response.json()["message"] == f"Room with id {visit} not found on CRUD"
            assert simulator.calls() == calls, caller
    assert stored(trashed).state == "TRASH"


@pytest.mark.parametrize("idempotency_key", [None, "retry-1"])
@pytest.mark.parametrize("endpoint", ["create", *WRITES])
def test_no_identity_is_a_401_before_anything_is_looked_up_and_is_recorded(
    api, simulator, django_storage_only, django_assert_num_queries, endpoint, idempotency_key
):
    visit = GatewayClient().post("/teleconsultation", body([doctor(), patient()]), format="json")
    api.default_format = "json"
    api.anonymous()
    if idempotency_key:
        api.credentials(HTTP_IDEMPOTENCY_KEY=idempotency_key)
    calls = simulator.calls()
    for room_id in (visit.json()["roomId"], UNKNOWN):
        with django_assert_num_queries(1):  # the audit entry: no lookup, no idempotency record
            response = ENDPOINTS[endpoint](api, room_id)
        assert response.status_code == 401
        assert response.json()["message"] == "Unauthorized user"
    assert simulator.calls() == calls
    refusals = [entry for entry in audit_trail() if entry.outcome == "401"]
    assert [entry.actor for entry in refusals] == ["public", "public"]


# Bodies a writer would get a 400 for; a caller who may not write gets the refusal they get with a
# valid body, so the body's validity tells a stranger nothing.
BAD_BODIES = {
    "not JSON": "{not json",
    "not an object": "[1]",
    "unknown field": '{"surprise": true}',
    "NUL": '{"userExternalId": "\\u0000", "participants": "\\u0000"}',
    "lone surrogate": '{"userExternalId": "\\ud800", "start_date": "\\udc80"}',
}
WITH_BODIES = {"create": "/teleconsultation", "change": "/teleconsultation/{}"}
WITH_BODIES["add"] = "/teleconsultation/{}/participants/data"


@pytest.mark.parametrize("storage_backend", ["django", "crud"], indirect=True)
@pytest.mark.parametrize("caller", ["basic participant", "stranger", "no identity"])
@pytest.mark.parametrize("endpoint", WITH_BODIES)
def test_who_before_what_a_refused_caller_learns_nothing_from_the_body(
    api, simulator, guarded_visit, caller, endpoint
):
    api.default_format = "json"
    with_valid_body = ENDPOINTS[endpoint](identify(api, caller), guarded_visit)
    assert with_valid_body.status_code in (401, 403)
    url = WITH_BODIES[endpoint].format(guarded_visit)
    method = api.post if endpoint != "change" else api.patch
    for name, content in BAD_BODIES.items():
        response = method(url, content, content_type="application/json")
        assert response.status_code == with_valid_body.status_code, (name, response.content)
        assert response.json() == with_valid_body.json(), name
    refusals = [entry.outcome for entry in audit_trail()]
    assert refusals.count(str(with_valid_body.status_code)) == 1 + len(BAD_BODIES)


def test_a_participant_removed_meanwhile_cannot_slip_a_write_in(api, simulator, monkeypatch):
    """The check runs again on the record the write changes, not only on the one read first."""
    from rooms.storage import get_storage

    back_office = GatewayClient()
    back_office.default_format = api.default_format = "json"
    response = back_office.post("/teleconsultation", body([doctor(), patient()], number=3))
    visit = response.json()["roomId"]
    as_first_read = stored(visit)
    replaced = {"number": 3, "data": [doctor("doctor-3"), patient()]}
    response = back_office.patch(f"/teleconsultation/{visit}", {"participants": replaced})
    assert response.status_code == 204
    after_removal = stored(visit)
    storage = get_storage()
    find, update, writing = storage.find, storage.update, []

    def stale_find(*args, **kwargs):
        # Reads before the write still see doctor-1, as a request that read just before the
        # change; the write itself reads the record as it is.
        return find(*args, **kwargs) if writing else as_first_read

    def tracked_update(*args, **kwargs):
        writing.append(True)
        try:
            return update(*args, **kwargs)
        finally:
            writing.pop()

    with monkeypatch.context() as patched:
        patched.setattr(storage, "find", stale_find)
        patched.setattr(storage, "update", tracked_update)
        api.as_user("doctor-1", ("doctor",))
        addition = api.post(f"/teleconsultation/{visit}/participants/data", patient("newcomer"))
        change = api.patch(f"/teleconsultation/{visit}", {"participants": replaced})
    assert (addition.status_code, change.status_code) == (403, 403)
    assert stored(visit) == after_removal


def shorten(api, visit):
    return api.patch(f"/teleconsultation/{visit}", {"duration_in_seconds": 900}, format="json")


def test_the_back_office_flag_is_read_from_backoffice_header_key(api, settings, visit):
    settings.BACKOFFICE_HEADER_KEY = "x-from-desk"
    assert shorten(api.as_user("desk-1", isbackoffice="true"), visit).status_code == 403
    assert shorten(api.as_user(None, isbackoffice="true"), visit).status_code == 401
    assert shorten(api.as_user("desk-1", **{"x-from-desk": "true"}), visit).status_code == 204
    assert shorten(api.as_user(None, **{"x-from-desk": "true"}), visit).status_code == 204


@pytest.mark.parametrize(
    ("flag", "status"), [("true", 204), ("1", 204), ("false", 403), ("0", 403)]
)
def test_the_back_office_flag_reads_as_the_gateway_sends_it(api, visit, flag, status):
    # Mia's own library reads the flag as a JavaScript Boolean; gateways send "true" or "1".
    assert shorten(api.as_user("desk-1", isbackoffice=flag), visit).status_code == status


def test_admin_groups_come_from_teleconsultation_admin_groups(api, settings, visit):
    settings.TELECONSULTATION_ADMIN_GROUPS = ["support", "ops"]
    assert shorten(api.as_user("ops-1", ("admin",)), visit).status_code == 403
    assert shorten(api.as_user("ops-1", ("customer", "ops")), visit).status_code == 204
    created = api.as_user("ops-1", ("support",)).post(
        "/teleconsultation", body([doctor(), patient()]), format="json"
    )
    assert created.status_code == 201


def test_a_refused_create_names_the_plus_groups(api):
    response = api.as_user("patient-1", ("customer",)).post(
        "/teleconsultation", body([doctor(), patient()]), format="json"
    )
    assert response.status_code == 403
    assert response.json()["message"] == (
        "User patient-1 may not schedule teleconsultations: it takes a plus group (doctor) or an "
        "admin group"
    )


def deploy_check_messages(capsys) -> str:
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", "--deploy", "--tag", "security")
    except SystemCheckError as exc:  # errors of other settings of the test configuration
        return str(exc) + capsys.readouterr().err
    return capsys.readouterr().err


def test_check_deploy_warns_while_writes_are_open(settings, capsys):
    settings.TELECONSULTATION_WRITE_ACCESS = "open"
    messages = deploy_check_messages(capsys)
    assert "(rooms.W001) TELECONSULTATION_WRITE_ACCESS=open" in messages


def test_check_deploy_is_quiet_about_write_access_by_default(settings, capsys):
    assert settings.TELECONSULTATION_WRITE_ACCESS == "participants"
    assert "rooms.W001" not in deploy_check_messages(capsys)
