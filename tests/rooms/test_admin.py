"""The admin for support staff: lists, search, detail page, link secrecy, the actions with their
confirmation page and the history they write."""

from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

# The admin is the Django backend's window on its tables: what a page shows is checked against
# those tables, while what an action did is read through storage, as the API's effects are.
from rooms.admin.paging import CappedCountPaginator
from rooms.models import RoomJob, UserMapping
from tests.rooms.conftest import NOW, doctor, jobs, links, patient, stored, visit_count
from tests.rooms.kaleyra_events import deliver, envelope

pytestmark = [pytest.mark.django_db]

LIST = "/admin/rooms/teleconsultation/"


def detail(teleconsultation_id: str) -> str:
    return f"{LIST}{teleconsultation_id}/change/"


def button(teleconsultation_id: str, action: str) -> str:
    return f"{LIST}{teleconsultation_id}/run/{action}/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Staff users are made per test; the production hasher would cost most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def messages_of(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


class ConfirmForm(HTMLParser):
    """The fields the Confirm button of a page posts: the hidden inputs of its form."""

    def __init__(self, page: str):
        super().__init__()
        self.fields: dict[str, list[str]] | None = None
        self._form: dict[str, list[str]] = {}
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._form = {}
        elif tag == "input" and attributes.get("type") == "hidden":
            self._form.setdefault(attributes["name"], []).append(attributes["value"])
        elif tag == "input" and attributes.get("value") == "Confirm":
            self.fields = self._form


def confirm(client, confirmation):
    """Clicks Confirm on a confirmation page: its form, posted back to where the page came from."""
    fields = ConfirmForm(confirmation.content.decode()).fields
    assert fields is not None, "not a confirmation page"
    return client.post(confirmation.wsgi_request.get_full_path(), fields, follow=True)


def ask(client, action: str, *teleconsultation_ids: str):
    """Picks a list action for the selected visits: the answer is its confirmation page."""
    return client.post(LIST, {"action": action, "_selected_action": list(teleconsultation_ids)})


def run_action(client, action: str, *teleconsultation_ids: str):
    return confirm(client, ask(client, action, *teleconsultation_ids))


def history(teleconsultation_id: str) -> list[tuple[str, int, str]]:
    """The visit's admin history: (who, action flag, change message), oldest first."""
    entries = LogEntry.objects.filter(
        content_type__model="teleconsultation", object_id=teleconsultation_id
    ).order_by("action_time", "pk")
    return [(entry.user.username, entry.action_flag, entry.change_message) for entry in entries]


def room_of(teleconsultation_id: str) -> str | None:
    return stored(teleconsultation_id).kaleyra_room_id


@pytest.fixture
def staff_client(client):
    """A support user who may view and act, but is not a superuser."""
    user = User.objects.create_user("support", password="pw-support", is_staff=True)
    codenames = ["view_teleconsultation", "change_teleconsultation", "view_participant"]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


# --- the site ----------------------------------------------------------------------------------


def test_every_page_carries_the_service_name_and_no_link_to_a_site_that_does_not_exist(
    admin_client,
):
    page = admin_client.get("/admin/").content.decode()
    assert '<a href="/admin/">Teleconsultations</a>' in page  # the header
    assert "<title>Teleconsultations | Teleconsultations</title>" in page
    assert "View site" not in page  # it led to "/", the API's JSON 404


# --- the list ----------------------------------------------------------------------------------


def test_list_shows_local_times_with_their_zone_state_and_completeness(
    admin_client, create, settings
):
    settings.TIME_ZONE = "Europe/Rome"
    waiting = create([doctor()], number=2)
    response = admin_client.get(LIST)
    page = response.content.decode()
    assert response.status_code == 200
    assert waiting in page
    assert "2026-12-01 11:00–11:30 CET" in page
    assert "1/2 waiting" in page and "PUBLIC" in page


