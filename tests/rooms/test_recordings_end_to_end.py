"""A recorded visit from end to end, over real HTTP: with KALEYRA_RECORDING=automatic the webhook
registration asks for `on_recording_available`; both participants open their links on the
simulator served over HTTP, one leaves and the call ends; the recording's announcement reaches
the service (a live server) and is stored against the visit; support sees it in the admin and
downloads it through a temporary link; `DELETE /teleconsultation/{id}/uploads` deletes it."""

import time
from datetime import timedelta
from io import StringIO

import pytest
import requests
from django.core.management import call_command

from rooms.services.webhook_events import RECORDING_AVAILABLE
from rooms.storage import get_storage
from tests.rooms.conftest import NOW, body, doctor, patient
from tests.rooms.recorded_calls import DELIVERY_SECONDS, recording_exists

pytestmark = [pytest.mark.django_db(transaction=True)]  # the live server reads what we wrote

ADMIN = "/admin/rooms/teleconsultation/"


def announced(visit: str) -> list:
    return get_storage().webhook_events(teleconsultation_id=visit, event=RECORDING_AVAILABLE)


def wait_for_the_announcement(visit: str) -> list:
    """Sent from a thread of the simulator's server, not ours to join."""
    deadline = time.monotonic() + DELIVERY_SECONDS
    while not (events := announced(visit)):
        assert time.monotonic() < deadline, "on_recording_available never reached the service"
        time.sleep(0.05)
    return events


def test_a_recorded_call_is_announced_shown_downloaded_and_deleted(
    api, admin_client, simulator_http, live_server, settings, clock
):
    settings.KALEYRA_RECORDING = "automatic"
    settings.TELECONSULTATION_DELETE_UPLOADS = True
    receiver = f"{live_server.url}/webhooks/kaleyra"
    call_command("kaleyra_webhooks", "--register", receiver, stdout=StringIO())
    (webhook,) = simulator_http.registered_webhooks()
    assert webhook["events"] == ["on_room_deleted", "on_recording_available"]

    people = [doctor(), patient(full_name="Mario Bianchi")]
    visit = api.post("/teleconsultation", body(people), format="json").json()["roomId"]
    clock.move_to(NOW + timedelta(hours=2))  # the start: links are handed out
    links = []
    for user_id, groups in (("doctor-1", ("doctor",)), ("patient-1", ("customer",))):
        api.as_user(user_id, groups)
        links.append(api.get(f"/teleconsultation/{visit}").json()["accessLinkURL"])

    for link in links:
        assert requests.get(link, timeout=5).status_code == 200  # joins the call
    (session,) = simulator_http.sessions()
    left = requests.post(links[1], data={"action": "leave"}, timeout=5)
    assert left.status_code == 200  # one of two left: the call ends, recorded

    (event,) = wait_for_the_announcement(visit)
    assert event.data["session_id"] == session["id"]

    page = admin_client.get(f"{ADMIN}{visit}/change/").content.decode()
    recordings = page[page.index('id="recordings"') :]
    assert session["id"] in recordings and "Download link" in recordings
    shown = admin_client.post(f"{ADMIN}{visit}/recording-link/", {"session_id": session["id"]})
    download = requests.get(shown.context["link"].url, timeout=5)
    assert download.status_code == 200
    assert session["id"] in download.text

    api.as_user("doctor-1", ("doctor",))
    deleted = api.delete(f"/teleconsultation/{visit}/uploads")

    assert deleted.json() == {"total": 1, "deleted": 1}
    assert not recording_exists(simulator_http, session["id"])
    assert requests.get(shown.context["link"].url, timeout=5).status_code == 404
