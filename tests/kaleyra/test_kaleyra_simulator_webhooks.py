"""The simulator's webhooks: signed `on_room_deleted` when a room goes (by our call or on
Kaleyra's side), `on_recording_available` on demand, delivered in the background to loopback
URLs only; and webhook registration through the provider."""

import json
import logging
import socket
import time
from io import StringIO

import pytest
import responses
from django.core.management import CommandError, call_command

from kaleyra.errors import KaleyraServerError
from kaleyra.provider import get_video_provider
from kaleyra.simulator import Simulator
from kaleyra.simulator.pytest_plugin import webhook_receiver
from kaleyra.simulator.rules import Refusal
from kaleyra.simulator.webhook_sender import WebhookSender
from kaleyra.types import ParticipantSpec, Role
from kaleyra.webhooks import configured_key, verify
from tests.kaleyra.support import API_KEY, BASE_URL, simulator_api

PARTICIPANTS = [ParticipantSpec("doctor", True, {}), ParticipantSpec("patient", False, {})]


@pytest.fixture(params=["simulator", "simulator_http"])
def backend(request):
    return request.getfixturevalue(request.param)


def given_a_room(provider):
    provider.create_user(user_id="doctor", role=Role.PLUS)
    provider.create_user(user_id="patient", role=Role.BASIC)
    return provider.create_room(participants=PARTICIPANTS, duration=None, live=True)


def verified(received, key=None):
    """The envelope of a received webhook, after checking its signature as the service will."""
    key = key or configured_key()
    return verify(received.signature, received.body, key=key, now=time.time(), tolerance=300)


def test_deleting_a_room_sends_a_signed_on_room_deleted(backend, simulator_webhooks):
    provider = get_video_provider()
    room = given_a_room(provider)
    provider.delete_room(room.id)
    (received,) = simulator_webhooks.wait_for(1)
    assert received.path == "/webhooks/kaleyra"
    envelope = verified(received)
    assert (envelope.event, envelope.namespace, envelope.event_version) == (
        "on_room_deleted",
        "room",
        "1.0",
    )
    assert envelope.data["room_id"] == room.id
    assert envelope.data["deleted_links"] == [
        {"user_id": p.user_id, "link": p.link} for p in room.participants
    ]


def test_a_room_deleted_on_kaleyras_side_is_gone_and_announced(backend, simulator_webhooks):
    room = given_a_room(get_video_provider())
    backend.reset_call_log()
    delivery = backend.delete_room_on_kaleyra_side(room.id)
    delivery.join(5)
    assert not backend.room_exists(room.id)
    assert backend.call_count() == 0  # not a call of ours
    (received,) = simulator_webhooks.wait_for(1)
    assert verified(received).data["room_id"] == room.id


def test_deleting_an_unknown_room_on_kaleyras_side_is_a_lookup_error(simulator):
    with pytest.raises(LookupError):
        simulator.delete_room_on_kaleyra_side("room_missing")


def test_a_recording_can_be_announced(backend, simulator_webhooks):
    room = given_a_room(get_video_provider())
    backend.emit_recording_available(room.id, "session_1")
    envelope = verified(simulator_webhooks.wait_for(1)[0])
    assert envelope.event == "on_recording_available"
    assert envelope.data == {"room_id": room.id, "session_id": "session_1"}


def test_the_default_session_is_the_one_uploads_use(simulator, simulator_webhooks):
    simulator.emit_recording_available("room_0a1b2c3d4e5f")
    data = verified(simulator_webhooks.wait_for(1)[0]).data
    assert data["session_id"] == "session_0a1b2c3d4e5f"


def test_without_a_webhook_url_nothing_is_sent(simulator, settings):
    settings.KALEYRA_SIMULATOR_WEBHOOK_URL = ""
    room = given_a_room(get_video_provider())
    assert simulator.delete_room_on_kaleyra_side(room.id) is None
    assert simulator.emit_recording_available(room.id) is None


def test_a_url_off_this_machine_is_never_posted_to(caplog):
    sender = WebhookSender.fixed("https://example.org/webhooks/kaleyra", "k")
    with caplog.at_level(logging.ERROR, logger="kaleyra.simulator"):
        assert sender.send("on_room_deleted", "room", {"room_id": "r"}) is None
    assert "not a loopback URL" in caplog.text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_failed_delivery_is_logged_not_raised(caplog):
    sender = WebhookSender.fixed(f"http://127.0.0.1:{free_port()}/webhooks", "k", attempts=1)
    with caplog.at_level(logging.WARNING, logger="kaleyra.simulator"):
        sender.send("on_room_deleted", "room", {"room_id": "r"}).join(5)
    assert "Simulated webhook on_room_deleted" in caplog.text
    assert "failed" in caplog.text


