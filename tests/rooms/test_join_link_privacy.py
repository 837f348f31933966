"""No join link the service hands out carries a participant's name (issue #22): whatever form the
participants came in, the call gets names from Kaleyra's user details provider instead
(tests/rooms/test_user_details.py). A URL ends up in browser history and proxy logs."""

import re
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, unquote_plus, urlsplit, urlunsplit

import pytest

from rooms.domain import Write
from rooms.storage import get_storage
from tests.rooms.conftest import NOW, START, doctor, iso, patient, stored

pytestmark = [pytest.mark.django_db]

DURING = NOW + timedelta(hours=2, minutes=5)
NAME_PARAMETERS = {"display_name", "dn"}


def assert_no_name_in(link: str, full_name: str) -> None:
    """No name parameter, and no word of the name anywhere in the query (the path is Kaleyra's
    token, checked to be the stored link's own by `links_of`)."""
    assert link, "no link was handed out"
    query = urlsplit(link).query
    assert not NAME_PARAMETERS & set(parse_qs(query)), link
    text = unquote_plus(query).lower()
    for word in re.findall(r"\w{2,}", full_name.lower()):
        assert word not in text, f"{word!r} of {full_name!r} is in {link}"


def base(link: str) -> str:
    return urlunsplit(urlsplit(link)._replace(query=""))


def links_of(api, visit_id: str, people: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Each participant's own link, fetched as that participant (user id -> their groups), each
    the link stored for them with only Kaleyra's options changed."""
    links = {}
    for user_id, groups in people.items():
        answer = api.as_user(user_id, groups).get(
            f"/teleconsultation/{visit_id}", {"language": "it"}
        )
        assert answer.status_code == 200, answer.json()
        links[user_id] = answer.json()["accessLinkURL"]
        assert links[user_id], f"no link for {user_id}"
        assert base(links[user_id]) == base(stored(visit_id).participant(user_id).access_link)
    return links


PEOPLE = {"doctor-1": ("doctor",), "patient-1": ("customer",)}
NAMES = {"doctor-1": "Dr. Ada Lovelace", "patient-1": "Mario Bianchi"}


@pytest.mark.usefixtures("storage_backend")
def test_participants_given_with_their_full_names(api, create, clock):
    visit = create(
        [doctor(full_name=NAMES["doctor-1"]), patient(full_name=NAMES["patient-1"], language="de")]
    )
    clock.move_to(DURING)
    for user_id, link in links_of(api, visit, PEOPLE).items():
        assert_no_name_in(link, NAMES[user_id])


@pytest.mark.usefixtures("storage_backend")
def test_a_participant_added_through_participants_data(api, create, clock):
    visit = create([doctor(full_name=NAMES["doctor-1"])], number=2)
    response = api.post(
        f"/teleconsultation/{visit}/participants/data",
        patient(full_name=NAMES["patient-1"]),
        format="json",
    )
    assert response.status_code == 201
    clock.move_to(DURING)
    for user_id, link in links_of(api, visit, PEOPLE).items():
        assert_no_name_in(link, NAMES[user_id])


@pytest.mark.usefixtures("storage_backend")
def test_participants_replaced_by_a_patch(api, create, clock):
    visit = create([doctor(), patient()])
    people = [doctor(full_name=NAMES["doctor-1"]), patient(full_name=NAMES["patient-1"])]
    response = api.patch(
        f"/teleconsultation/{visit}",
        {"participants": {"number": 2, "data": people}},
        format="json",
    )
    assert response.status_code == 204, response.json()
    clock.move_to(DURING)
    for user_id, link in links_of(api, visit, PEOPLE).items():
        assert_no_name_in(link, NAMES[user_id])


def test_plain_user_ids_named_by_the_directory(api, settings, clock):
    import responses

    from tests.rooms.test_directory_client import USERS_URL, auth0_user

    settings.AUTH_SERVICE = "http://auth0-client"
    with responses.RequestsMock() as directory:
        directory.get(
            USERS_URL,
            json=[
                auth0_user("auth0|doc", name=NAMES["doctor-1"], groups=("doctor",)),
                auth0_user("auth0|pat", name=NAMES["patient-1"], groups=("customer",)),
            ],
        )
        response = api.as_user("scheduler", groups=("admin",)).post(
            "/teleconsultation",
            {
                "participants": ["auth0|doc", "auth0|pat"],
                "start_date": iso(START),
                "duration_in_seconds": 1800,
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    visit = response.json()["roomId"]
    assert {p.full_name for p in stored(visit).participants} == set(NAMES.values())
    clock.move_to(DURING)
    people = {"auth0|doc": ("doctor",), "auth0|pat": ("customer",)}
    links = links_of(api, visit, people)
    assert_no_name_in(links["auth0|doc"], NAMES["doctor-1"])
    assert_no_name_in(links["auth0|pat"], NAMES["patient-1"])


def test_imported_mia_records(api, clock):
    from tests.rooms.test_import_mia import DURING_THE_VISIT, READY, run

    run()
    clock.move_to(DURING_THE_VISIT)
    people = {"auth0|doctor-ada": ("doctor",), "auth0|patient-mario": ("customer",)}
    links = links_of(api, READY, people)
    assert_no_name_in(links["auth0|doctor-ada"], "Dr. Ada Rossi")
    assert_no_name_in(links["auth0|patient-mario"], "Mario Bianchi")


@pytest.mark.usefixtures("storage_backend")
def test_a_name_already_in_a_stored_link_is_dropped(api, create, clock):
    # A link written by an earlier release of this service, which put the name on it.
    visit = create([doctor(full_name=NAMES["doctor-1"]), patient(full_name=NAMES["patient-1"])])

    def names_on_the_links(fresh):
        members = tuple(
            replace(
                member,
                access_link=base(member.access_link)
                + f"?display_name={member.full_name}&dn={member.full_name}&ad=1",
            )
            for member in fresh.participants
        )
        return Write(replace(fresh, participants=members))

    get_storage().update(visit, names_on_the_links, actor="earlier-release")
    clock.move_to(DURING)
    for user_id, link in links_of(api, visit, PEOPLE).items():
        assert_no_name_in(link, NAMES[user_id])
        assert parse_qs(urlsplit(link).query)["ad"] == ["1"]  # Kaleyra's other options stay
