"""The admin support lives in: the "Support" group gives every page support needs and no more,
a refused or unknown admin page is Django's HTML page (the API keeps its JSON), and Kaleyra's
webhook events are on the visit's page and in a read-only list of their own."""

from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group, Permission, User

from rooms.admin import kaleyra_events
from tests.rooms.conftest import NOW, doctor, patient, stored
from tests.rooms.kaleyra_events import deliver, envelope

pytestmark = [pytest.mark.django_db]

LIST = "/admin/rooms/teleconsultation/"
EVENTS = "/admin/rooms/webhookevent/"
AT = int(NOW.timestamp() * 1000)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def support_client(client):
    """A staff user whose only permissions are the Support group's, as the migration made it."""
    user = User.objects.create_user("helpdesk", password="pw-helpdesk", is_staff=True)
    user.groups.set([Group.objects.get(name="Support")])
    client.force_login(user)
    return client


def room_of(visit: str) -> str:
    room = stored(visit).kaleyra_room_id
    assert room
    return room


def post_event(event: str, room: str, *, at: int, **data) -> None:
    response = deliver(envelope(event, {"room_id": room, **data}, timestamp=at))
    assert response.status_code == 200, response.content


# --- the Support group --------------------------------------------------------------------------


def test_the_support_group_holds_exactly_what_support_needs():
    granted = Group.objects.get(name="Support").permissions.values_list(
        "content_type__app_label", "codename"
    )
    assert sorted(granted) == [
        ("rooms", "change_teleconsultation"),
        ("rooms", "change_visitevent"),
        ("rooms", "download_recording"),
        ("rooms", "view_auditentry"),
        ("rooms", "view_participant"),
        ("rooms", "view_roomjob"),
        ("rooms", "view_teleconsultation"),
        ("rooms", "view_usermapping"),
        ("rooms", "view_visitevent"),
        ("rooms", "view_webhookevent"),
    ]


def test_a_support_user_browses_every_page_support_needs(support_client, visit):
    post_event("on_room_deleted", room_of(visit), at=AT, deleted_links=[])
    event = support_client.get(EVENTS).context["cl"].result_list[0]
    pages = [
        "/admin/",
        LIST,
        f"{LIST}{visit}/change/",
        f"{LIST}{visit}/history/",
        f"{LIST}{visit}/run/delete_uploads/",
        f"{LIST}{visit}/recording-link/?session_id=session_1",
        "/admin/rooms/usermapping/",
        "/admin/rooms/roomjob/",
        "/admin/rooms/auditentry/",
        EVENTS,
        f"{EVENTS}{event.pk}/change/",
        "/admin/rooms/visitevent/",
    ]
    answers = {page: support_client.get(page).status_code for page in pages}
    assert answers == dict.fromkeys(pages, 200)


def test_a_support_user_runs_the_actions_and_cannot_administer_users(support_client, visit):
    page = support_client.get(f"{LIST}{visit}/change/").content.decode()
    assert "Delete uploads" in page and "Move to trash" in page
    assert support_client.get("/admin/auth/user/").status_code == 403
    assert support_client.get("/admin/auth/group/").status_code == 403


# --- error pages under /admin/ ------------------------------------------------------------------


