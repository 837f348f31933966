"""The simulator refuses what Kaleyra's docs say Kaleyra refuses, as the same error classes."""

import pytest

from kaleyra.errors import KaleyraBadRequest, KaleyraNotFound, KaleyraRateLimited
from kaleyra.provider import get_video_provider
from kaleyra.simulator import rules
from kaleyra.simulator.engine import Engine
from kaleyra.simulator.rules import Refusal
from kaleyra.types import ParticipantSpec, Role
from tests.kaleyra.support import jpeg, simulator_api

JPEG = jpeg()


@pytest.fixture
def provider(simulator):
    provider = get_video_provider()
    provider.create_user(user_id="doctor", role=Role.PLUS)
    for number in range(30):
        provider.create_user(user_id=f"patient{number}", role=Role.BASIC)
    return provider


def specs(*user_ids, admin=None):
    return [ParticipantSpec(user_id, user_id == admin, {}) for user_id in user_ids]


def test_a_valid_room_is_created_with_a_room_id_and_one_link_per_participant(provider):
    room = provider.create_room(
        participants=specs("doctor", "patient0", admin="doctor"), duration=60, live=True
    )
    assert room.id.startswith("room_") and len(room.id) == len("room_") + 12
    assert {p.user_id for p in room.participants} == {"doctor", "patient0"}
    assert room.link_for("doctor") != room.link_for("patient0")
    assert (room.recording, room.duration, room.live) == ("none", 60, True)


@pytest.mark.parametrize("count", [1, 26])
def test_a_room_needs_2_to_25_participants(provider, count):
    user_ids = ["doctor"] + [f"patient{n}" for n in range(count - 1)]
    with pytest.raises(KaleyraBadRequest, match="HTTP 400") as caught:
        provider.create_room(participants=specs(*user_ids), duration=None, live=True)
    assert "2 to 25" in caught.value.body


def test_25_participants_are_allowed(provider):
    user_ids = ["doctor"] + [f"patient{n}" for n in range(24)]
    assert (
        len(
            provider.create_room(
                participants=specs(*user_ids), duration=None, live=True
            ).participants
        )
        == 25
    )


def test_a_room_without_a_plus_user_is_refused_even_with_an_admin(provider):
    with pytest.raises(KaleyraBadRequest) as caught:
        provider.create_room(
            participants=specs("patient0", "patient1", admin="patient0"), duration=None, live=True
        )
    assert "plus" in caught.value.body


def test_a_room_with_an_unknown_user_is_refused(provider):
    with pytest.raises(KaleyraNotFound) as caught:
        provider.create_room(participants=specs("doctor", "ghost"), duration=None, live=True)
    assert "ghost" in caught.value.body


def test_a_user_cannot_be_twice_in_a_room(provider):
    with pytest.raises(KaleyraBadRequest):
        provider.create_room(participants=specs("doctor", "doctor"), duration=None, live=True)


def test_a_duration_under_60_seconds_is_refused(provider):
    with pytest.raises(KaleyraBadRequest, match="HTTP 400"):
        provider.create_room(participants=specs("doctor", "patient0"), duration=59, live=True)


@pytest.mark.parametrize("user_id", ["a b", "é", "a/b", "x" * 129, ""])
def test_user_ids_outside_the_charset_or_too_long_are_refused(simulator, user_id):
    with pytest.raises(KaleyraBadRequest):
        get_video_provider().create_user(user_id=user_id, role=Role.BASIC)


def test_a_128_character_user_id_with_every_allowed_sign_is_accepted(simulator):
    user_id = ("aZ09._-" * 20)[:128]
    assert get_video_provider().create_user(user_id=user_id, role=Role.PLUS).id == user_id


def test_creating_an_existing_user_answers_the_existing_user(simulator):
    provider = get_video_provider()
    provider.create_user(user_id="u", role=Role.PLUS)
    assert provider.create_user(user_id="u", role=Role.BASIC).role is Role.PLUS
    assert simulator.user_role("u") is Role.PLUS


def test_update_user_role_changes_the_role(simulator):
    provider = get_video_provider()
    provider.create_user(user_id="u", role=Role.BASIC)
    assert provider.update_user_role(user_id="u", role=Role.PLUS).role is Role.PLUS
    assert simulator.user_role("u") is Role.PLUS