def test_a_visit_over_midnight_shows_both_dates_in_the_list(admin_client, create, settings):
    settings.TIME_ZONE = "Europe/Rome"
    create([doctor(), patient()], start=NOW + timedelta(hours=14, minutes=45), duration=1800)
    page = admin_client.get(LIST).content.decode()
    assert "2026-12-01 23:45 CET – 2026-12-02 00:15 CET" in page


def test_list_names_the_participants_in_their_order(admin_client, create):
    create([doctor(full_name="Dr. Ada Rossi"), patient(full_name="Mario Bianchi")])
    assert "Dr. Ada Rossi, Mario Bianchi" in admin_client.get(LIST).content.decode()


def test_a_list_page_of_twenty_visits_costs_a_few_queries_not_one_per_visit(
    admin_client, create, django_assert_max_num_queries
):
    for i in range(20):
        create([doctor(f"d{i}", full_name=f"Dr. {i}"), patient(f"p{i}", full_name=f"Patient {i}")])
    # Session, user, counts, the page and its participants: not one more per row.
    with django_assert_max_num_queries(8):
        response = admin_client.get(LIST)
    assert len(response.context["cl"].result_list) == 20
    assert "Dr. 19, Patient 19" in response.content.decode()


def test_list_never_shows_access_links(admin_client, visit):
    link = links(stored(visit))[0]
    assert link
    assert link not in admin_client.get(LIST).content.decode()


def test_list_costs_the_same_queries_for_two_rows_or_six(admin_client, create):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(LIST).status_code == 200
        return len(captured)

    for i in range(2):
        create([doctor(f"d{i}"), patient(f"p{i}")])
    few = queries()
    for i in range(2, 6):
        create([doctor(f"d{i}"), patient(f"p{i}")])
    assert queries() == few


def test_list_filters_by_state_room_and_start_date(admin_client, api, create, visit):
    waiting = create([doctor("d2")], number=2)
    later = create([doctor("d3"), patient("p3")], start=NOW + timedelta(days=5))
    api.delete(f"/teleconsultation/{later}")

    def listed(query: str) -> set[str]:
        result = admin_client.get(f"{LIST}?{query}").context["cl"].result_list
        return {teleconsultation.id for teleconsultation in result}

    assert listed("state__exact=TRASH") == {later}
    assert listed("room=no") == {waiting}
    assert listed("room=yes") == {visit, later}
    day = {"start__gte": "2026-12-01 00:00:00+00:00", "start__lt": "2026-12-02 00:00:00+00:00"}
    assert listed(urlencode(day)) == {visit, waiting}


def test_upcoming_filter_lists_visits_starting_in_the_next_day_or_week(admin_client, create, clock):
    soon = create([doctor("d1"), patient("p1")], start=NOW + timedelta(hours=2))
    this_week = create([doctor("d2"), patient("p2")], start=NOW + timedelta(days=3))
    create([doctor("d3"), patient("p3")], start=NOW + timedelta(days=10))

    def listed(window: str) -> set[str]:
        result = admin_client.get(LIST, {"upcoming": window}).context["cl"].result_list
        return {teleconsultation.id for teleconsultation in result}

    assert listed("24h") == {soon}
    assert listed("7d") == {soon, this_week}
    clock.move_to(NOW + timedelta(hours=3))  # `soon` has started: no longer upcoming
    assert listed("24h") == set()
    assert listed("7d") == {this_week}


@pytest.mark.parametrize("term", ["Bianchi", "patient-1", "ROOM"])
def test_search_finds_by_name_external_id_or_kaleyra_room(admin_client, visit, create, term):
    create([doctor("someone-else", full_name="Dr. Who"), patient("p9", full_name="Jane Roe")])
    term = room_of(visit) if term == "ROOM" else term
    result = admin_client.get(LIST, {"q": term}).context["cl"].result_list
    assert [teleconsultation.id for teleconsultation in result] == [visit]


def test_search_by_visit_id_finds_that_visit_however_it_is_typed(admin_client, visit, create):
    create([doctor("someone-else"), patient("p9")])
    for term in (visit, f" {visit.upper()} "):
        result = admin_client.get(LIST, {"q": term}).context["cl"].result_list
        assert [teleconsultation.id for teleconsultation in result] == [visit]


