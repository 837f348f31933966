"""Each client method sends exactly the documented request and parses the answer."""

import json
from datetime import UTC, datetime

import pytest
from responses import matchers

from kaleyra.errors import KaleyraAuthError
from kaleyra.types import (
    Company,
    KaleyraUser,
    ParticipantSpec,
    Role,
    Upload,
    VirtualBackground,
    Webhook,
)
from tests.kaleyra.support import API_KEY, BASE_URL

HEADERS = matchers.header_matcher({"apikey": API_KEY, "Accept": "application/json"})
ALL_TOOLS = {"chat": True, "screen_sharing": False}


def body_of(call):
    return json.loads(call.request.body)


def test_create_user_posts_id_and_role(wire_mock, client):
    wire_mock.post(
        f"{BASE_URL}/v2/users",
        json={"id": "tc-1", "role": "plus"},
        status=201,
        match=[HEADERS, matchers.json_params_matcher({"id": "tc-1", "role": "plus"})],
    )
    assert client.create_user(user_id="tc-1", role=Role.PLUS) == KaleyraUser("tc-1", Role.PLUS)


@pytest.mark.parametrize(
    ("status", "body"),
    [(409, {"error": "Conflict"}), (400, {"message": "User with this id already exists"})],
)
def test_create_user_treats_an_existing_id_as_success(wire_mock, client, status, body):
    wire_mock.post(f"{BASE_URL}/v2/users", json=body, status=status)
    wire_mock.get(
        f"{BASE_URL}/v2/users/tc-1", json={"id": "tc-1", "role": "basic"}, match=[HEADERS]
    )
    assert client.create_user(user_id="tc-1", role=Role.PLUS) == KaleyraUser("tc-1", Role.BASIC)


def test_create_user_with_empty_answer_returns_the_user_asked_for(wire_mock, client):
    wire_mock.post(f"{BASE_URL}/v2/users", body="", status=201)
    assert client.create_user(user_id="tc-1", role=Role.BASIC) == KaleyraUser("tc-1", Role.BASIC)


def test_get_user_reads_id_and_role(wire_mock, client):
    wire_mock.get(f"{BASE_URL}/v2/users/tc-1", json={"id": "tc-1", "role": "plus"}, match=[HEADERS])
    assert client.get_user("tc-1") == KaleyraUser("tc-1", Role.PLUS)


def test_get_user_quotes_the_id_in_the_path(wire_mock, client):
    wire_mock.get(f"{BASE_URL}/v2/users/a%2Fb%3Fc", json={"id": "a/b?c"})
    assert client.get_user("a/b?c").id == "a/b?c"


def test_update_user_role_puts_the_role(wire_mock, client):
    wire_mock.put(
        f"{BASE_URL}/v2/users/tc-1",
        json={"id": "tc-1", "role": "plus"},
        match=[HEADERS, matchers.json_params_matcher({"role": "plus"})],
    )
    assert client.update_user_role(user_id="tc-1", role=Role.PLUS).role is Role.PLUS


def test_deactivate_user_puts_active_false(wire_mock, client):
    wire_mock.put(
        f"{BASE_URL}/v2/users/tc-1",
        json={"id": "tc-1", "role": "basic", "active": False},
        match=[HEADERS, matchers.json_params_matcher({"active": False}, strict_match=True)],
    )
    assert client.deactivate_user("tc-1") is None
    assert len(wire_mock.calls) == 1


def room_json(room_id="room_5beecf8c0f29"):
    return {
        "id": room_id,
        "participants": [
            {"user_id": "u1", "is_admin": True, "tools": ALL_TOOLS, "link": "https://l/1"},
            {"user_id": "u2", "is_admin": False, "tools": {}, "link": "https://l/2"},
        ],
        "recording": "none",
        "call_type": "audio_video",
        "creation_date": "2024-06-12T10:00:00.000Z",
        "duration": 1800,
        "live": True,
    }


def test_create_room_posts_participants_recording_live_and_duration(wire_mock, client):
    expected = {
        "participants": [
            {"user_id": "u1", "is_admin": True, "tools": ALL_TOOLS},
            {"user_id": "u2", "is_admin": False, "tools": {}},
        ],
        "recording": "none",
        "live": True,
        "duration": 1800,
    }
    wire_mock.post(
        f"{BASE_URL}/v2/rooms",
        json=room_json(),
        status=201,
        match=[HEADERS, matchers.json_params_matcher(expected, strict_match=True)],
    )
    room = client.create_room(
        participants=[ParticipantSpec("u1", True, ALL_TOOLS), ParticipantSpec("u2", False, {})],
        duration=1800,
        live=True,
    )
    assert room.id == "room_5beecf8c0f29"
    assert room.link_for("u2") == "https://l/2"
    assert room.link_for("nobody") is None
    assert room.creation_date == datetime(2024, 6, 12, 10, tzinfo=UTC)


