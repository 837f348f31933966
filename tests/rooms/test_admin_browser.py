"""The admin in a real headless Chromium: support staff find a visit and delete its uploads."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connections
from django.utils import timezone

from tests.rooms.conftest import doctor, patient, stored

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]


@pytest.fixture
def browser_page(monkeypatch):
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="needs Playwright for Python (requirements/test.txt)"
    )
    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the test
    # makes around it are plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()
        # Connections the test opened while Playwright's loop ran belong to that context; close
        # them here, or PostgreSQL refuses to drop the test database at the end of the run.
        connections.close_all()


def test_support_finds_a_visit_by_participant_name_and_deletes_its_uploads(
    live_server, simulator, api, browser_page
):
    User.objects.create_superuser("support", password="a-long-test-password")
    start = timezone.now() + timedelta(hours=2)
    payload = {
        "participants": {"number": 2, "data": [doctor(), patient(full_name="Bob Rossi")]},
        "start_date": start.isoformat(),
        "duration_in_seconds": 1800,
    }
    response = api.post("/teleconsultation", payload, format="json")
    assert response.status_code == 201, response.json()
    visit = response.json()["roomId"]
    room = stored(visit).kaleyra_room_id
    simulator.add_upload(room)
    simulator.add_upload(room, upload_type="snapshot")
    page = browser_page

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "support")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    page.click("a[href='/admin/rooms/teleconsultation/']")
    page.fill("#searchbar", "Bob Rossi")
    page.press("#searchbar", "Enter")
    page.click(f"text={visit}")
    page.click("input[value='Delete uploads']")

    message = page.locator("ul.messagelist li.success")
    assert message.text_content().strip() == f"Teleconsultation {visit}: 2 of 2 uploads deleted"
    assert page.url.endswith(f"/admin/rooms/teleconsultation/{visit}/change/")
    assert simulator.uploads() == []
