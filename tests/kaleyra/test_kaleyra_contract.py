"""One contract, two Kaleyras: each scenario runs against the recorded v2 answers (`responses`)
and against the simulator served over HTTP, through the same real client."""

import pytest
import requests
import responses

from kaleyra.errors import KaleyraAuthError, KaleyraBadRequest, KaleyraNotFound
from kaleyra.provider import get_video_provider
from kaleyra.simulator.pytest_plugin import HTTP_API_KEY
from kaleyra.types import ParticipantSpec, Role
from tests.kaleyra import recordings
from tests.kaleyra.support import API_KEY, BASE_URL, FakeTime, jpeg, make_client

JPEG = jpeg()
TOOLS = {"chat": True}
PARTICIPANTS = [ParticipantSpec("doctor", True, TOOLS), ParticipantSpec("patient", False, TOOLS)]


class Recorded:
    """Kaleyra as recorded: `answer` registers the canned reply to the next matching request."""

    def __init__(self, mock: responses.RequestsMock):
        self.mock = mock
        self.provider = make_client(FakeTime())

    def given_users(self) -> None:
        pass

    def given_uploads(self, room_id: str, count: int) -> None:
        pass

    def answer(self, method: str, path: str, status: int = 200, body=None, **match) -> None:
        self.mock.add(method, BASE_URL + path, json=body, status=status, **match)

    def wrong_key_provider(self):
        self.answer("GET", "/v2/company", 401, recordings.error("Unauthorized", "wrong apikey"))
        return self.provider


class Simulated:
    """The simulator over HTTP: state is arranged through its handle, answers are its own."""

    def __init__(self, handle):
        self.handle = handle
        self.provider = get_video_provider()

    def given_users(self) -> None:
        self.handle.engine.create_user({"id": "doctor", "role": "plus"})
        self.handle.engine.create_user({"id": "patient", "role": "basic"})
        self.handle.engine.create_user({"id": "patient2", "role": "basic"})

    def given_uploads(self, room_id: str, count: int) -> None:
        for _ in range(count):
            self.handle.add_upload(room_id, user_id="doctor")

    def answer(self, *args, **kwargs) -> None:
        pass

    def wrong_key_provider(self):
        return make_client(FakeTime(), base_url=self.handle.engine.link_base, api_key="wrong")


@pytest.fixture(params=["recorded", "simulated"])
def kaleyra(request):
    if request.param == "simulated":
        yield Simulated(request.getfixturevalue("simulator_http"))
        return
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield Recorded(mock)


def test_user_creation_returns_the_user_and_a_repeat_returns_the_existing_one(kaleyra):
    kaleyra.answer("POST", "/v2/users", 201, recordings.CREATED_USER)
    kaleyra.answer("POST", "/v2/users", 409, recordings.error("Conflict", "already exists"))
    kaleyra.answer("GET", "/v2/users/doctor", 200, recordings.USER_DOCTOR)
    first = kaleyra.provider.create_user(user_id="doctor", role=Role.PLUS)
    again = kaleyra.provider.create_user(user_id="doctor", role=Role.BASIC)
    assert first == again
    assert (again.id, again.role) == ("doctor", Role.PLUS)


def test_an_unknown_user_is_not_found(kaleyra):
    kaleyra.answer("GET", "/v2/users/ghost", 404, recordings.error("Not Found", "no user"))
    with pytest.raises(KaleyraNotFound):
        kaleyra.provider.get_user("ghost")


def test_a_role_update_answers_the_user_with_the_new_role(kaleyra):
    kaleyra.given_users()
    kaleyra.answer("PUT", "/v2/users/patient", 200, {**recordings.USER_PATIENT, "role": "plus"})
    assert kaleyra.provider.update_user_role(user_id="patient", role=Role.PLUS).role is Role.PLUS


