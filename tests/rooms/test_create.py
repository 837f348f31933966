"""POST /teleconsultation: participants, dates, Kaleyra users and the room, as the contract says."""

import json
import logging
from datetime import datetime, timedelta

import pytest
import responses

from kaleyra.ids import kaleyra_user_id_for
from rooms.api.teleconsultations import CREATE_EXAMPLE
from rooms.storage import get_storage
from tests.rooms.conftest import (
    NOW,
    START,
    body,
    doctor,
    iso,
    links,
    mapping,
    patient,
    person,
    stored,
    visit_count,
)

pytestmark = [
    pytest.mark.usefixtures("storage_backend"),
    pytest.mark.django_db,
]
OMIT = object()  # a field left out of the body


def post(api, payload):
    return api.post("/teleconsultation", payload, format="json")


@pytest.mark.real_clock  # the example's dates follow the day the document is made
def test_the_documented_example_creates_a_teleconsultation_with_its_room(api, simulator):
    # The request shown in the OpenAPI document, so the documentation cannot drift from the API.
    payload = CREATE_EXAMPLE.value
    response = post(api, payload)
    assert response.status_code == 201
    room_id = response.json()["roomId"]
    assert len(room_id) == 24 and int(room_id, 16) >= 0
    visit = stored(room_id)
    assert visit.start == datetime.fromisoformat(payload["start_date"])  # 09:30 in Rome, +02:00
    assert (visit.start.month, visit.start.day, visit.start.hour) == (6, 3, 7)
    assert visit.end - visit.start == timedelta(minutes=30)
    assert simulator.room_exists(visit.kaleyra_room_id)
    join_links = links(visit)
    assert all(join_links) and len(set(join_links)) == 2


def test_an_end_date_in_another_offset_is_stored_in_utc(api):
    payload = body([doctor(), patient()])
    del payload["duration_in_seconds"]
    payload.update(start_date="2026-12-01T10:30:00+01:00", end_date="2026-12-01T11:00:00+01:00")
    visit = stored(post(api, payload).json()["roomId"])
    assert (visit.start.isoformat(), visit.end - visit.start) == (
        "2026-12-01T09:30:00+00:00",
        timedelta(minutes=30),
    )


def test_ids_are_unpredictable_and_distinct(create):
    ids = {create([doctor(), patient(f"p{i}")]) for i in range(5)}
    assert len(ids) == 5


def test_the_room_gets_each_participants_role_tools_and_live_flag(
    api, simulator, settings, tmp_path
):
    settings.UNLIMITED_TELECONSULTATION = False
    settings.LIVE_TELECONSULTATION = False
    config = tmp_path / "config.json"
    config.write_text(
        '{"privileges": {"plus": {"groups": ["doctor"], "tools": {"chat": true, "snapshot": true}},'
        ' "basic": {"groups": ["customer"], "tools": {"chat": true}}}}'
    )
    settings.TELECONSULTATION_SERVICE_CONFIG_PATH = str(config)
    response = post(api, body([doctor(), patient()], duration=1200))
    visit = stored(response.json()["roomId"])
    room = simulator.get_room_record(visit.kaleyra_room_id)
    by_user = {p["user_id"]: p for p in room["participants"]}
    doctor_in_room = by_user[kaleyra_user_id_for("doctor-1")]
    patient_in_room = by_user[kaleyra_user_id_for("patient-1")]
    assert doctor_in_room["is_admin"] is True and patient_in_room["is_admin"] is False
    assert doctor_in_room["tools"]["snapshot"] is True
    assert patient_in_room["tools"]["snapshot"] is False
    assert patient_in_room["tools"]["chat"] is True
    assert room["duration"] == 1200
    assert room["live"] is False


@pytest.mark.parametrize("live", [None, False, True], ids=["unset", "false", "true"])
def test_live_reaches_kaleyra_only_when_the_operator_sets_it(api, simulator_http, settings, live):
    # `live` is not on Kaleyra's v2 create-room page: unset, the body holds documented fields only.
    settings.LIVE_TELECONSULTATION = live
    rooms_url = f"{settings.BANDYER_BASE_URL}/v2/rooms"
    with responses.RequestsMock() as kaleyra:
        kaleyra.add(responses.PassthroughResponse(responses.POST, rooms_url))
        kaleyra.add_passthru(settings.BANDYER_BASE_URL)
        assert post(api, body([doctor(), patient()])).status_code == 201
        (room_call,) = kaleyra.calls
    sent = json.loads(room_call.request.body)
    if live is None:
        assert set(sent) == {"participants", "recording", "description"}
    else:
        assert sent["live"] is live


