"""Out-of-range input is a 400 naming the field, never a 500 (docs/api.md, "Input limits")."""

from datetime import UTC, datetime, timedelta

import pytest

from rooms.errors import InvalidRequest
from rooms.rules.schedule import ScheduleInput, changed_schedule, new_schedule
from teleconsultation_project.identity import parse_properties
from teleconsultation_project.input_limits import MAX_JSON_DEPTH, TooDeep, loads, nesting_depth
from tests.rooms.conftest import body, doctor, iso, patient

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC).replace(microsecond=0)
TOMORROW = NOW + timedelta(days=1)


def post(api, payload, path="/teleconsultation"):
    return api.post(path, payload, format="json")


def refused(response, field: str) -> str:
    """The 400 of a validation error: `Invalid request:` message, `field` in the details."""
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["statusCode"] == 400 and error["error"] == "Bad Request"
    assert error["message"].startswith("Invalid request: ")
    assert field in error["details"], error["details"]
    return " ".join(error["details"][field])


def teleconsultation(**changes) -> dict:
    payload = body([doctor(), patient()], start=TOMORROW)
    payload.update(changes)
    return payload


# --- dates and integers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("start_date", "9999-12-31T23:50:00Z"),
        ("start_date", "9001-01-01T00:00:00Z"),
        ("start_date", "0001-01-01T00:00:00+01:00"),  # before the first Python date in UTC
        ("start_date", "1969-12-31T23:59:59Z"),
        ("end_date", "9999-12-31T23:59:59-01:00"),  # after the last Python date in UTC
    ],
)
def test_a_date_outside_1970_to_9000_is_a_400_naming_it(api, field, value):
    payload = teleconsultation(**{field: value})
    if field == "end_date":
        del payload["duration_in_seconds"]
    assert "1970-01-01T00:00:00Z up to the end of the year 9000" in refused(
        post(api, payload), field
    )


@pytest.mark.parametrize("seconds", [2**31, 10**13, 10**30])
def test_a_duration_beyond_32_bits_is_a_400_naming_it(api, seconds):
    response = post(api, teleconsultation(duration_in_seconds=seconds))
    assert "less than or equal to 86400" in refused(response, "duration_in_seconds")


def test_a_huge_duration_on_patch_is_a_400_too(api):
    room_id = post(api, teleconsultation()).json()["roomId"]
    response = api.patch(f"/teleconsultation/{room_id}", {"duration_in_seconds": 10**13}, "json")
    refused(response, "duration_in_seconds")


def test_a_start_more_than_five_years_ahead_is_refused(api):
    response = post(api, teleconsultation(start_date=iso(NOW + timedelta(days=1830))))
    assert response.status_code == 400
    assert "more than 5 years from now" in response.json()["details"]["start_date"][0]


def test_a_start_within_five_years_is_accepted(api):
    response = post(api, teleconsultation(start_date=iso(NOW + timedelta(days=1820))))
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("seconds", [10**13, 10**30, -(10**30)])
def test_the_schedule_checks_a_duration_before_adding_it(seconds):
    # The service's own guard, whatever the caller (admin, command) let through.
    with pytest.raises(InvalidRequest) as refusal:
        new_schedule(ScheduleInput(start=TOMORROW, duration_seconds=seconds), now=NOW)
    field = "duration_in_seconds"
    assert refusal.value.details == {field: [refusal.value.details[field][0]]}
    assert "between 5 minutes (300 seconds) and 24 hours" in str(refusal.value.detail)


def test_the_schedule_checks_a_start_before_computing_from_it():
    last_day = datetime(9999, 12, 31, 23, 50, tzinfo=UTC)
    with pytest.raises(InvalidRequest, match="more than 5 years"):
        changed_schedule(
            ScheduleInput(start=last_day),
            start=TOMORROW,
            end=TOMORROW + timedelta(hours=1),
            now=NOW,
        )


# --- nesting -----------------------------------------------------------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_body_nested_950_deep_is_a_400_saying_so(api):
    response = api.post("/teleconsultation", nested(950), content_type="application/json")
    assert response.status_code == 400
    error = response.json()
    assert error["statusCode"] == 400 and error["error"] == "Bad Request"
    assert error["message"] == (
        "JSON parse error - arrays and objects are nested 950 levels deep; at most 32 are allowed"
    )