def test_search_by_a_user_id_lists_their_visits_not_names_that_contain_it(admin_client, create):
    theirs = create([doctor(), patient("ada")])
    create([doctor("doctor-2", full_name="Ada Rossi"), patient("p2")])
    result = admin_client.get(LIST, {"q": "ada"}).context["cl"].result_list
    assert [teleconsultation.id for teleconsultation in result] == [theirs]


def test_a_long_list_counts_up_to_its_cap_and_says_more_than(admin_client, create, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 2)
    for i in range(2):
        create([doctor(f"d{i}"), patient(f"p{i}")])
    assert "2 teleconsultations" in admin_client.get(LIST).content.decode()
    create([doctor("d2"), patient("p2")])
    page = admin_client.get(LIST).content.decode()
    assert "more than 2 teleconsultations" in page
    assert len(admin_client.get(LIST).context["cl"].result_list) == 3


def test_search_by_name_takes_each_word_in_any_order(admin_client, create):
    both = create([doctor(full_name="Ada Rossi"), patient(full_name="Bob Bianchi")])
    create([doctor("d2", full_name="Ada Verdi"), patient("p2", full_name="Carla Bianchi")])
    for term in ("Bianchi Rossi", "rossi ada"):
        result = admin_client.get(LIST, {"q": term}).context["cl"].result_list
        assert [teleconsultation.id for teleconsultation in result] == [both]


def test_search_matching_two_participants_lists_the_visit_once(admin_client, create):
    both = create([doctor(full_name="Ada Rossi"), patient(full_name="Bob Rossi")])
    result = admin_client.get(LIST, {"q": "Rossi"}).context["cl"].result_list
    assert [teleconsultation.id for teleconsultation in result] == [both]


# --- the detail page ---------------------------------------------------------------------------


def test_detail_shows_participants_with_role_and_kaleyra_id_read_only(admin_client, visit):
    page = admin_client.get(detail(visit)).content.decode()
    ada = stored(visit).participant("doctor-1")
    assert ada.kaleyra_user_id in page and "Plus" in page and "Mario Bianchi" in page
    assert 'name="participants_number"' not in page  # read-only, not a form field
    assert 'name="_save"' not in page
    assert "Delete uploads" in page


def test_detail_shows_access_links_to_superusers(admin_client, visit):
    link = links(stored(visit))[0]
    assert link in admin_client.get(detail(visit)).content.decode()


def test_detail_hides_access_links_from_staff_who_are_not_superusers(staff_client, visit):
    response = staff_client.get(detail(visit))
    assert response.status_code == 200
    page = response.content.decode()
    for participant in stored(visit).participants:
        assert participant.access_link not in page
        assert participant.kaleyra_user_id in page


def test_records_cannot_be_added_edited_or_erased_by_hand(admin_client, visit):
    page = admin_client.get(LIST).content.decode()
    assert f"{LIST}add/" not in page and "delete_selected" not in page
    admin_client.post(f"{LIST}add/", {"participants_number": 3})
    admin_client.post(f"{LIST}{visit}/delete/", {"post": "yes"})
    admin_client.post(detail(visit), {"participants_number": 5, "state": "TRASH"})
    assert visit_count() == 1
    teleconsultation = stored(visit)
    assert (teleconsultation.participants_number, teleconsultation.state) == (2, "PUBLIC")


# --- actions -----------------------------------------------------------------------------------


def test_move_to_trash_deletes_the_room_and_reports_each_visit(admin_client, visit, simulator):
    room = room_of(visit)
    response = run_action(admin_client, "move_to_trash", visit)
    assert response.status_code == 200
    assert messages_of(response) == [
        ("success", f"Teleconsultation {visit}: moved to trash, Kaleyra room deleted")
    ]
    assert stored(visit).state == "TRASH"
    assert not simulator.room_exists(room)
    assert stored(visit).updated_by == "admin:admin"
    assert jobs("room_deletion") == []