def test_an_unlimited_teleconsultation_sends_no_duration(api, simulator):
    response = post(api, body([doctor(), patient()]))
    visit = stored(response.json()["roomId"])
    assert simulator.get_room_record(visit.kaleyra_room_id).get("duration") is None


def test_an_incomplete_teleconsultation_has_no_room_yet_but_its_users_exist(api, simulator):
    response = post(api, body([patient()], number=2))
    assert response.status_code == 201
    visit = stored(response.json()["roomId"])
    assert visit.kaleyra_room_id is None
    assert simulator.call_count("create_room") == 0
    assert simulator.user_role(mapping("patient-1").kaleyra_user_id) == "basic"


def test_no_plus_participant_is_refused_with_the_contract_text_and_nothing_is_stored(
    api, simulator
):
    response = post(api, body([patient("a"), patient("b")]))
    assert response.status_code == 400
    assert response.json()["error"] == "Failed POST /teleconsultation: no plus user in room"
    assert visit_count() == 0
    assert mapping("patient-1") is None and mapping("a") is None
    assert simulator.call_count() == 0


def test_known_users_are_reused_and_a_changed_role_is_updated_on_kaleyra(api, simulator):
    post(api, body([doctor(), patient("p1")]))
    created = simulator.call_count("create_user")
    # p1 becomes a doctor: same Kaleyra user, new role.
    post(api, body([doctor(), person("p1", groups=("doctor",))]))
    assert simulator.call_count("create_user") == created
    assert simulator.user_role(kaleyra_user_id_for("p1")) == "plus"
    assert mapping("p1").role == "plus"


@pytest.mark.parametrize(
    ("payload", "field", "text"),
    [
        (body([doctor()], number=1), "participants.number", "greater than or equal to 2"),
        (body([doctor()], number=26), "participants.number", "less than or equal to 25"),
        (body([doctor(), patient(), patient("x")], number=2), "participants.data", "number is 2"),
        (body([doctor(), patient(), patient()]), "participants.data[2].userExternalId", "once"),
        (
            body([doctor(), patient(language="it_IT")]),
            "participants.data[1].language",
            "language tag (BCP 47)",
        ),
        (
            body([doctor(), patient(language="x" * 36)]),
            "participants.data[1].language",
            "at most 35 characters",
        ),
        (
            body([doctor(), {"userExternalId": "p", "fullName": "P"}]),
            "participants.data[1].groups",
            "required",
        ),
        (
            body([doctor(), {"userExternalId": "p", "groups": ["customer"]}]),
            "participants.data[1].fullName",
            "required",
        ),
        (
            body([doctor(), person("nurse-1", groups=("nurse",))]),
            "participants.data[1]",
            "user nurse-1 has groups (nurse) that grant no role",
        ),
        (body([doctor(), patient()], number="2"), "participants.number", "integer"),
        (
            body([doctor(), {"userExternalId": 5, "groups": [], "fullName": "x"}]),
            "participants.data[1].userExternalId",
            "string",
        ),
        ({**body([doctor(), patient()]), "room": "x"}, "room", "Unknown field"),
        (
            {**body([doctor(), patient()]), "participants": ["a", "b"]},
            "participants",
            "AUTH_SERVICE",
        ),
        (
            {**body([doctor(), patient()]), "participants": "ab"},
            "participants",
            "Must be an object",
        ),
    ],
)
def test_participant_rules_are_400s_naming_the_field(api, payload, field, text):
    response = post(api, payload)
    assert response.status_code == 400, response.json()
    details = response.json()["details"]
    assert field in details, details
    assert text in " ".join(details[field])
    assert visit_count() == 0


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"start_date": "2026-12-01T10:00:00"}, "start_date", "no time zone offset"),
        ({"start_date": "tomorrow"}, "start_date", "ISO 8601"),
        ({"start_date": "2026-12-01"}, "start_date", "ISO 8601"),
        ({"end_date": iso(START + timedelta(minutes=30))}, "end_date", "not both"),
        ({"duration_in_seconds": None}, "duration_in_seconds", "null"),
        ({"duration_in_seconds": 299}, "duration_in_seconds", "greater than or equal to 300"),
        ({"duration_in_seconds": 86401}, "duration_in_seconds", "less than or equal to 86400"),
        (
            {"end_date": iso(START + timedelta(minutes=1)), "duration_in_seconds": OMIT},
            "end_date",
            "would last 1 minute; it must last between 5 minutes",
        ),
        (
            {"end_date": iso(START + timedelta(hours=24, seconds=1)), "duration_in_seconds": OMIT},
            "end_date",
            "would last 24 hours 1 second",
        ),
        (
            {"end_date": iso(START - timedelta(minutes=10)), "duration_in_seconds": OMIT},
            "end_date",
            "would end before it starts",
        ),
        ({"duration_in_seconds": "1800"}, "duration_in_seconds", "integer"),
        (
            {"start_date": iso(NOW - timedelta(hours=2)), "duration_in_seconds": 3600},
            "end_date",
            "in the past",
        ),
    ],
)
def test_date_rules_are_400s_naming_the_field(api, changes, field, text):
    payload = {k: v for k, v in {**body([doctor(), patient()]), **changes}.items() if v is not OMIT}
    response = post(api, payload)
    assert response.status_code == 400, response.json()
    answer = response.json()
    assert list(answer["details"]) == [field]
    assert text in " ".join(answer["details"][field])
    assert answer["message"].startswith(f"Invalid request: {field}: ")