def test_a_body_nested_100000_deep_is_measured_without_recursion(api):
    document = '{"a":' * 100_000 + "1" + "}" * 100_000
    response = api.post("/teleconsultation", document, content_type="application/json")
    assert "nested 100000 levels deep" in response.json()["message"]


def test_the_depth_limit_is_inclusive():
    assert loads(nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(TooDeep):
        loads(nested(MAX_JSON_DEPTH + 1))


@pytest.mark.parametrize(
    "text, depth",
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["[[[[", "{{{{"]', 1),  # brackets inside strings do not nest
        (r'["a \" [[[[", {"b": "\\"}]', 2),  # nor after an escaped quote
        ("[[]][[[]]]", 3),
    ],
)
def test_nesting_depth_counts_brackets_outside_strings(text, depth):
    assert nesting_depth(text) == depth


def test_nan_is_still_refused_as_drf_does(api):
    api.as_user("doctor-1", ("doctor",))
    response = api.post("/credentials", '{"expiresIn": NaN}', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("JSON parse error - Out of range float values")


def test_a_deep_user_properties_header_reads_as_no_properties():
    assert parse_properties(nested(5000)) is None
    assert parse_properties('{"a": [1]}') == {"a": [1]}


# --- strings and lists -------------------------------------------------------------------------


CONTROLS = ["\x00", "\x07", "\t", "\n", "\x1f", "\x7f", "\x85", "\x9f"]


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
@pytest.mark.parametrize("field", ["userExternalId", "fullName"])
def test_control_characters_in_ids_and_names_are_a_400(api, field, control):
    participant = doctor()
    for text in (f"a{control}b", f"ab{control}"):  # also where trimming would drop it
        participant[field] = text
        message = refused(
            post(api, teleconsultation(participants={"number": 2, "data": [participant]})),
            f"participants.data[0].{field}",
        )
        assert (
            message == "Must not contain control characters (U+0000 to U+001F, U+007F to U+009F)."
        )


def test_control_characters_in_a_group_are_a_400(api):
    participant = doctor()
    participant["groups"] = ["doctor", "nurse\x1b[31m"]
    response = post(api, teleconsultation(participants={"number": 2, "data": [participant]}))
    refused(response, "participants.data[0].groups[1]")


def test_control_characters_in_an_added_participant_are_a_400(api):
    room_id = post(api, teleconsultation(participants={"number": 2, "data": [doctor()]}))
    path = f"/teleconsultation/{room_id.json()['roomId']}/participants/data"
    refused(post(api, patient(full_name="Mario\x00"), path), "fullName")


def test_control_characters_in_an_array_of_user_ids_are_a_400(api, settings):
    settings.AUTH_SERVICE = "auth0"
    message = refused(
        post(api, teleconsultation(participants=["doctor-1", "p\x85"])), "participants"
    )
    assert "without control characters" in message


def test_ordinary_unicode_in_names_is_kept(api):
    participant = doctor(full_name="Dr. Zoë Łukasiewicz-Ōtani 李")
    assert (
        post(api, teleconsultation(participants={"number": 2, "data": [participant]})).status_code
        == 201
    )


@pytest.mark.parametrize(
    "groups, path, text",
    [
        ([], "groups", "may not be empty"),
        ([f"g{i}" for i in range(51)], "groups", "no more than 50"),
        (["doctor", ""], "groups[1]", "may not be blank"),
        (["doctor", "   "], "groups[1]", "may not be blank"),
        (["x" * 101], "groups[0]", "no more than 100 characters"),
    ],
)
def test_groups_are_a_bounded_list_of_non_empty_names(api, groups, path, text):
    participant = doctor()
    participant["groups"] = groups
    response = post(api, teleconsultation(participants={"number": 2, "data": [participant]}))
    assert text in refused(response, f"participants.data[0].{path}")


def test_fifty_groups_are_accepted(api):
    participant = doctor()
    participant["groups"] = ["doctor"] + [f"g{i}" for i in range(49)]
    response = post(api, teleconsultation(participants={"number": 2, "data": [participant]}))
    assert response.status_code == 201, response.json()


def test_more_than_25_participants_are_a_400_naming_the_list(api):
    people = [doctor()] + [patient(f"p{i}") for i in range(25)]
    response = post(api, teleconsultation(participants={"number": 25, "data": people}))
    refused(response, "participants.data")