def test_an_answer_other_than_2xx_is_retried_then_given_up_and_logged(simulator_webhooks, caplog):
    simulator_webhooks.status = 500
    sleeps = []
    sender = WebhookSender.fixed(
        simulator_webhooks.url, "k", attempts=3, backoff=0.25, sleep=sleeps.append
    )
    with caplog.at_level(logging.WARNING, logger="kaleyra.simulator"):
        sender.send("on_room_deleted", "room", {"room_id": "r"}).join(5)
    assert len(simulator_webhooks.received) == 3
    assert sleeps == [0.25, 0.5]
    assert "answered 500" in caplog.text
    assert "given up after 3 attempts" in caplog.text


def test_a_delivery_stops_at_the_first_2xx(simulator_webhooks):
    simulator_webhooks.status = 204
    simulator_webhooks.fail_first(1)
    sender = WebhookSender.fixed(simulator_webhooks.url, "k", backoff=0)
    sender.send("on_room_deleted", "room", {"room_id": "r"}).join(5)
    assert len(simulator_webhooks.received) == 2


def test_a_connection_error_is_retried(caplog):
    sleeps = []
    sender = WebhookSender.fixed(f"http://127.0.0.1:{free_port()}/x", "k", sleep=sleeps.append)
    with caplog.at_level(logging.WARNING, logger="kaleyra.simulator"):
        sender.send("on_room_deleted", "room", {"room_id": "r"}).join(5)
    assert caplog.text.count("failed") == 3
    assert len(sleeps) == 2


# --- delivery to what was registered ------------------------------------------------------------


def test_events_go_only_to_the_urls_registered_for_them(backend, simulator_webhooks):
    with webhook_receiver() as recordings:
        backend.engine.register_webhook(
            {
                "post_event_webhook_url": recordings.url,
                "webhook_filters": ["on_recording_available"],
            }
        )
        backend.engine.register_webhook(
            {
                "post_event_webhook_url": simulator_webhooks.url,
                "webhook_filters": [{"event": "on_room_deleted"}],
            }
        )
        room = given_a_room(get_video_provider())
        backend.emit_recording_available(room.id, "session_1").join(5)
        backend.delete_room_on_kaleyra_side(room.id).join(5)
        (recording,) = recordings.wait_for(1)
        (deletion,) = simulator_webhooks.wait_for(1)
    assert verified(recording).event == "on_recording_available"
    assert verified(deletion).event == "on_room_deleted"


def test_an_event_no_registration_asks_for_is_sent_nowhere(simulator, simulator_webhooks):
    simulator.engine.register_webhook(
        {"post_event_webhook_url": simulator_webhooks.url, "webhook_filters": ["on_call_incoming"]}
    )
    room = given_a_room(get_video_provider())
    assert simulator.delete_room_on_kaleyra_side(room.id) is None
    assert simulator_webhooks.received == []


@pytest.mark.parametrize(
    "filters",
    [
        ["on_room_deleted", "on_recording_available"],
        [{"event": "on_room_deleted"}, {"event": "on_recording_available"}],
    ],
)
def test_filters_are_names_or_objects_and_come_back_as_given(simulator_http, filters):
    call = simulator_api(simulator_http)
    body = {"post_event_webhook_url": "http://127.0.0.1:1/x", "webhook_filters": filters}
    status, created, _ = call("POST", "/v2/webhooks", json=body)
    assert (status, created["webhook_filters"]) == (201, filters)
    status, listing, _ = call("GET", "/v2/webhooks")
    assert status == 200
    assert [w["webhook_filters"] for w in listing["webhooks"]] == [filters]
    assert simulator_http.registered_webhooks()[0]["events"] == [
        "on_room_deleted",
        "on_recording_available",
    ]


@pytest.mark.parametrize("filters", [[], "on_room_deleted", [{"events": "x"}], [""], None])
def test_filters_that_name_no_event_are_refused(simulator_http, filters):
    body = {"post_event_webhook_url": "http://127.0.0.1:1/x", "webhook_filters": filters}
    assert simulator_api(simulator_http)("POST", "/v2/webhooks", json=body)[0] == 400


def test_a_webhook_is_deleted_by_id(simulator_http):
    call = simulator_api(simulator_http)
    body = {"post_event_webhook_url": "http://127.0.0.1:1/x", "webhook_filters": ["e"]}
    webhook_id = call("POST", "/v2/webhooks", json=body)[1]["id"]
    assert call("DELETE", f"/v2/webhooks/{webhook_id}")[:2] == (204, None)
    assert call("GET", "/v2/webhooks")[1]["webhooks"] == []
    assert call("DELETE", f"/v2/webhooks/{webhook_id}")[0] == 404


