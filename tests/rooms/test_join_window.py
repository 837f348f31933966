"""Join windows: links from `start - IMMUTABLE_PERIOD_MS`, until `end + JOIN_CLOSES_AFTER_END_MS`
(unset: never closed, Mia's behaviour), with the same edges on GET, the agenda and the admin."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from teleconsultation_project.envcheck import optional_milliseconds
from tests.rooms.conftest import START, doctor, patient

pytestmark = [pytest.mark.django_db]

END = START + timedelta(minutes=30)  # the builders' default duration
MS = timedelta(milliseconds=1)
TEN_MINUTES_MS = 10 * 60 * 1000


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The admin pages log a staff user in; the production hasher would cost most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def link_answer(api, room_id, user_id="patient-1") -> dict:
    response = api.as_user(user_id).get(f"/teleconsultation/{room_id}")
    assert response.status_code == 200, response.json()
    return response.json()


def agenda_available(api, room_id, user_id="patient-1") -> bool:
    # `from` well before: the agenda lists visits not ended by then, so ended ones stay in view.
    query = {"from": "2026-11-01T00:00:00Z"}
    entries = api.as_user(user_id).get("/teleconsultation", query).json()["data"]
    return next(entry for entry in entries if entry["roomId"] == room_id)["accessLinkAvailable"]


def test_without_the_setting_the_link_is_still_handed_out_long_after_the_end(api, visit, clock):
    clock.move_to(END + timedelta(days=30))
    answer = link_answer(api, visit)
    assert answer["accessLinkURL"]
    assert answer["accessLinkClosedAt"] is None
    assert agenda_available(api, visit) is True


def test_the_window_closes_exactly_at_end_plus_the_setting(api, visit, clock, settings):
    settings.JOIN_CLOSES_AFTER_END_MS = TEN_MINUTES_MS
    closes = END + timedelta(minutes=10)

    clock.move_to(closes - MS)
    answer = link_answer(api, visit)
    assert answer["accessLinkURL"] and answer["accessLinkClosedAt"] is None
    assert agenda_available(api, visit) is True

    clock.move_to(closes)
    answer = link_answer(api, visit)
    assert answer["accessLinkURL"] is None
    assert answer["accessLinkClosedAt"] == "2026-12-01T10:40:00.000Z"
    assert agenda_available(api, visit) is False

    clock.move_to(closes + timedelta(days=1))  # closed for good: a late link never rejoins
    assert link_answer(api, visit)["accessLinkURL"] is None


def test_zero_closes_the_window_at_the_end_itself(api, visit, clock, settings):
    settings.JOIN_CLOSES_AFTER_END_MS = 0
    clock.move_to(END - MS)
    assert link_answer(api, visit)["accessLinkURL"]
    clock.move_to(END)
    answer = link_answer(api, visit)
    assert answer["accessLinkURL"] is None
    assert answer["accessLinkClosedAt"] == "2026-12-01T10:30:00.000Z"


def test_the_window_opens_exactly_at_start_minus_the_immutable_period(api, create, clock, settings):
    settings.IMMUTABLE_PERIOD_MS = 15 * 60 * 1000
    settings.JOIN_CLOSES_AFTER_END_MS = TEN_MINUTES_MS
    room_id = create([doctor(), patient()])
    opens = START - timedelta(minutes=15)

    clock.move_to(opens - MS)
    answer = link_answer(api, room_id)
    assert answer["accessLinkURL"] is None
    assert answer["accessLinkClosedAt"] is None  # not open yet is not closed
    assert answer["accessLinkAvailableFrom"] == "2026-12-01T09:45:00.000Z"
    assert agenda_available(api, room_id) is False

    clock.move_to(opens)
    assert link_answer(api, room_id)["accessLinkURL"]
    assert agenda_available(api, room_id) is True


def test_an_incomplete_visit_is_never_available_even_inside_the_window(api, create, clock):
    room_id = create([doctor(), patient()], number=3)
    clock.move_to(START)
    assert link_answer(api, room_id)["accessLinkURL"] is None
    assert agenda_available(api, room_id) is False


def test_the_openapi_document_describes_accessLinkClosedAt_as_nullable(client):
    document = client.get("/documentation/json", HTTP_ACCEPT="application/json").json()
    field = document["components"]["schemas"]["Access"]["properties"]["accessLinkClosedAt"]
    assert field["nullable"] is True
    assert "accessLinkClosedAt" in document["components"]["schemas"]["Access"]["required"]


# --- the admin shows the window ------------------------------------------------------------------


def test_admin_detail_shows_when_the_window_opens_and_closes(admin_client, visit, settings):
    settings.IMMUTABLE_PERIOD_MS = 15 * 60 * 1000
    settings.JOIN_CLOSES_AFTER_END_MS = TEN_MINUTES_MS
    page = admin_client.get(f"/admin/rooms/teleconsultation/{visit}/change/").content.decode()
    window = page[page.index('id="join-window"') : page.index('id="audit-trail"')]
    assert "2026-12-01 09:45 UTC" in window  # from: start - 15 min
    assert "2026-12-01 10:40 UTC" in window  # closes: end + 10 min
    assert ">no<" in window  # NOW is before the window


def test_admin_detail_says_the_window_never_closes_without_the_setting(admin_client, visit, clock):
    clock.move_to(START)
    page = admin_client.get(f"/admin/rooms/teleconsultation/{visit}/change/").content.decode()
    window = page[page.index('id="join-window"') : page.index('id="audit-trail"')]
    assert "never" in window and ">yes<" in window


# --- the setting ---------------------------------------------------------------------------------


class Env:
    def __init__(self, values):
        self.values = values

    def str(self, name, default=""):
        return self.values.get(name, default)


@pytest.mark.parametrize(("raw", "value"), [("", None), ("  ", None), ("0", 0), ("600000", 600000)])
def test_the_setting_reads_blank_as_unset_and_whole_milliseconds(raw, value):
    env = Env({"JOIN_CLOSES_AFTER_END_MS": raw})
    assert optional_milliseconds(env, "JOIN_CLOSES_AFTER_END_MS") == value


@pytest.mark.parametrize("raw", ["-1", "ten", "1.5"])
def test_a_wrong_setting_stops_the_start_up_naming_it(raw):
    env = Env({"JOIN_CLOSES_AFTER_END_MS": raw})
    with pytest.raises(ImproperlyConfigured, match="JOIN_CLOSES_AFTER_END_MS"):
        optional_milliseconds(env, "JOIN_CLOSES_AFTER_END_MS")