def test_move_to_trash_of_a_visit_without_a_room_says_it_had_none(admin_client, create, simulator):
    # It used to say "Kaleyra room deleted" for a room that never existed.
    waiting = create([doctor()], number=2)
    simulator.reset_call_log()
    response = run_action(admin_client, "move_to_trash", waiting)
    assert messages_of(response) == [
        ("success", f"Teleconsultation {waiting}: moved to trash, it had no Kaleyra room")
    ]
    assert stored(waiting).state == "TRASH"
    assert simulator.call_count() == 0


def test_move_to_trash_with_an_older_pending_deletion_reports_success(
    admin_client, api, visit, simulator
):
    # The room a PATCH replaced could not be deleted: it is pending, tied to the same visit. The
    # visit's current room is deleted fine, so the action succeeds (it used to be reported as a
    # provider failure, because the visit had *a* pending deletion).
    old_room = room_of(visit)
    simulator.fail_next("delete_room", mode="500")
    changed = {"participants": {"number": 2, "data": [doctor(), patient("patient-2")]}}
    assert api.patch(f"/teleconsultation/{visit}", changed, format="json").status_code == 204
    current_room = room_of(visit)
    response = run_action(admin_client, "move_to_trash", visit)
    assert messages_of(response) == [
        ("success", f"Teleconsultation {visit}: moved to trash, Kaleyra room deleted")
    ]
    assert not simulator.room_exists(current_room)
    assert [job.key for job in jobs("room_deletion")] == [old_room]


def test_move_to_trash_when_the_provider_is_down_is_a_warning_not_a_500(
    admin_client, visit, simulator
):
    simulator.fail_next("delete_room", mode="500")
    response = run_action(admin_client, "move_to_trash", visit)
    assert response.status_code == 200
    ((level, text),) = messages_of(response)
    assert level == "warning" and "reconcile_rooms will delete it" in text
    assert [job.key for job in jobs("room_deletion")] == [room_of(visit)]


def test_move_to_trash_of_a_trashed_visit_says_so(admin_client, api, visit):
    api.delete(f"/teleconsultation/{visit}")
    response = run_action(admin_client, "move_to_trash", visit)
    assert messages_of(response) == [("warning", f"Teleconsultation {visit}: already in the trash")]


def test_delete_uploads_deletes_them_even_when_the_setting_is_off(admin_client, visit, simulator):
    simulator.add_upload(room_of(visit))
    simulator.add_upload(room_of(visit), upload_type="snapshot")
    response = run_action(admin_client, "delete_uploads", visit)
    assert messages_of(response) == [
        ("success", f"Teleconsultation {visit}: 2 of 2 uploads deleted")
    ]
    assert simulator.uploads() == []


def test_delete_uploads_of_a_trashed_visit_still_works(admin_client, api, visit, simulator):
    simulator.add_upload(room_of(visit))
    api.delete(f"/teleconsultation/{visit}")
    response = run_action(admin_client, "delete_uploads", visit)
    assert messages_of(response) == [
        ("success", f"Teleconsultation {visit}: 1 of 1 uploads deleted")
    ]


def test_delete_uploads_provider_failure_is_an_error_message(admin_client, visit, simulator):
    simulator.add_upload(room_of(visit))
    simulator.fail_next("iter_room_uploads", mode="500")
    response = run_action(admin_client, "delete_uploads", visit)
    assert response.status_code == 200
    assert messages_of(response) == [
        (
            "error",
            f"Teleconsultation {visit}: uploads not deleted: "
            "the video provider (Kaleyra) answered with an error (status 500); try again later",
        )
    ]


def test_an_action_stops_at_a_provider_failure_instead_of_waiting_on_each_visit(
    admin_client, visit, create, simulator
):
    other = create([doctor("d2"), patient("p2")])
    simulator.fail_next("iter_room_uploads", mode="500")
    response = run_action(admin_client, "delete_uploads", visit, other)
    levels = [level for level, _text in messages_of(response)]
    assert levels == ["error", "error"]
    assert "1 teleconsultation(s) not tried" in messages_of(response)[1][1]