def test_the_envelope_carries_milliseconds_and_the_header_seconds(simulator_webhooks):
    sender = WebhookSender(lambda: (simulator_webhooks.url, "k"), clock=lambda: 1718000000.25)
    sender.send("on_room_deleted", "room", {"room_id": "r"}).join(5)
    (received,) = simulator_webhooks.wait_for(1)
    assert json.loads(received.body)["timestamp"] == 1718000000250
    assert received.signature.startswith("t=1718000000,v0=")
    assert verify(received.signature, received.body, key="k", now=1718000000, tolerance=1)


def test_a_webhook_is_registered_through_the_provider(backend):
    webhook = get_video_provider().register_webhook(
        url="http://127.0.0.1:8000/webhooks/kaleyra", events=["on_room_deleted"]
    )
    (registered,) = backend.registered_webhooks()
    assert registered["id"] == webhook.id
    assert (registered["url"], registered["events"]) == (
        "http://127.0.0.1:8000/webhooks/kaleyra",
        ["on_room_deleted"],
    )
    assert backend.call_count("register_webhook") == 1


def test_a_webhook_registration_is_never_repeated(backend):
    backend.fail_next("register_webhook", mode="500")
    with pytest.raises(KaleyraServerError):
        get_video_provider().register_webhook(url="http://127.0.0.1:1/x", events=["e"])
    assert backend.call_count("register_webhook") == 1


def test_webhooks_are_listed_and_deleted_through_the_provider(backend):
    provider = get_video_provider()
    kept = provider.register_webhook(url="http://127.0.0.1:1/kept", events=["on_room_deleted"])
    dropped = provider.register_webhook(url="http://127.0.0.1:1/dropped", events=["e"])
    assert [(w.id, w.url, w.events) for w in provider.list_webhooks()] == [
        (kept.id, "http://127.0.0.1:1/kept", ("on_room_deleted",)),
        (dropped.id, "http://127.0.0.1:1/dropped", ("e",)),
    ]
    provider.delete_webhook(dropped.id)
    assert [w.id for w in provider.list_webhooks()] == [kept.id]
    assert [w["id"] for w in backend.registered_webhooks()] == [kept.id]


# --- management commands --------------------------------------------------------------------


def test_the_command_deletes_a_room_on_kaleyras_side_and_posts_the_webhook(
    simulator, simulator_webhooks, settings
):
    room = given_a_room(get_video_provider())
    out = StringIO()
    call_command(
        "kaleyra_simulator",
        delete_room=room.id,
        webhook_url=simulator_webhooks.url,
        api_key="cmd-key",
        db=settings.KALEYRA_SIMULATOR_DB,
        stdout=out,
    )
    assert not simulator.room_exists(room.id)
    (received,) = simulator_webhooks.received  # delivered before the command returned
    assert verified(received, key="cmd-key").data["room_id"] == room.id
    assert f"Deleted room {room.id}" in out.getvalue()


def test_the_command_announces_a_recording(simulator, simulator_webhooks, settings):
    out = StringIO()
    call_command(
        "kaleyra_simulator",
        recording_available="room_1",
        session_id="session_9",
        db=settings.KALEYRA_SIMULATOR_DB,
        stdout=out,
    )
    (received,) = simulator_webhooks.received
    assert verified(received).data == {"room_id": "room_1", "session_id": "session_9"}


def test_the_command_refuses_an_unknown_room(simulator, settings):
    with pytest.raises(CommandError, match="room_missing"):
        call_command(
            "kaleyra_simulator", delete_room="room_missing", db=settings.KALEYRA_SIMULATOR_DB
        )


def test_the_command_refuses_a_webhook_url_off_this_machine(simulator, settings):
    with pytest.raises(CommandError, match="loopback"):
        call_command(
            "kaleyra_simulator",
            recording_available="room_1",
            webhook_url="https://example.org/hook",
            db=settings.KALEYRA_SIMULATOR_DB,
        )


def test_kaleyra_webhooks_registers_the_url(simulator):
    out = StringIO()
    call_command("kaleyra_webhooks", register="http://127.0.0.1:8000/webhooks/kaleyra", stdout=out)
    (registered,) = simulator.registered_webhooks()
    assert registered["events"] == ["on_room_deleted"]  # KALEYRA_RECORDING=none records nothing
    assert f"Registered webhook {registered['id']}" in out.getvalue()