def test_a_room_lives_from_creation_to_deletion(kaleyra):
    kaleyra.given_users()
    kaleyra.answer("POST", "/v2/rooms", 201, recordings.ROOM)
    room = kaleyra.provider.create_room(participants=PARTICIPANTS, duration=1800, live=True)
    assert room.id.startswith("room_")
    assert [(p.user_id, p.is_admin) for p in room.participants] == [
        ("doctor", True),
        ("patient", False),
    ]
    assert room.link_for("doctor") and room.link_for("doctor") != room.link_for("patient")
    assert (room.duration, room.live, room.recording) == (1800, True, "none")
    assert room.creation_date is not None

    kaleyra.answer("GET", f"/v2/rooms/{room.id}", 200, recordings.ROOM)
    assert kaleyra.provider.get_room(room.id) == room

    kaleyra.answer("DELETE", f"/v2/rooms/{room.id}", 204)
    kaleyra.provider.delete_room(room.id)
    kaleyra.answer("GET", f"/v2/rooms/{room.id}", 404, recordings.error("Not Found", "no room"))
    with pytest.raises(KaleyraNotFound):
        kaleyra.provider.get_room(room.id)
    kaleyra.answer("DELETE", f"/v2/rooms/{room.id}", 404, recordings.error("Not Found", "no"))
    with pytest.raises(KaleyraNotFound):
        kaleyra.provider.delete_room(room.id)


def test_rooms_are_listed_with_the_description_they_were_created_with(kaleyra):
    kaleyra.given_users()
    tagged = {**recordings.ROOM, "description": recordings.DESCRIPTION}
    kaleyra.answer("POST", "/v2/rooms", 201, tagged)
    room = kaleyra.provider.create_room(
        participants=PARTICIPANTS, duration=None, live=True, description=recordings.DESCRIPTION
    )
    assert room.description == recordings.DESCRIPTION
    kaleyra.answer("GET", "/v2/rooms", 200, recordings.rooms_page(0, [tagged], False))
    listed = list(kaleyra.provider.iter_rooms())
    assert [(r.id, r.description) for r in listed] == [(room.id, recordings.DESCRIPTION)]


def test_a_webhook_registration_answers_its_id(kaleyra):
    kaleyra.answer("POST", "/v2/webhooks", 201, recordings.WEBHOOK)
    webhook = kaleyra.provider.register_webhook(
        url=recordings.WEBHOOK["post_event_webhook_url"], events=["on_room_deleted"]
    )
    assert webhook.id and webhook.id.startswith("wh_")
    assert webhook.url == recordings.WEBHOOK["post_event_webhook_url"]


def test_a_room_without_a_plus_user_is_a_bad_request(kaleyra):
    kaleyra.given_users()
    kaleyra.answer("POST", "/v2/rooms", 400, recordings.error("Bad Request", "no plus user"))
    basic_only = [ParticipantSpec("patient", True, {}), ParticipantSpec("patient2", False, {})]
    with pytest.raises(KaleyraBadRequest):
        kaleyra.provider.create_room(participants=basic_only, duration=None, live=True)


def test_room_uploads_are_walked_through_every_page_and_deleted(kaleyra):
    kaleyra.given_users()
    kaleyra.answer("POST", "/v2/rooms", 201, recordings.ROOM)
    room = kaleyra.provider.create_room(participants=PARTICIPANTS, duration=None, live=True)
    kaleyra.given_uploads(room.id, 101)
    first_keys = [f"upl_{n}" for n in range(100)]
    kaleyra.answer("GET", "/v2/uploads", 200, recordings.uploads_page(0, first_keys, True))
    kaleyra.answer("GET", "/v2/uploads", 200, recordings.uploads_page(100, ["upl_last"], False))
    uploads = list(kaleyra.provider.iter_room_uploads(room.id))
    assert len(uploads) == 101
    assert len({upload.key for upload in uploads}) == 101
    assert {(upload.room_id, upload.user_id) for upload in uploads} == {(room.id, "doctor")}

    kaleyra.answer("DELETE", f"/v2/uploads/{uploads[0].key}", 204)
    kaleyra.provider.delete_upload(uploads[0].key)


def test_sdk_credentials_are_a_token_for_the_user(kaleyra):
    kaleyra.given_users()
    kaleyra.answer("POST", "/v2/sdk/credentials", 200, recordings.CREDENTIALS)
    credentials = kaleyra.provider.create_sdk_credentials(user_id="doctor", expires_in=3600)
    assert credentials.user_id == "doctor"
    assert credentials.access_token.count(".") == 2
    assert credentials.expires_at.utcoffset().total_seconds() == 0