@pytest.mark.parametrize("call", ["get_user", "get_room", "delete_room", "delete_upload"])
def test_unknown_things_are_not_found(simulator, call):
    with pytest.raises(KaleyraNotFound):
        getattr(get_video_provider(), call)("nope")


def test_update_of_an_unknown_user_is_not_found(simulator):
    with pytest.raises(KaleyraNotFound):
        get_video_provider().update_user_role(user_id="nope", role=Role.PLUS)


def test_credentials_for_an_unknown_user_are_not_found(simulator):
    with pytest.raises(KaleyraNotFound):
        get_video_provider().create_sdk_credentials(user_id="nope", expires_in=3600)


@pytest.mark.parametrize("expires_in", [359, 86401, "3600", True])
def test_the_engine_refuses_a_token_lifetime_outside_360_to_86400(simulator, expires_in):
    simulator.engine.create_user({"id": "u", "role": "plus"})
    with pytest.raises(Refusal) as caught:
        simulator.engine.create_credentials({"user_id": "u", "expires_in": expires_in})
    assert caught.value.status == 400


def test_backgrounds_must_be_jpeg_by_type_and_by_content(simulator):
    provider = get_video_provider()
    with pytest.raises(KaleyraBadRequest, match="HTTP 400"):
        provider.upload_background(filename="a.png", content=JPEG, content_type="image/png")
    with pytest.raises(KaleyraBadRequest, match="HTTP 400"):
        provider.upload_background(filename="a.jpg", content=b"\x89PNG", content_type="image/jpeg")


def test_a_background_over_16_mb_is_refused(simulator):
    big = jpeg(size=rules.MAX_BACKGROUND_BYTES + 1)
    with pytest.raises(KaleyraBadRequest) as caught:
        get_video_provider().upload_background(
            filename="a.jpg", content=big, content_type="image/jpeg"
        )
    assert caught.value.status == 400
    assert "16 MB" in caught.value.body


def test_a_company_has_at_most_10_backgrounds(simulator):
    provider = get_video_provider()
    for _ in range(10):
        provider.upload_background(filename="a.jpg", content=JPEG, content_type="image/jpg")
    with pytest.raises(KaleyraBadRequest) as caught:
        provider.upload_background(filename="a.jpg", content=JPEG, content_type="image/jpeg")
    assert "at most 10" in caught.value.body
    assert len(simulator.backgrounds()) == 10


def test_the_default_background_must_be_an_uploaded_one(simulator):
    provider = get_video_provider()
    with pytest.raises(KaleyraBadRequest):
        provider.set_default_background(background_alias="never-uploaded")
    alias = provider.upload_background(
        filename="a.jpg", content=JPEG, content_type="image/jpeg"
    ).background_alias
    assert provider.set_default_background(background_alias=alias).default_background == alias
    assert provider.get_company().default_background == alias


def test_the_default_company_exists(simulator):
    company = get_video_provider().get_company()
    assert (company.name, company.default_language) == ("Simulated company", "en")


def test_sdk_tokens_are_hs256_jwts_with_kaleyra_claims(simulator):
    provider = get_video_provider()
    provider.create_user(user_id="u", role=Role.BASIC)
    credentials = provider.create_sdk_credentials(user_id="u", expires_in=600)
    claims = simulator.engine.token_claims(credentials.access_token)
    company_id = claims["companyId"]
    assert claims == {
        "user": "u",
        "companyId": company_id,
        "allowCamera": True,
        "iat": claims["iat"],
        "exp": claims["iat"] + 600,
        "iss": "@switchboard-core",
        "sub": f"u#{company_id}",
    }
    assert int(credentials.expires_at.timestamp()) == claims["exp"]
    assert credentials.expires_at.tzinfo is not None


def test_expires_at_is_written_utc_with_milliseconds(simulator):
    simulator.engine.create_user({"id": "u", "role": "plus"})
    answer = simulator.engine.create_credentials({"user_id": "u", "expires_in": 360})
    assert answer["expires_at"].endswith(".000Z")
    assert len(answer["expires_at"]) == len("2022-01-10T11:41:19.000Z")


def test_upload_lists_are_paginated_with_default_limit_20(simulator):
    provider = get_video_provider()
    provider.create_user(user_id="d", role=Role.PLUS)
    provider.create_user(user_id="p", role=Role.BASIC)
    room = provider.create_room(participants=specs("d", "p"), duration=None, live=False)
    for _ in range(25):
        simulator.add_upload(room.id)
    first = simulator.engine.list_uploads({"room_id": room.id})
    assert (first["offset"], first["limit"], first["has_more"], first["count"]) == (0, 20, True, 20)
    second = simulator.engine.list_uploads({"room_id": room.id, "offset": "20"})
    assert (second["has_more"], second["count"]) == (False, 5)
    assert len(list(provider.iter_room_uploads(room.id))) == 25


