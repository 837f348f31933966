"""Injected faults surface as the errors the real client would raise, in-process and over HTTP,
and the call log counts every call that reached the simulator (retries included)."""

import pytest

from kaleyra.errors import (
    KaleyraNotFound,
    KaleyraRateLimited,
    KaleyraServerError,
    KaleyraTimeout,
    KaleyraUnavailable,
)
from kaleyra.provider import get_video_provider
from kaleyra.types import ParticipantSpec, Role

ERRORS = {
    "500": KaleyraServerError,
    "429": KaleyraRateLimited,
    "timeout": KaleyraTimeout,
    "drop": KaleyraUnavailable,
}
PARTICIPANTS = [ParticipantSpec("doctor", True, {}), ParticipantSpec("patient", False, {})]


def given_users(provider):
    provider.create_user(user_id="doctor", role=Role.PLUS)
    provider.create_user(user_id="patient", role=Role.BASIC)


@pytest.fixture(params=["simulator", "simulator_http"])
def backend(request):
    """The simulator handle, with the provider pointed at it in-process or over HTTP."""
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("mode", ["500", "timeout", "drop"])
def test_a_fault_on_room_creation_surfaces_at_once_and_creates_nothing(backend, mode):
    provider = get_video_provider()
    given_users(provider)
    backend.fail_next("create_room", mode=mode, retry_after=0)
    with pytest.raises(ERRORS[mode]):
        provider.create_room(participants=PARTICIPANTS, duration=None, live=True)
    assert backend.rooms() == []
    assert backend.call_count("create_room") == 1


def test_a_429_on_room_creation_is_repeated_and_makes_one_room(backend):
    # A 429 is Kaleyra refusing to do anything: repeating it cannot make a second room.
    provider = get_video_provider()
    given_users(provider)
    backend.fail_next("create_room", mode="429", retry_after=0)
    room = provider.create_room(participants=PARTICIPANTS, duration=None, live=True)
    assert backend.rooms() == [room.id]
    assert backend.call_count("create_room") == 2


@pytest.mark.parametrize(
    ("mode", "error"), [("timeout_after", KaleyraTimeout), ("drop_after", KaleyraUnavailable)]
)
def test_a_room_created_before_the_answer_is_lost_exists_on_kaleyra(backend, mode, error):
    provider = get_video_provider()
    given_users(provider)
    backend.fail_next("create_room", mode=mode)
    with pytest.raises(error):
        provider.create_room(participants=PARTICIPANTS, duration=None, live=True)
    (room_id,) = backend.rooms()  # made, though the caller never learnt its id
    assert [p["user_id"] for p in backend.get_room_record(room_id)["participants"]] == [
        "doctor",
        "patient",
    ]
    assert backend.call_count("create_room") == 1


def test_a_delete_whose_answer_was_lost_is_retried_into_not_found(backend):
    provider = get_video_provider()
    given_users(provider)
    room = provider.create_room(participants=PARTICIPANTS, duration=None, live=True)
    backend.fail_next("delete_room", mode="drop_after")
    with pytest.raises(KaleyraNotFound):
        provider.delete_room(room.id)
    assert not backend.room_exists(room.id)
    assert backend.call_count("delete_room") == 2


def test_the_fault_is_consumed_so_the_next_call_succeeds(backend):
    provider = get_video_provider()
    given_users(provider)
    backend.fail_next("create_room", mode="500")
    with pytest.raises(KaleyraServerError):
        provider.create_room(participants=PARTICIPANTS, duration=None, live=True)
    room = provider.create_room(participants=PARTICIPANTS, duration=None, live=True)
    assert backend.room_exists(room.id)


@pytest.mark.parametrize("mode", ["429", "timeout", "drop"])
def test_a_safe_call_retries_through_a_transient_fault(backend, mode):
    provider = get_video_provider()
    backend.fail_next("get_company", mode=mode, retry_after=0)
    assert provider.get_company().name == "Simulated company"
    assert backend.call_count("get_company") == 2


def test_a_500_on_a_safe_call_is_not_retried(backend):
    backend.fail_next("get_user", mode="500")
    with pytest.raises(KaleyraServerError) as caught:
        get_video_provider().get_user("anyone")
    assert caught.value.status == 500
    assert backend.call_count("get_user") == 1


def test_a_fault_lasting_longer_than_the_retries_surfaces(backend, settings):
    backend.fail_next("delete_upload", mode="drop", times=settings.KALEYRA_MAX_RETRIES + 1)
    with pytest.raises(KaleyraUnavailable):
        get_video_provider().delete_upload("upl_1")
    assert backend.call_count("delete_upload") == settings.KALEYRA_MAX_RETRIES + 1


def test_rate_limit_faults_carry_retry_after(simulator, settings):
    settings.KALEYRA_MAX_RETRIES = 0
    simulator.fail_next("get_company", mode="429", retry_after=2)
    with pytest.raises(KaleyraRateLimited) as caught:
        get_video_provider().get_company()
    assert caught.value.retry_after == 2.0


def test_rate_limit_over_http_sends_the_retry_after_header(simulator_http, settings):
    settings.KALEYRA_MAX_RETRIES = 0
    simulator_http.fail_next("get_company", mode="429", retry_after=3)
    with pytest.raises(KaleyraRateLimited) as caught:
        get_video_provider().get_company()
    assert caught.value.retry_after == 3.0


def test_the_call_log_counts_per_operation_and_can_be_reset(backend):
    provider = get_video_provider()
    given_users(provider)
    provider.get_company()
    assert backend.calls() == {"create_user": 2, "get_company": 1}
    assert backend.call_count() == 3
    backend.reset_call_log()
    assert backend.call_count() == 0


def test_ping_is_logged_as_get_company(backend):
    get_video_provider().ping()
    assert backend.calls() == {"get_company": 1}


def test_unknown_operations_and_modes_are_refused(simulator):
    with pytest.raises(ValueError, match="unknown operation"):
        simulator.fail_next("create_rooms", mode="500")
    with pytest.raises(ValueError, match="unknown fault mode"):
        simulator.fail_next("create_room", mode="503")
    with pytest.raises(ValueError, match="at least 1"):
        simulator.fail_next("create_room", mode="500", times=0)