def test_a_staff_user_refused_an_admin_page_gets_django_s_html_403(client):
    user = User.objects.create_user("newcomer", password="pw-newcomer", is_staff=True)
    client.force_login(user)
    response = client.get("/admin/rooms/auditentry/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert "<h1>403 Forbidden</h1>" in response.content.decode()


def test_an_unknown_admin_page_is_django_s_html_404(admin_client):
    response = admin_client.get("/admin/rooms/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "<h1>Not Found</h1>" in response.content.decode()


def test_a_refused_support_button_is_html_too(client, visit):
    user = User.objects.create_user("viewer", password="pw-viewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_teleconsultation"))
    client.force_login(user)
    response = client.get(f"{LIST}{visit}/run/move_to_trash/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


def test_the_api_keeps_its_json_404_beside_the_admin(admin_client):
    response = admin_client.get("/admins/rooms/")
    assert response.status_code == 404
    assert response.json()["statusCode"] == 404


# --- Kaleyra's events ---------------------------------------------------------------------------


def test_the_visit_page_shows_kaleyra_s_events_newest_first(support_client, visit, settings):
    settings.TIME_ZONE = "Europe/Rome"
    room = room_of(visit)
    post_event("on_call_incoming", room, at=AT, session_id="session_1")
    post_event("on_recording_available", room, at=AT + 60_000, session_id="session_1")
    post_event("on_room_deleted", "room_of_another_visit", at=AT + 120_000, deleted_links=[])

    page = support_client.get(f"{LIST}{visit}/change/").content.decode()

    section = page[page.index('id="kaleyra-events"') :]
    section = section[: section.index("</div>")]
    recording = section.index("<td>2026-12-01 09:01:00 CET</td><td>on_recording_available</td>")
    call = section.index("<td>2026-12-01 09:00:00 CET</td><td>on_call_incoming</td>")
    assert recording < call
    assert "session_1" in section and room in section
    assert "room_of_another_visit" not in section


def test_the_visit_page_shows_the_latest_events_only_and_says_where_the_rest_are(
    support_client, visit, monkeypatch
):
    monkeypatch.setattr(kaleyra_events, "SHOWN", 2)
    room = room_of(visit)
    for second, session in enumerate(["oldest", "middle", "latest"]):
        post_event("on_call_incoming", room, at=AT + second * 1000, session_id=session)

    page = support_client.get(f"{LIST}{visit}/change/").content.decode()

    section = page[page.index('id="kaleyra-events"') :]
    section = section[: section.index("</div>")]
    assert "latest" in section and "middle" in section and "oldest" not in section
    assert f'href="{EVENTS}?q={visit}"' in section


def test_a_visit_without_events_says_so(support_client, visit):
    page = support_client.get(f"{LIST}{visit}/change/").content.decode()
    assert "Kaleyra has posted no event about this visit" in page


def test_the_events_list_filters_by_event_and_searches_by_room_or_visit(support_client, create):
    first = create([doctor(), patient()])
    second = create([doctor("d2"), patient("p2")])
    post_event("on_call_incoming", room_of(first), at=AT, session_id="s1")
    post_event("on_recording_available", room_of(first), at=AT + 1000, session_id="s1")
    post_event("on_call_incoming", room_of(second), at=AT + 2000, session_id="s2")

    def listed(query: str) -> list[tuple[str, str]]:
        page = support_client.get(f"{EVENTS}?{query}")
        assert page.status_code == 200
        return [
            (event.event, event.teleconsultation_id) for event in page.context["cl"].result_list
        ]

    assert listed("") == [
        ("on_call_incoming", second),
        ("on_recording_available", first),
        ("on_call_incoming", first),
    ]
    assert listed("event__exact=on_recording_available") == [("on_recording_available", first)]
    assert listed(f"q={first}") == [("on_recording_available", first), ("on_call_incoming", first)]
    assert listed(f"q={room_of(second)}") == [("on_call_incoming", second)]
    # The date filter's own links: "Today" and "Past 7 days" hold this, a later day does not.
    assert len(listed(urlencode({"timestamp__gte": "2026-12-01 00:00:00+00:00"}))) == 3
    assert listed(urlencode({"timestamp__gte": "2026-12-02 00:00:00+00:00"})) == []


def test_the_events_list_is_read_only_even_for_a_superuser(admin_client, visit):
    post_event("on_call_incoming", room_of(visit), at=AT, session_id="s1")
    event = admin_client.get(EVENTS).context["cl"].result_list[0]
    assert admin_client.get(f"{EVENTS}add/").status_code == 403
    assert admin_client.get(f"{EVENTS}{event.pk}/delete/").status_code == 403
    page = admin_client.get(f"{EVENTS}{event.pk}/change/").content.decode()
    assert 'name="_save"' not in page and "s1" in page
