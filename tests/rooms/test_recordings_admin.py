"""Support and a visit's recordings in the admin: the announced ones are listed, and staff with
`rooms.download_recording` fetch a temporary download link: asked first, shown once on a page no
cache keeps, audited, never logged. Against the simulator over HTTP."""

import logging
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission, User

from rooms.services import audit
from rooms.storage import get_storage
from tests.rooms.conftest import body, doctor, patient, stored
from tests.rooms.recorded_calls import announce, hold_a_call

pytestmark = [pytest.mark.django_db]

LIST = "/admin/rooms/teleconsultation/"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def staff(client, *, may_download: bool):
    user = User.objects.create_user("support", password="pw", is_staff=True)
    codenames = ["view_teleconsultation", "change_teleconsultation"]
    if may_download:
        codenames.append("download_recording")
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


@pytest.fixture
def recorded(api, simulator_http) -> tuple[str, str]:
    """A visit whose call was recorded and announced: (visit id, session id)."""
    response = api.post(
        "/teleconsultation", body([doctor(), patient()], recording="automatic"), format="json"
    )
    visit = response.json()["roomId"]
    session = hold_a_call(simulator_http, visit)
    announce(visit, session)
    return visit, session


def link_page(visit: str, session: str) -> str:
    return f"{LIST}{visit}/recording-link/?session_id={session}"


def link_entries(visit: str) -> list:
    batches = get_storage().audit_entries(since=EPOCH, teleconsultation_id=visit)
    return [entry for batch in batches for entry in batch if entry.action == audit.RECORDING_LINK]


def test_the_detail_page_offers_a_download_link_per_recording(client, recorded):
    visit, session = recorded
    page = staff(client, may_download=True).get(f"{LIST}{visit}/change/").content.decode()
    section = page[page.index('id="recordings"') :]
    assert session in section
    assert f'href="{LIST}{visit}/recording-link/?session_id={session}"' in section


def test_staff_without_the_permission_see_the_recordings_but_no_link(
    client, recorded, simulator_http
):
    visit, session = recorded
    support = staff(client, may_download=False)
    page = support.get(f"{LIST}{visit}/change/").content.decode()
    assert session in page and "recording-link" not in page

    assert support.get(link_page(visit, session)).status_code == 403
    assert support.post(link_page(visit, session), {"session_id": session}).status_code == 403
    assert simulator_http.call_count("recording_link") == 0


def test_the_link_is_asked_for_first_then_shown_once_audited_and_never_logged(
    client, recorded, simulator_http, caplog
):
    visit, session = recorded
    support = staff(client, may_download=True)

    asked = support.get(link_page(visit, session))
    assert asked.status_code == 200 and "Fetch the link" in asked.content.decode()
    assert simulator_http.call_count("recording_link") == 0

    with caplog.at_level(logging.DEBUG):
        shown = support.post(f"{LIST}{visit}/recording-link/", {"session_id": session})

    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"]
    url = shown.context["link"].url
    assert f'href="{url}"' in shown.content.decode().replace("&amp;", "&")
    assert "300 seconds" in shown.content.decode()
    assert url not in caplog.text
    (entry,) = link_entries(visit)
    assert (entry.actor, entry.outcome, entry.client_type) == ("admin:support", "done", "admin")
    assert dict(entry.detail) == {"session_id": session, "expires_in": 300}


def test_a_session_never_announced_for_the_visit_gets_no_link(client, recorded, simulator_http):
    visit, _session = recorded
    other = "session_of_another_visit"
    support = staff(client, may_download=True)

    answer = support.post(f"{LIST}{visit}/recording-link/", {"session_id": other}, follow=True)

    messages = [str(message) for message in answer.context["messages"]]
    assert messages == [
        f"Kaleyra has no recording of session {other} of teleconsultation {visit} "
        "(never announced for it, or deleted)"
    ]
    assert simulator_http.call_count("recording_link") == 0


def test_a_deleted_recording_is_said_so_and_audited(api, client, recorded, settings):
    visit, session = recorded
    settings.TELECONSULTATION_DELETE_UPLOADS = True
    assert api.delete(f"/teleconsultation/{visit}/uploads").json() == {"total": 1, "deleted": 1}
    support = staff(client, may_download=True)

    answer = support.post(f"{LIST}{visit}/recording-link/", {"session_id": session}, follow=True)

    assert answer.redirect_chain[-1][0] == f"{LIST}{visit}/change/"
    assert "Kaleyra has no recording of session" in str(list(answer.context["messages"])[0])
    (entry,) = link_entries(visit)
    assert entry.outcome == "not_found"


def test_a_failing_provider_is_a_message_not_a_500(client, recorded, simulator_http):
    visit, session = recorded
    simulator_http.fail_next("recording_link", mode="500", times=10)
    support = staff(client, may_download=True)

    answer = support.post(f"{LIST}{visit}/recording-link/", {"session_id": session}, follow=True)

    assert answer.status_code == 200
    assert "Kaleyra did not give the link now" in str(list(answer.context["messages"])[0])
    assert stored(visit) is not None