def test_a_background_is_uploaded_and_made_the_default(kaleyra):
    kaleyra.answer("GET", "/v2/company", 200, recordings.COMPANY)
    assert kaleyra.provider.get_company().default_language == "en"
    kaleyra.answer("POST", "/v2/company/virtual-background", 201, recordings.BACKGROUND)
    background = kaleyra.provider.upload_background(
        filename="bg.jpg", content=JPEG, content_type="image/jpeg"
    )
    assert background.url and background.creation_date is not None
    alias = background.background_alias
    company = {**recordings.COMPANY, "default_background": alias}
    kaleyra.answer("PUT", "/v2/company", 200, company)
    assert kaleyra.provider.set_default_background(background_alias=alias).default_background == (
        alias
    )


def test_a_wrong_api_key_is_an_auth_error(kaleyra):
    with pytest.raises(KaleyraAuthError) as caught:
        kaleyra.wrong_key_provider().get_company()
    assert caught.value.status == 401


def test_ping_succeeds_when_kaleyra_answers(kaleyra):
    kaleyra.answer("GET", "/v2/company", 200, recordings.COMPANY)
    kaleyra.provider.ping()


# --- the recordings have the simulator's shapes ---------------------------------------------


def shape(value):
    """Keys and JSON types, recursively; lists by their first item."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_the_recorded_answers_have_the_simulator_answers_shapes(simulator_http):
    base = simulator_http.engine.link_base
    session = requests.Session()
    session.headers["apikey"] = HTTP_API_KEY

    def call(method, path, **kwargs):
        response = session.request(method, base + path, timeout=5, **kwargs)
        return response.status_code, response.json()

    status, user = call("POST", "/v2/users", json={"id": "doctor", "role": "plus"})
    assert (status, shape(user)) == (201, shape(recordings.CREATED_USER))
    call("POST", "/v2/users", json={"id": "patient", "role": "basic"})
    assert shape(call("GET", "/v2/users/patient")[1]) == shape(recordings.USER_PATIENT)
    room_body = {
        "participants": [
            {"user_id": "doctor", "is_admin": True, "tools": TOOLS},
            {"user_id": "patient", "is_admin": False, "tools": TOOLS},
        ],
        "recording": "none",
        "live": True,
        "duration": 1800,
    }
    status, room = call("POST", "/v2/rooms", json=room_body)
    assert (status, shape(room)) == (201, shape(recordings.ROOM))
    simulator_http.add_upload(room["id"])
    page = call("GET", "/v2/uploads", params={"room_id": room["id"], "offset": 0, "limit": 100})[1]
    assert shape(page) == shape(recordings.uploads_page(0, ["k"], False))
    credentials = call(
        "POST", "/v2/sdk/credentials", json={"user_id": "doctor", "expires_in": 3600}
    )
    assert shape(credentials[1]) == shape(recordings.CREDENTIALS)
    assert shape(call("GET", "/v2/company")[1]) == shape(recordings.COMPANY)
    files = {"virtual_background": ("bg.jpg", JPEG, "image/jpeg")}
    status, background = call("POST", "/v2/company/virtual-background", files=files)
    assert (status, shape(background)) == (201, shape(recordings.BACKGROUND))
    page = call("GET", "/v2/rooms", params={"offset": 0, "limit": 100})[1]
    assert shape(page) == shape(recordings.rooms_page(0, [recordings.ROOM], False))
    webhook_body = {
        "post_event_webhook_url": recordings.WEBHOOK["post_event_webhook_url"],
        "webhook_method": "POST",
        "webhook_filters": ["on_room_deleted"],
        "version": "1",
    }
    status, webhook = call("POST", "/v2/webhooks", json=webhook_body)
    assert (status, shape(webhook)) == (201, shape(recordings.WEBHOOK))
    status, missing = call("GET", "/v2/rooms/room_000000000000")
    assert (status, shape(missing)) == (404, shape(recordings.error("Not Found", "x")))


def test_the_recorded_key_is_not_the_simulator_key():
    # Guards the "wrong key" scenario: the recorded client must not share the simulator's key.
    assert API_KEY != HTTP_API_KEY
