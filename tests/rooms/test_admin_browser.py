"""The admin in a real headless Chromium, at a laptop's 1280 px: support staff find a visit,
confirm deleting its uploads and read what happened in its history; a Support user's visit list
fits beside the open sidebar and filters. Screenshots of the pages are left in the test's
tmp_path for a look."""

import importlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from django.db import connections
from django.utils import timezone

from tests.rooms.conftest import doctor, patient, stored

support_group = importlib.import_module("rooms.migrations.0009_support_group")

CHROMIUM = Path("/usr/bin/chromium")
WIDTH = 1280
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
    # Chromium keeps its own clock: a session cookie the server dated by a stopped clock could
    # read as expired to it. Both run on the real clock, and the visit is dated from it.
    pytest.mark.real_clock,
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
        # Tall enough that a screenshot shows a whole page; the width is the laptop's.
        page = browser.new_page(viewport={"width": WIDTH, "height": 2000})
        page.set_default_timeout(15_000)
        yield page
        browser.close()
        # Connections the test opened while Playwright's loop ran belong to that context; close
        # them here, or PostgreSQL refuses to drop the test database at the end of the run.
        connections.close_all()


def test_support_finds_a_visit_confirms_deleting_its_uploads_and_reads_the_history(
    live_server, simulator, api, browser_page, tmp_path
):
    User.objects.create_superuser("support", password="a-long-test-password")
    start = timezone.now() + timedelta(hours=2)
    # Long unbreakable ids and names, as the directory may send them: the page must still fit.
    doctor_id = "doctor-" + "0123456789abcdef" * 8
    people = [doctor(doctor_id, full_name="Dr. " + "Ada" * 40), patient(full_name="Bob Rossi")]
    payload = {
        "participants": {"number": 2, "data": people},
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

    # The detail page, join links included (a superuser sees them), fits 1280 px.
    page.screenshot(path=str(tmp_path / "detail.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert page.locator(".field-external_id", has_text=doctor_id).is_visible()

    page.click("#support-actions >> text=Delete uploads")
    assert page.locator("h1").text_content() == "Delete uploads?"
    row = page.locator("#selected-teleconsultations tbody tr")
    assert row.count() == 1
    assert visit in row.text_content() and "Bob Rossi" in row.text_content()
    page.screenshot(path=str(tmp_path / "confirmation.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert len(simulator.uploads()) == 2  # asked, not done
    page.click("input[value='Confirm']")

    message = page.locator("ul.messagelist li.success")
    outcome = f"Teleconsultation {visit}: 2 of 2 uploads deleted"
    assert message.text_content().strip() == outcome
    assert page.url.endswith(f"/admin/rooms/teleconsultation/{visit}/change/")
    assert simulator.uploads() == []

    page.click("a.historylink")
    page.wait_for_url(f"**/teleconsultation/{visit}/history/")
    entry = page.locator("#change-history tbody tr")
    assert entry.count() == 1
    cells = [cell.strip() for cell in entry.locator("th, td").all_text_contents()]
    assert cells[1:] == ["support", f"Delete uploads: done. {outcome}"]


def test_a_support_user_reads_the_visit_list_at_1280_px_with_the_sidebar_open(
    live_server, simulator, api, browser_page, tmp_path
):
    # A transactional test before this one may have emptied the tables the migration filled.
    support_group.create_support_group(django_apps, None)
    user = User.objects.create_user("helpdesk", password="a-long-test-password", is_staff=True)
    user.groups.set(Group.objects.filter(name="Support"))
    start = timezone.now() + timedelta(hours=2)
    # Names as long as a real pair gets: a doctor with a title and two surnames, a patient too.
    people = [
        doctor(full_name="Dr. Maria Antonietta Bianchi Castelfranco"),
        patient(full_name="Giovanni Battista Esposito Lombardi"),
    ]
    payload = {
        "participants": {"number": 3, "data": people},
        "start_date": start.isoformat(),
        "duration_in_seconds": 1800,
    }
    response = api.post("/teleconsultation", payload, format="json")
    assert response.status_code == 201, response.json()
    page = browser_page

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "helpdesk")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/rooms/teleconsultation/")

    page.screenshot(path=str(tmp_path / "list.png"))
    assert page.locator("#nav-sidebar").is_visible()
    table = page.locator("#result_list")
    widths = table.evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the table is {widths[0]} px in a {widths[1]} px box"
    assert page.locator("#result_list th.column-room_present").is_visible()
    assert page.locator("#result_list td.field-room_present img[alt=False]").is_visible()