@pytest.mark.parametrize(
    "query", [{"limit": "0"}, {"limit": "101"}, {"offset": "-1"}, {"limit": "x"}]
)
def test_bad_pagination_is_refused(simulator, query):
    with pytest.raises(Refusal) as caught:
        simulator.engine.list_uploads(query)
    assert caught.value.status == 400


def test_deleting_an_upload_removes_it(simulator):
    provider = get_video_provider()
    provider.create_user(user_id="d", role=Role.PLUS)
    provider.create_user(user_id="p", role=Role.BASIC)
    room = provider.create_room(participants=specs("d", "p"), duration=None, live=False)
    upload = simulator.add_upload(room.id, user_id="p", upload_type="snapshot")
    assert (upload.user_id, upload.upload_type, upload.room_id) == ("p", "snapshot", room.id)
    provider.delete_upload(upload.key)
    assert list(provider.iter_room_uploads(room.id)) == []


def test_adding_an_upload_to_an_unknown_room_is_a_test_mistake(simulator):
    with pytest.raises(LookupError):
        simulator.add_upload("room_000000000000")


# --- what issue #22 found the simulator let through ---------------------------------------------


@pytest.fixture
def served(simulator_http):
    """The served simulator with a plus and a basic user, and `call` to its API."""
    call = simulator_api(simulator_http)
    call("POST", "/v2/users", json={"id": "doctor", "role": "plus"})
    call("POST", "/v2/users", json={"id": "patient", "role": "basic"})
    return call


ROOM = {"participants": [{"user_id": "doctor"}, {"user_id": "patient"}]}


def test_past_the_rate_limit_the_simulator_answers_429_with_retry_after(simulator_http, served):
    simulator_http.set_rate_limit(3, per_seconds=60)
    assert [served("GET", "/v2/company")[0] for _ in range(3)] == [200, 200, 200]
    status, body, headers = served("GET", "/v2/company")
    assert status == 429
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert "rate limit" in body["message"]


def test_the_429_can_come_without_retry_after(simulator_http, served):
    simulator_http.set_rate_limit(1, per_seconds=60, retry_after=False)
    served("GET", "/v2/company")
    status, _, headers = served("GET", "/v2/company")
    assert status == 429
    assert "Retry-After" not in headers


def test_without_a_rate_limit_300_calls_in_a_row_all_succeed(simulator_http, served):
    assert {served("GET", "/v2/company")[0] for _ in range(300)} == {200}


def test_the_rate_limit_window_starts_again_once_over(simulator):
    clock = [1000.0]
    engine = Engine(simulator.db_path, link_base="http://x", clock=lambda: clock[0])
    simulator.set_rate_limit(2, per_seconds=10)
    assert [engine.enter("get_company", api_key="k") for _ in range(2)] == [None, None]
    refused = engine.enter("get_company", api_key="k")
    assert (refused.mode, refused.retry_after) == ("429", 10.0)
    assert engine.enter("get_company", api_key="other key") is None  # a limit per key
    clock[0] += 10
    assert engine.enter("get_company", api_key="k") is None


def test_in_process_the_rate_limit_is_a_kaleyra_rate_limited(simulator):
    simulator.set_rate_limit(1, per_seconds=60)
    provider = get_video_provider()
    provider.create_user(user_id="u", role=Role.PLUS)
    with pytest.raises(KaleyraRateLimited) as caught:
        provider.create_sdk_credentials(user_id="u", expires_in=600)
    assert caught.value.retry_after == 60.0


def test_a_bogus_call_type_is_refused(served):
    status, body, _ = served("POST", "/v2/rooms", json={**ROOM, "call_type": "bogus"})
    assert status == 400
    assert "audio_video, audio_upgradable, audio_only" in body["message"]


@pytest.mark.parametrize("call_type", ["audio_video", "audio_upgradable", "audio_only"])
def test_the_call_types_are_kept(served, call_type):
    status, room, _ = served("POST", "/v2/rooms", json={**ROOM, "call_type": call_type})
    assert (status, room["call_type"]) == (201, call_type)