def test_recreate_room_replaces_the_kaleyra_room(admin_client, visit, simulator):
    old = room_of(visit)
    response = run_action(admin_client, "recreate_room", visit)
    new = room_of(visit)
    assert messages_of(response) == [
        ("success", f"Teleconsultation {visit}: new Kaleyra room {new}")
    ]
    assert new != old and simulator.room_exists(new) and not simulator.room_exists(old)


def test_recreate_room_of_an_incomplete_visit_is_refused_with_a_message(admin_client, create):
    waiting = create([doctor()], number=2)
    response = run_action(admin_client, "recreate_room", waiting)
    ((level, text),) = messages_of(response)
    assert level == "error" and "not complete" in text


def test_recreate_room_provider_failure_keeps_the_old_room(admin_client, visit, simulator):
    old = room_of(visit)
    simulator.fail_next("create_room", mode="drop")
    response = run_action(admin_client, "recreate_room", visit)
    ((level, text),) = messages_of(response)
    assert level == "error" and "unreachable" in text
    assert room_of(visit) == old and simulator.room_exists(old)


def test_detail_page_button_runs_the_action_on_that_visit_once_confirmed(
    admin_client, visit, simulator
):
    simulator.add_upload(room_of(visit))
    confirmation = admin_client.get(button(visit, "delete_uploads"))
    response = confirm(admin_client, confirmation)
    assert response.redirect_chain == [(detail(visit), 302)]
    assert messages_of(response) == [
        ("success", f"Teleconsultation {visit}: 1 of 1 uploads deleted")
    ]
    assert simulator.uploads() == []


def test_detail_page_buttons_take_only_known_actions_and_visits(admin_client, visit):
    assert admin_client.put(button(visit, "delete_uploads")).status_code == 405
    assert admin_client.get(button(visit, "erase_everything")).status_code == 404
    assert admin_client.get(button("0123456789abcdef01234567", "delete_uploads")).status_code == (
        404
    )


def test_staff_without_change_permission_see_no_action_and_cannot_run_one(client, visit):
    user = User.objects.create_user("viewer", password="pw-viewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_teleconsultation"))
    client.force_login(user)
    list_page = client.get(LIST).content.decode()
    assert visit in list_page
    assert 'name="action"' not in list_page and "Move to trash" not in list_page
    assert "Delete uploads" not in client.get(detail(visit)).content.decode()
    assert client.get(button(visit, "move_to_trash")).status_code == 403
    assert client.post(button(visit, "move_to_trash"), {"post": "yes"}).status_code == 403
    confirmed = {"action": "move_to_trash", "_selected_action": [visit], "post": "yes"}
    client.post(LIST, confirmed)
    assert stored(visit).state == "PUBLIC"
    assert history(visit) == []


def test_staff_with_change_permission_can_run_actions(staff_client, visit):
    response = run_action(staff_client, "move_to_trash", visit)
    assert messages_of(response)[0][0] == "success"
    assert stored(visit).updated_by == "admin:support"


# --- confirmation and history -----------------------------------------------------------------


def test_a_list_action_first_shows_the_visits_and_what_will_happen_and_runs_nothing(
    admin_client, visit, simulator, settings
):
    settings.TIME_ZONE = "Europe/Rome"
    room = room_of(visit)
    simulator.reset_call_log()
    response = ask(admin_client, "move_to_trash", visit)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Move to trash (deletes the Kaleyra room)?</h1>" in page
    assert "its participants can no longer join the call" in page
    assert visit in page and "2026-12-01 11:00 CET" in page and "Dr. Ada, Mario Bianchi" in page
    assert 'value="Confirm"' in page
    assert f'<a href="{LIST}" class="button cancel-link">Cancel</a>' in page
    assert stored(visit).state == "PUBLIC"
    assert simulator.room_exists(room) and simulator.call_count() == 0
    assert history(visit) == []