def test_create_room_omits_duration_when_unlimited(wire_mock, client):
    wire_mock.post(f"{BASE_URL}/v2/rooms", json=room_json())
    client.create_room(participants=[ParticipantSpec("u1", True, {})], duration=None, live=False)
    sent = body_of(wire_mock.calls[0])
    assert "duration" not in sent
    assert sent["live"] is False


def test_a_room_without_live_given_has_only_the_documented_fields(wire_mock, client):
    # `live` is not a body parameter of Kaleyra's v2 create-room page: sent only when asked for.
    expected = {
        "participants": [{"user_id": "u1", "is_admin": True, "tools": {}}],
        "recording": "none",
        "description": "tc:visit:intent",
    }
    wire_mock.post(
        f"{BASE_URL}/v2/rooms",
        json=room_json(),
        match=[matchers.json_params_matcher(expected, strict_match=True)],
    )
    client.create_room(
        participants=[ParticipantSpec("u1", True, {})],
        duration=None,
        live=None,
        description="tc:visit:intent",
    )


def test_get_room_parses_every_detail(wire_mock, client):
    wire_mock.get(f"{BASE_URL}/v2/rooms/room_5beecf8c0f29", json=room_json(), match=[HEADERS])
    room = client.get_room("room_5beecf8c0f29")
    assert (room.recording, room.call_type, room.duration, room.live) == (
        "none",
        "audio_video",
        1800,
        True,
    )
    assert [p.user_id for p in room.participants] == ["u1", "u2"]


def test_delete_room_sends_delete(wire_mock, client):
    wire_mock.delete(f"{BASE_URL}/v2/rooms/room_1", status=204, match=[HEADERS])
    client.delete_room("room_1")
    assert [call.request.method for call in wire_mock.calls] == ["DELETE"]


def upload_json(key, room_id="room_1"):
    return {
        "key": key,
        "user_id": "u1",
        "room_id": room_id,
        "session_id": "s1",
        "upload_type": "file_upload",
        "creation_date": "2024-06-12T00:00:00Z",
    }


def test_iter_room_uploads_follows_pages_with_offset_and_limit(wire_mock, client):
    first = [upload_json(f"k{i}") for i in range(100)]
    for offset, uploads, has_more in ((0, first, True), (100, [upload_json("last")], False)):
        query = {"room_id": "room_1", "offset": str(offset), "limit": "100"}
        page = {"offset": offset, "limit": 100, "has_more": has_more, "count": len(uploads)}
        wire_mock.get(
            f"{BASE_URL}/v2/uploads",
            json={**page, "uploads": uploads},
            match=[HEADERS, matchers.query_param_matcher(query)],
        )
    uploads = list(client.iter_room_uploads("room_1"))
    assert len(uploads) == 101
    assert uploads[-1] == Upload(
        "last", "u1", "room_1", "s1", "file_upload", datetime(2024, 6, 12, tzinfo=UTC)
    )


def test_iter_room_uploads_stops_on_an_empty_page_even_if_has_more(wire_mock, client):
    wire_mock.get(f"{BASE_URL}/v2/uploads", json={"uploads": [], "has_more": True})
    assert list(client.iter_room_uploads("room_1")) == []


def test_delete_upload_sends_delete(wire_mock, client):
    wire_mock.delete(f"{BASE_URL}/v2/uploads/key-1", status=204, match=[HEADERS])
    client.delete_upload("key-1")
    assert [call.request.method for call in wire_mock.calls] == ["DELETE"]


def test_create_sdk_credentials_posts_user_and_lifetime(wire_mock, client):
    wire_mock.post(
        f"{BASE_URL}/v2/sdk/credentials",
        json={"access_token": "jwt", "expires_at": "2022-01-10T11:41:19.000Z", "user_id": "u1"},
        match=[HEADERS, matchers.json_params_matcher({"user_id": "u1", "expires_in": 3600})],
    )
    credentials = client.create_sdk_credentials(user_id="u1", expires_in=3600)
    assert credentials.access_token == "jwt"
    assert credentials.expires_at == datetime(2022, 1, 10, 11, 41, 19, tzinfo=UTC)


@pytest.mark.parametrize("expires_in", [359, 86401, 0])
def test_create_sdk_credentials_refuses_a_lifetime_out_of_range_without_calling(
    wire_mock, client, expires_in
):
    with pytest.raises(ValueError, match="between 360 and 86400"):
        client.create_sdk_credentials(user_id="u1", expires_in=expires_in)
    assert len(wire_mock.calls) == 0


COMPANY = {
    "name": "ACME",
    "default_language": "en",
    "default_background": "sea",
    "end_call_redirect_url": "https://acme.test/bye",
    "user_details_provider_url": None,
    "end_call_redirect_timeout_ms": 5000,
}


def test_get_company_parses_the_settings(wire_mock, client):
    wire_mock.get(f"{BASE_URL}/v2/company", json=COMPANY, match=[HEADERS])
    assert client.get_company() == Company("ACME", "en", "sea", "https://acme.test/bye", None, 5000)