@pytest.mark.parametrize("mode", ["manual", "automatic"])
def test_kaleyra_webhooks_asks_for_recordings_when_calls_are_recorded(simulator, settings, mode):
    settings.KALEYRA_RECORDING = mode
    call_command("kaleyra_webhooks", register="http://127.0.0.1:8000/x", stdout=StringIO())
    (registered,) = simulator.registered_webhooks()
    assert registered["events"] == ["on_room_deleted", "on_recording_available"]


def test_kaleyra_webhooks_takes_the_events_to_receive(simulator):
    call_command(
        "kaleyra_webhooks",
        register="http://127.0.0.1:8000/webhooks/kaleyra",
        events=["on_call_incoming"],
        stdout=StringIO(),
    )
    assert simulator.registered_webhooks()[0]["events"] == ["on_call_incoming"]


def test_kaleyra_webhooks_reports_a_refusal_as_a_command_error(simulator):
    simulator.fail_next("register_webhook", mode="500")
    with pytest.raises(CommandError, match="register_webhook"):
        call_command("kaleyra_webhooks", register="http://127.0.0.1:8000/x", stdout=StringIO())


def test_kaleyra_webhooks_names_the_body_sent_when_kaleyra_refuses_it(settings):
    settings.KALEYRA_BACKEND = "http"
    settings.BANDYER_BASE_URL = BASE_URL
    settings.BANDYER_API_SECRET_KEY = API_KEY
    with responses.RequestsMock() as mock:
        mock.post(f"{BASE_URL}/v2/webhooks", status=422, json={"message": "bad webhook_filters"})
        with pytest.raises(CommandError) as refused:
            call_command(
                "kaleyra_webhooks",
                register="https://tc.example.org/webhooks/kaleyra",
                events=["on_room_deleted"],
            )
    message = str(refused.value)
    assert "Kaleyra refused the registration (Kaleyra register_webhook: HTTP 422)" in message
    assert (
        'Body sent: {"post_event_webhook_url": "https://tc.example.org/webhooks/kaleyra", '
        '"webhook_method": "POST", "webhook_filters": [{"event": "on_room_deleted"}], '
        '"version": "1"}'
    ) in message
    assert 'Kaleyra answered: {"message": "bad webhook_filters"}' in message
    assert API_KEY not in message


def test_kaleyra_webhooks_lists_what_is_registered(simulator):
    provider = get_video_provider()
    first = provider.register_webhook(url="http://127.0.0.1:1/a", events=["on_room_deleted"])
    second = provider.register_webhook(url="http://127.0.0.1:1/b", events=["e1", "e2"])
    out = StringIO()
    call_command("kaleyra_webhooks", list=True, stdout=out)
    assert out.getvalue().splitlines() == [
        f"{first.id}  http://127.0.0.1:1/a  on_room_deleted",
        f"{second.id}  http://127.0.0.1:1/b  e1, e2",
    ]


def test_kaleyra_webhooks_says_when_none_is_registered(simulator):
    out = StringIO()
    call_command("kaleyra_webhooks", list=True, stdout=out)
    assert out.getvalue() == "No webhook is registered.\n"


def test_kaleyra_webhooks_wants_register_or_list(simulator):
    with pytest.raises(CommandError, match="one of the arguments --register --list is required"):
        call_command("kaleyra_webhooks")


def test_handles_share_registrations_through_the_state_file(simulator):
    get_video_provider().register_webhook(url="http://127.0.0.1:1/x", events=["e"])
    assert len(Simulator(simulator.db_path).registered_webhooks()) == 1


def test_the_command_signs_with_the_webhook_key_when_one_is_set(
    simulator, simulator_webhooks, settings
):
    settings.KALEYRA_WEBHOOK_KEY = "whk_service"
    call_command(
        "kaleyra_simulator",
        recording_available="room_1",
        api_key="cmd-key",
        db=settings.KALEYRA_SIMULATOR_DB,
        stdout=StringIO(),
    )
    (received,) = simulator_webhooks.received
    assert verified(received, key="whk_service").event == "on_recording_available"


@pytest.mark.parametrize(
    "filters", ["on_room_deleted", 3, [], [{"event": 3}], [{"url": "x"}], [""]]
)
def test_the_simulator_refuses_filters_that_name_no_event(simulator, filters):
    body = {"post_event_webhook_url": "http://127.0.0.1:1/x", "webhook_filters": filters}
    with pytest.raises(Refusal, match="webhook_filters must be|each of webhook_filters") as refused:
        simulator.engine.register_webhook(body)
    assert refused.value.status == 400