@pytest.mark.parametrize(
    ("method", "data"),
    [("get", {}), ("get", {"post": "yes"}), ("post", {}), ("post", {"post": "no"})],
    ids=["get", "get-even-saying-yes", "post-without-confirmation", "post-not-confirming"],
)
def test_a_detail_button_first_asks_and_runs_nothing(admin_client, visit, simulator, method, data):
    simulator.add_upload(room_of(visit))
    simulator.reset_call_log()
    response = getattr(admin_client, method)(button(visit, "delete_uploads"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Delete uploads?</h1>" in page
    assert visit in page and "Dr. Ada, Mario Bianchi" in page
    assert f'<a href="{detail(visit)}" class="button cancel-link">Cancel</a>' in page
    assert len(simulator.uploads()) == 1 and simulator.call_count() == 0
    assert history(visit) == []


def test_a_confirmed_bulk_action_runs_on_each_visit_and_writes_each_history(
    admin_client, visit, create, simulator
):
    other = create([doctor("d2", full_name="Dr. Bea"), patient("p2", full_name="Carla Neri")])
    rooms = [room_of(visit), room_of(other)]
    confirmation = ask(admin_client, "move_to_trash", visit, other)
    page = confirmation.content.decode()
    assert "2 teleconsultations" in page
    assert "Dr. Ada, Mario Bianchi" in page and "Dr. Bea, Carla Neri" in page
    assert {stored(visit).state, stored(other).state} == {"PUBLIC"}

    response = confirm(admin_client, confirmation)
    assert [level for level, _text in messages_of(response)] == ["success", "success"]
    assert {stored(visit).state, stored(other).state} == {"TRASH"}
    assert not any(simulator.room_exists(room) for room in rooms)
    for teleconsultation_id in (visit, other):
        assert history(teleconsultation_id) == [
            (
                "admin",
                CHANGE,
                "Move to trash (deletes the Kaleyra room): done. "
                f"Teleconsultation {teleconsultation_id}: moved to trash, Kaleyra room deleted",
            )
        ]


def test_history_page_shows_who_ran_what_when_and_how_it_went(
    staff_client, visit, simulator, settings
):
    settings.TIME_ZONE = "Europe/Rome"
    simulator.add_upload(room_of(visit))
    simulator.fail_next("iter_room_uploads", mode="500")
    run_action(staff_client, "delete_uploads", visit)
    outcome = (
        f"Delete uploads: failed. Teleconsultation {visit}: uploads not deleted: the video "
        "provider (Kaleyra) answered with an error (status 500); try again later"
    )
    assert history(visit) == [("support", CHANGE, outcome)]
    page = staff_client.get(f"{LIST}{visit}/history/").content.decode()
    row = (
        '<th scope="row">2026-12-01 09:00 CET</th>\n'
        "            <td>support</td>\n"
        f"            <td>{outcome}</td>"
    )
    assert row in page


def test_visits_a_stopped_run_never_tried_get_no_history(admin_client, visit, create, simulator):
    other = create([doctor("d2"), patient("p2")])
    simulator.fail_next("iter_room_uploads", mode="500")
    run_action(admin_client, "delete_uploads", visit, other)
    tried, untried = (visit, other) if history(visit) else (other, visit)
    assert len(history(tried)) == 1 and history(untried) == []


# --- user map and rooms pending deletion -------------------------------------------------------


def test_user_map_is_listed_and_searchable_by_either_id(admin_client, visit):
    mapping = UserMapping.objects.get(external_id="patient-1")
    response = admin_client.get("/admin/rooms/usermapping/")
    assert response.status_code == 200 and "doctor-1" in response.content.decode()
    for term in ("patient-1", mapping.kaleyra_user_id):
        result = admin_client.get("/admin/rooms/usermapping/", {"q": term}).context["cl"]
        assert [row.external_id for row in result.result_list] == ["patient-1"]
    page = admin_client.get(f"/admin/rooms/usermapping/{mapping.pk}/change/").content.decode()
    assert mapping.kaleyra_user_id in page and 'name="_save"' not in page


def test_rooms_pending_deletion_are_listed_read_only(admin_client, api, visit, simulator):
    simulator.fail_next("delete_room", mode="500")
    api.delete(f"/teleconsultation/{visit}")
    pending = RoomJob.objects.get(kind="room_deletion")
    response = admin_client.get("/admin/rooms/roomjob/")
    assert response.status_code == 200 and pending.key in response.content.decode()
    assert "/admin/rooms/roomjob/add/" not in response.content.decode()
    page = admin_client.get(f"/admin/rooms/roomjob/{pending.pk}/change/")
    assert page.status_code == 200
    assert pending.key in page.content.decode()
    assert 'name="_save"' not in page.content.decode()


def test_detail_shows_every_time_in_local_time_with_its_zone(admin_client, create, settings):
    settings.TIME_ZONE = "Europe/Rome"
    visit = create([doctor()], number=2)  # created at the fixed clock, 08:00 UTC
    page = admin_client.get(f"{LIST}{visit}/change/").content.decode()
    assert "2026-12-01 11:00 CET" in page  # start
    assert page.count("2026-12-01 09:00 CET") == 2  # created and updated


def test_user_map_and_room_jobs_show_their_times_in_local_time_with_its_zone(
    admin_client, api, visit, simulator, settings
):
    settings.TIME_ZONE = "Europe/Rome"
    simulator.fail_next("delete_room", mode="500")
    api.delete(f"/teleconsultation/{visit}")  # leaves a room job, at the fixed clock (08:00 UTC)
    mapping = UserMapping.objects.get(external_id="patient-1")
    pending = RoomJob.objects.get(kind="room_deletion")
    pages = [
        "/admin/rooms/usermapping/?q=patient-1",
        f"/admin/rooms/usermapping/{mapping.pk}/change/",
        "/admin/rooms/roomjob/",
        f"/admin/rooms/roomjob/{pending.pk}/change/",
    ]

    def created_and_updated_shown(page: str) -> bool:
        return admin_client.get(page).content.decode().count("2026-12-01 09:00 CET") == 2

    assert [page for page in pages if not created_and_updated_shown(page)] == []


@pytest.mark.parametrize(
    ("page", "collection"),
    [
        (LIST, "teleconsultations"),
        ("/admin/rooms/usermapping/", "userIdMap"),
        ("/admin/rooms/roomjob/", "teleconsultation_room_jobs"),
        ("/admin/rooms/webhookevent/", "teleconsultation_webhook_events"),
    ],
)
def test_in_crud_mode_the_lists_say_where_the_records_live(
    admin_client, settings, page, collection
):
    settings.STORAGE_BACKEND = "crud"
    settings.CRUD_SERVICE_URL = "http://crud-service.example"
    content = admin_client.get(page).content.decode()
    assert "live in Mia's CRUD Service" in content
    assert "http://crud-service.example" in content and collection in content


def test_with_the_django_backend_the_lists_are_the_tables(admin_client, create):
    visit = create([doctor(), patient()])
    content = admin_client.get(LIST).content.decode()
    assert visit in content and "live in Mia's CRUD Service" not in content


def test_support_sees_the_visits_recordings_on_its_detail_page(admin_client, visit, settings):
    settings.TIME_ZONE = "Europe/Rome"
    room = room_of(visit)
    at = int(NOW.timestamp() * 1000)
    for offset, session in enumerate(("session_1", "session_2")):
        data = {"room_id": room, "session_id": session}
        deliver(envelope("on_recording_available", data, timestamp=at + offset * 1000))
    deliver(envelope("on_call_incoming", {"room_id": room, "session_id": "not-a-recording"}))

    page = admin_client.get(detail(visit)).content.decode()

    section = page[page.index('id="recordings"') :]
    section = section[: section.index("</div>")]
    assert "<td>2026-12-01 09:00:00 CET</td>" in section
    assert "<td>2026-12-01 09:00:01 CET</td>" in section
    assert room in section and "session_1" in section and "session_2" in section
    assert "not-a-recording" not in section


def test_a_visit_without_recordings_says_so_on_its_detail_page(admin_client, visit):
    page = admin_client.get(detail(visit)).content.decode()
    assert "Kaleyra has announced no recording of this visit." in page