def test_set_default_background_puts_the_alias(wire_mock, client):
    wire_mock.put(
        f"{BASE_URL}/v2/company",
        json=COMPANY,
        match=[HEADERS, matchers.json_params_matcher({"background_alias": "sea"})],
    )
    assert client.set_default_background(background_alias="sea").default_background == "sea"


def test_set_user_details_provider_puts_the_url(wire_mock, client):
    url = "https://tc.example.org/kaleyra/user-details"
    wire_mock.put(
        f"{BASE_URL}/v2/company",
        json={**COMPANY, "user_details_provider_url": url},
        match=[HEADERS, matchers.json_params_matcher({"user_details_provider_url": url})],
    )
    assert client.set_user_details_provider(url=url).user_details_provider_url == url


def test_upload_background_sends_multipart_field_virtual_background(wire_mock, client):
    wire_mock.post(
        f"{BASE_URL}/v2/company/virtual-background",
        json={"background_alias": "sea", "url": "https://static.test/sea.jpeg"},
        status=201,
        match=[HEADERS],
    )
    background = client.upload_background(
        filename="sea.jpg", content=b"\xff\xd8\xffdata", content_type="image/jpeg"
    )
    assert background == VirtualBackground("sea", "https://static.test/sea.jpeg", None)
    request = wire_mock.calls[0].request
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="virtual_background"; filename="sea.jpg"' in request.body
    assert b"Content-Type: image/jpeg" in request.body


WEBHOOK_URL = "https://tc.example.org/webhooks/kaleyra"


def webhook_json(webhook_id, filters):
    return {
        "id": webhook_id,
        "post_event_webhook_url": WEBHOOK_URL,
        "webhook_method": "POST",
        "webhook_filters": filters,
        "version": "1",
    }


def test_register_webhook_posts_the_events_as_filter_objects(wire_mock, client):
    sent = {
        "post_event_webhook_url": WEBHOOK_URL,
        "webhook_method": "POST",
        "webhook_filters": [{"event": "on_room_deleted"}, {"event": "on_recording_available"}],
        "version": "1",
    }
    wire_mock.post(
        f"{BASE_URL}/v2/webhooks",
        json=webhook_json("wh_1", sent["webhook_filters"]),
        status=201,
        match=[HEADERS, matchers.json_params_matcher(sent, strict_match=True)],
    )
    webhook = client.register_webhook(
        url=WEBHOOK_URL, events=["on_room_deleted", "on_recording_available"]
    )
    assert webhook == Webhook("wh_1", WEBHOOK_URL, ("on_room_deleted", "on_recording_available"))


def test_list_webhooks_follows_pages_with_offset_and_limit(wire_mock, client):
    first = [webhook_json(f"wh_{i}", [{"event": "on_room_deleted"}]) for i in range(100)]
    for offset, webhooks, has_more in ((0, first, True), (100, [webhook_json("wh_x", [])], False)):
        wire_mock.get(
            f"{BASE_URL}/v2/webhooks",
            json={"offset": offset, "has_more": has_more, "webhooks": webhooks},
            match=[HEADERS, matchers.query_param_matcher({"offset": offset, "limit": 100})],
        )
    webhooks = client.list_webhooks()
    assert len(webhooks) == 101
    assert webhooks[0] == Webhook("wh_0", WEBHOOK_URL, ("on_room_deleted",))
    assert webhooks[-1] == Webhook("wh_x", WEBHOOK_URL, ())


def test_list_webhooks_accepts_a_bare_array(wire_mock, client):
    wire_mock.get(f"{BASE_URL}/v2/webhooks", json=[webhook_json("wh_1", ["on_room_deleted"])])
    assert client.list_webhooks() == [Webhook("wh_1", WEBHOOK_URL, ("on_room_deleted",))]


def test_delete_webhook_sends_delete_with_the_id_quoted(wire_mock, client):
    wire_mock.delete(f"{BASE_URL}/v2/webhooks/wh%2F1", status=204, match=[HEADERS])
    client.delete_webhook("wh/1")
    assert [call.request.method for call in wire_mock.calls] == ["DELETE"]


def test_ping_reads_the_company(wire_mock, client):
    wire_mock.get(f"{BASE_URL}/v2/company", json=COMPANY, match=[HEADERS])
    client.ping()
    assert [call.request.url for call in wire_mock.calls] == [f"{BASE_URL}/v2/company"]


def test_ping_raises_when_kaleyra_fails(wire_mock, client):
    wire_mock.get(f"{BASE_URL}/v2/company", status=401)
    with pytest.raises(KaleyraAuthError):
        client.ping()


def test_a_base_url_with_trailing_slash_gives_the_same_paths(wire_mock, client_factory):
    wire_mock.get(f"{BASE_URL}/v2/company", json=COMPANY)
    client_factory(base_url=BASE_URL + "/").ping()
