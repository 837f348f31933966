"""GET /teleconsultation/{id}: each participant's own link, only when it is time."""

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from kaleyra.ids import kaleyra_user_id_for
from rooms.domain import Write
from rooms.storage import get_storage
from tests.rooms.conftest import NOW, doctor, patient, stored

pytestmark = [
    pytest.mark.usefixtures("storage_backend"),
    pytest.mark.django_db,
]


def get(api, room_id, user_id, groups=(), **query):
    return api.as_user(user_id, groups).get(f"/teleconsultation/{room_id}", query)


@pytest.fixture
def started(create, clock):
    """A complete teleconsultation whose start has come."""
    room_id = create([doctor(language="it"), patient(full_name="Mario Bianchi")])
    clock.move_to(NOW + timedelta(hours=2))
    return room_id


def test_a_participant_gets_their_own_link_and_everyone_in_the_call(api, started):
    response = get(api, started, "patient-1", ("customer",))
    assert response.status_code == 200
    answer = response.json()
    own = stored(started).participant("patient-1")
    assert answer["bandyerUserId"] == kaleyra_user_id_for("patient-1")
    assert answer["accessLinkURL"].startswith(own.access_link.split("?")[0])
    assert answer["participantsBandyerCall"] == [
        {"bandyerUserId": kaleyra_user_id_for("doctor-1"), "fullName": "Dr. Ada"},
        {"bandyerUserId": kaleyra_user_id_for("patient-1"), "fullName": "Mario Bianchi"},
    ]
    assert answer["details"]["live"] is True
    # Fields Kaleyra does not document stay in Mia's shape, as null: nothing is made up.
    undocumented = ("status", "disabled", "durationUsedInSeconds", "recordingStatus")
    assert {field: answer["details"][field] for field in undocumented} == dict.fromkeys(
        undocumented
    )


def test_the_link_carries_the_display_name_and_the_participants_language(api, started):
    link = get(api, started, "doctor-1").json()["accessLinkURL"]
    query = parse_qs(urlsplit(link).query)
    assert query["display_name"] == ["Dr. Ada"] and query["language"] == ["it"]
    assert "virtual_background" not in query


def test_query_language_and_use_background_override(api, started):
    link = get(api, started, "doctor-1", language="de", useBackground="true").json()[
        "accessLinkURL"
    ]
    query = parse_qs(urlsplit(link).query)
    assert query["language"] == ["de"] and query["virtual_background"] == ["image"]


def test_groups_with_background_get_it_without_asking(api, started, tmp_path, settings):
    from teleconsultation_project.service_config import get_service_config

    path = tmp_path / "config.json"
    path.write_text(
        '{"privileges": {"basic": {"groups": ["customer"]}, "plus": {"groups": ["doctor"]}},'
        ' "groupsWithBackgroundList": ["doctor"]}'
    )
    settings.TELECONSULTATION_SERVICE_CONFIG_PATH = str(path)
    try:
        link = get(api, started, "doctor-1", ("doctor",)).json()["accessLinkURL"]
        assert parse_qs(urlsplit(link).query)["virtual_background"] == ["image"]
        link = get(api, started, "patient-1", ("customer",)).json()["accessLinkURL"]
        assert "virtual_background" not in parse_qs(urlsplit(link).query)
    finally:
        get_service_config.cache_clear()


def test_the_link_is_null_before_the_immutable_period_and_says_from_when(
    api, create, settings, clock
):
    settings.IMMUTABLE_PERIOD_MS = 15 * 60 * 1000
    room_id = create([doctor(), patient()])  # starts at NOW + 2h
    answer = get(api, room_id, "patient-1").json()
    assert answer["accessLinkURL"] is None
    assert answer["accessLinkAvailableFrom"] == "2026-12-01T09:45:00.000Z"
    clock.move_to(NOW + timedelta(hours=1, minutes=45))
    assert get(api, room_id, "patient-1").json()["accessLinkURL"]