def test_an_unknown_room_field_is_refused_by_name(served):
    status, body, _ = served("POST", "/v2/rooms", json={**ROOM, "status": "active"})
    assert status == 400
    assert "'status'" in body["message"]


def test_an_unknown_participant_field_is_refused(served):
    participants = [{"user_id": "doctor", "role": "plus"}, {"user_id": "patient"}]
    assert served("POST", "/v2/rooms", json={"participants": participants})[0] == 400


def test_the_documented_room_fields_are_accepted_and_shown(served):
    body = {
        **ROOM,
        "recording": "automatic",
        "duration": 600,
        "call_type": "audio_only",
        "ringing": True,
        "description": "tc:1:x",
        "offline_transcription": True,
        "live": False,
    }
    status, room, _ = served("POST", "/v2/rooms", json=body)
    assert status == 201
    assert {field: room[field] for field in body if field != "participants"} == {
        field: value for field, value in body.items() if field != "participants"
    }


def test_a_room_shows_no_field_kaleyra_does_not_document(served):
    room = served("POST", "/v2/rooms", json=ROOM)[1]
    for invented in ("status", "disabled", "duration_used", "recording_status", "live"):
        assert invented not in room  # `live` only when the creator sent it


def test_a_64x64_jpeg_background_is_refused_saying_its_size(served):
    files = {"virtual_background": ("bg.jpg", jpeg(64, 64), "image/jpeg")}
    status, body, _ = served("POST", "/v2/company/virtual-background", files=files)
    assert status == 400
    assert "64x64" in body["message"] and "1280x1280" in body["message"]


@pytest.mark.parametrize(("width", "height"), [(1279, 1280), (1280, 1279)])
def test_each_side_of_a_background_must_be_1280(simulator, width, height):
    with pytest.raises(KaleyraBadRequest):
        get_video_provider().upload_background(
            filename="a.jpg", content=jpeg(width, height), content_type="image/jpeg"
        )


def test_the_size_is_read_from_a_progressive_frame_after_other_segments(simulator):
    progressive = jpeg(1920, 1440).replace(b"\xff\xc0", b"\xff\xc2")
    assert rules.jpeg_size(progressive) == (1920, 1440)
    background = get_video_provider().upload_background(
        filename="a.jpg", content=progressive, content_type="image/jpeg"
    )
    assert background.background_alias in simulator.backgrounds()


def test_a_jpeg_without_a_frame_header_is_refused(simulator):
    headless = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
    with pytest.raises(KaleyraBadRequest) as caught:
        get_video_provider().upload_background(
            filename="a.jpg", content=headless, content_type="image/jpeg"
        )
    assert "not a JPEG" in caught.value.body


def test_a_user_is_deactivated_with_active_false(simulator_http, served):
    status, user, _ = served("PUT", "/v2/users/doctor", json={"active": False})
    assert status == 200
    assert (user["id"], user["role"], user["active"]) == ("doctor", "plus", False)
    assert served("GET", "/v2/users/doctor")[1]["active"] is False
    assert served("PUT", "/v2/users/doctor", json={"active": True})[1]["active"] is True


def test_an_inactive_plus_user_no_longer_counts_as_a_licence(simulator, provider):
    assert simulator.plus_licences_in_use() == 1
    simulator.engine.update_user("doctor", {"active": False})
    assert simulator.plus_licences_in_use() == 0
    assert simulator.user_role("doctor") is Role.PLUS  # kept, with its history


def test_an_inactive_user_cannot_be_put_in_a_new_room(simulator, provider):
    simulator.engine.update_user("patient0", {"active": False})
    with pytest.raises(KaleyraBadRequest) as caught:
        provider.create_room(participants=specs("doctor", "patient0"), duration=None, live=True)
    assert "patient0 is not active" in caught.value.body


def test_an_inactive_users_id_cannot_be_taken_again(simulator):
    simulator.engine.create_user({"id": "u", "role": "basic"})
    simulator.engine.update_user("u", {"active": False})
    with pytest.raises(Refusal) as caught:
        simulator.engine.create_user({"id": "u", "role": "plus"})
    assert caught.value.status == 409


@pytest.mark.parametrize(
    "body", [{}, {"active": "no"}, {"role": "admin"}, {"active": False, "name": "x"}]
)
def test_a_user_update_takes_only_role_and_active(served, body):
    assert served("PUT", "/v2/users/doctor", json=body)[0] == 400
