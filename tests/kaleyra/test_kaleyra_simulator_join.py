"""Join links open a local page naming the room and participant, everything escaped."""

import pytest
import requests
from django.test import Client

from kaleyra.provider import get_video_provider
from kaleyra.types import ParticipantSpec, Role

PARTICIPANTS = [ParticipantSpec("doctor", True, {}), ParticipantSpec("patient", False, {})]


def create_room():
    provider = get_video_provider()
    provider.create_user(user_id="doctor", role=Role.PLUS)
    provider.create_user(user_id="patient", role=Role.BASIC)
    return provider.create_room(participants=PARTICIPANTS, duration=None, live=True)


@pytest.mark.urls("tests.kaleyra.join_urls")
def test_in_process_links_point_at_the_public_url_and_render_in_django(simulator, settings):
    room = create_room()
    link = room.link_for("patient")
    assert link.startswith(settings.KALEYRA_SIMULATOR_PUBLIC_URL + "/join/")
    path = "/kaleyra-simulator/join/" + link.rsplit("/", 1)[1]
    response = Client().get(path, {"dn": "<script>alert(1)</script>", "l": "it"})
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert room.id in page and "patient" in page and "basic" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page
    assert "<td>it</td>" in page


@pytest.mark.urls("tests.kaleyra.join_urls")
def test_an_unknown_or_deleted_link_is_a_404_page(simulator):
    room = create_room()
    token = room.link_for("doctor").rsplit("/", 1)[1]
    get_video_provider().delete_room(room.id)
    assert Client().get(f"/kaleyra-simulator/join/{token}").status_code == 404


def test_http_links_point_at_the_server_and_render(simulator_http):
    room = create_room()
    link = room.link_for("doctor")
    assert link.startswith(simulator_http.engine.link_base + "/join/")
    response = requests.get(link, params={"display_name": 'Dr "<b>"'}, timeout=5)
    assert response.status_code == 200
    assert "Dr &quot;&lt;b&gt;&quot;" in response.text
    assert "<b>" not in response.text
    assert "yes" in response.text  # admin


def path_of(link):
    return "/kaleyra-simulator/join/" + link.rsplit("/", 1)[1]


@pytest.mark.urls("tests.kaleyra.join_urls")
def test_in_process_pages_make_a_session_and_serve_its_recording(simulator):
    room = create_room()
    with simulator.engine.store.transaction() as connection:
        connection.execute("UPDATE rooms SET recording = 'automatic' WHERE id = ?", (room.id,))
    browser = Client()
    assert "waiting for another participant" in browser.get(path_of(room.link_for("doctor"))).text
    assert "in session session_" in browser.get(path_of(room.link_for("patient"))).text
    left = browser.post(path_of(room.link_for("doctor")), {"action": "leave"})
    assert left.status_code == 200 and "You left the call" in left.text
    (session,) = simulator.sessions(room.id)
    assert session["end_date"] is not None
    url = simulator.engine.get_recording(session["id"], {})["url"]
    assert url.startswith(simulator.engine.link_base + "/recordings/")
    download = browser.get(url.removeprefix(simulator.engine.link_base.rsplit("/", 1)[0]))
    assert download.status_code == 200
    assert download["Content-Type"] == "video/mp4"


@pytest.mark.urls("tests.kaleyra.join_urls")
def test_an_unknown_button_is_a_400_page(simulator):
    room = create_room()
    response = Client().post(path_of(room.link_for("doctor")), {"action": "explode"})
    assert response.status_code == 400