def test_the_link_is_null_until_everyone_is_known(api, create, clock):
    room_id = create([doctor()], number=2)
    clock.move_to(NOW + timedelta(hours=2))
    answer = get(api, room_id, "doctor-1").json()
    assert answer["accessLinkURL"] is None and answer["details"] is None


def test_a_participant_stored_without_a_link_gets_null_not_a_bare_query(api, started):
    # As in a record Mia's service wrote: the participant is known, their link is empty.
    def forget_the_patients_link(fresh):
        members = tuple(
            replace(member, access_link="") if member.external_id == "patient-1" else member
            for member in fresh.participants
        )
        return Write(replace(fresh, participants=members))

    get_storage().update(started, forget_the_patients_link, actor="mia")

    assert get(api, started, "patient-1").json()["accessLinkURL"] is None
    assert get(api, started, "doctor-1").json()["accessLinkURL"]


def test_no_identity_is_a_401(api, started):
    response = api.get(f"/teleconsultation/{started}")
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized user"


def test_someone_who_is_not_a_participant_is_a_401(api, started):
    response = get(api, started, "stranger", ("doctor",))
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized user"


def test_an_unknown_teleconsultation_is_a_404_with_the_contract_text(api):
    response = get(api, "0123456789abcdef01234567", "doctor-1")
    assert response.status_code == 404
    assert response.json()["error"] == "Room with id 0123456789abcdef01234567 not found on CRUD"


def test_the_link_is_still_given_when_the_provider_does_not_answer(api, started, simulator):
    simulator.fail_next("get_room", mode="drop", times=10)
    answer = get(api, started, "patient-1").json()
    assert answer["details"] is None
    assert answer["accessLinkURL"]


@pytest.mark.parametrize("value", ["maybe", "TRUE", "1", ""])
def test_a_wrong_value_of_a_known_parameter_is_a_400(api, started, value):
    response = get(api, started, "patient-1", useBackground=value)
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["useBackground"]
    assert response.json()["message"].startswith("Invalid request: useBackground: ")


def test_query_parameters_the_endpoint_does_not_know_are_ignored(api, started):
    response = get(api, started, "patient-1", _="1700000000000", utm_source="app")
    assert response.status_code == 200
    assert response.json()["accessLinkURL"]


def link_query(api, room_id, user_id, **query) -> dict:
    response = get(api, room_id, user_id, **query)
    assert response.status_code == 200, response.json()
    return parse_qs(urlsplit(response.json()["accessLinkURL"]).query, keep_blank_values=True)


@pytest.mark.parametrize("language", ["es", "es-ES", "xx", "", "<b>"])
def test_a_language_the_links_do_not_support_is_no_400(api, started, language):
    assert get(api, started, "patient-1", language=language).status_code == 200


@pytest.mark.parametrize("language", ["es", "es-ES", "xx", ""])
def test_an_unsupported_query_language_means_the_company_default(api, started, language):
    # The doctor's own language (it) is not used either: the caller asked for another one.
    assert "language" not in link_query(api, started, "doctor-1", language=language)


def test_a_regional_query_tag_means_its_language(api, started):
    assert link_query(api, started, "patient-1", language="de-CH")["language"] == ["de"]


def test_a_stored_tag_reaches_the_link_only_when_supported(api, create, clock):
    room_id = create([doctor(language="fr-CA"), patient(language="pt-BR")])
    clock.move_to(NOW + timedelta(hours=2))
    assert link_query(api, room_id, "doctor-1")["language"] == ["fr"]
    assert "language" not in link_query(api, room_id, "patient-1")


def test_get_costs_one_query_and_one_provider_call(
    api, started, simulator, django_assert_num_queries, django_storage_only
):
    simulator.reset_call_log()
    # The visit and its participants in one LEFT JOIN (Django backend), plus the audit entry of
    # the link handed out (rooms/services/audit.py): the one write a GET makes.
    with django_assert_num_queries(2) as queries:
        assert get(api, started, "patient-1").status_code == 200
    assert queries.captured_queries[0]["sql"].lstrip().upper().startswith("SELECT")
    assert "rooms_auditentry" in queries.captured_queries[1]["sql"]
    assert simulator.call_count() == 1