@pytest.mark.parametrize("seconds", [0, 60, 299])
def test_a_too_short_duration_in_seconds_is_reported_against_that_field(api, seconds):
    response = post(api, body([doctor(), patient()], duration=seconds))
    assert response.status_code == 400
    answer = response.json()
    assert list(answer["details"]) == ["duration_in_seconds"]
    assert answer["message"] == (
        "Invalid request: duration_in_seconds: Ensure this value is greater than or equal to 300."
    )


def test_the_schedule_rules_name_duration_in_seconds_when_the_end_came_from_it():
    """The service-level check (admin, commands, a future caller) names the same field."""
    from rooms.rules.schedule import ScheduleInput, new_schedule
    from teleconsultation_project.errors import ApiError

    with pytest.raises(ApiError) as error:
        new_schedule(ScheduleInput(start=START, duration_seconds=60), now=NOW)
    assert error.value.details == {
        "duration_in_seconds": [
            "the teleconsultation would last 1 minute; it must last between 5 minutes "
            "(300 seconds) and 24 hours (86400 seconds)"
        ]
    }
    assert str(error.value.detail).startswith("Invalid request: duration_in_seconds: ")


def test_any_language_tag_is_stored_as_given(create):
    room_id = create([doctor(language="pt-BR"), patient(language="it")])
    assert [p.language for p in stored(room_id).participants] == ["pt-BR", "it"]


def test_neither_end_date_nor_duration_is_a_400(api):
    payload = body([doctor(), patient()])
    del payload["duration_in_seconds"]
    response = post(api, payload)
    assert response.status_code == 400
    assert "end_date" in response.json()["details"]


def test_exact_limits_of_the_duration_are_accepted(api):
    assert post(api, body([doctor(), patient()], duration=300)).status_code == 201
    assert post(api, body([doctor(), patient()], duration=86400)).status_code == 201


def test_a_teleconsultation_that_already_started_but_not_ended_is_accepted(api):
    response = post(api, body([doctor(), patient()], start=NOW - timedelta(minutes=10)))
    assert response.status_code == 201


@pytest.mark.parametrize(("mode", "status"), [("500", 502), ("drop", 503), ("timeout", 504)])
def test_a_provider_failure_answers_502_503_504_and_stores_nothing(api, simulator, mode, status):
    simulator.fail_next("create_room", mode=mode)
    response = post(api, body([doctor(), patient()]))
    assert response.status_code == status
    assert "video provider" in response.json()["message"]
    assert visit_count() == 0
    assert simulator.rooms() == []


def test_a_storage_failure_after_the_room_was_made_deletes_the_room(api, simulator, monkeypatch):

    def broken_insert(teleconsultation, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(get_storage(), "insert", broken_insert)
    response = post(api, body([doctor(), patient()]))
    assert response.status_code == 500
    assert simulator.call_count("create_room") == 1
    assert simulator.rooms() == []


def test_participants_are_stored_with_role_groups_language_and_kaleyra_id(create):
    room_id = create([doctor(language="it"), patient()])
    first, second = stored(room_id).participants
    assert (first.external_id, first.role, first.language) == ("doctor-1", "plus", "it")
    assert (second.role, second.groups, second.full_name) == ("basic", ("customer",), "patient-1")
    assert first.kaleyra_user_id == kaleyra_user_id_for("doctor-1")


def test_scheduling_is_logged_with_the_id_and_without_personal_data(api, caplog):
    caplog.set_level(logging.INFO, logger="teleconsultation.rooms")
    room_id = post(api, body([doctor(full_name="Dr. Ada Rossi"), patient()])).json()["roomId"]
    lines = [r for r in caplog.records if getattr(r, "teleconsultation", None) == room_id]
    assert [r.getMessage() for r in lines if "scheduled" in r.getMessage()]
    assert not any("Ada Rossi" in r.getMessage() for r in caplog.records)
