"""GET /teleconsultation: the caller's own visits, by start, a page at a time."""

import base64
from datetime import timedelta

import pytest

from rooms.selectors.agenda import encode_cursor
from rooms.storage import get_storage
from tests.rooms.conftest import NOW, START, doctor, patient

pytestmark = [pytest.mark.django_db]


def agenda(api, user_id, **query):
    return api.as_user(user_id).get("/teleconsultation", query)


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [entry["roomId"] for entry in response.json()["data"]]


def test_without_identity_it_is_a_401(api, create):
    create([doctor(), patient()])
    response = api.get("/teleconsultation")
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized user"


def test_an_entry_says_when_who_and_whether_the_link_is_there(api, create):
    room_id = create([doctor(), patient(full_name="Mario Bianchi")])
    response = agenda(api, "patient-1")
    assert response.json() == {
        "data": [
            {
                "roomId": room_id,
                "startDate": "2026-12-01T10:00:00.000Z",
                "endDate": "2026-12-01T10:30:00.000Z",
                "participants": [{"fullName": "Dr. Ada"}, {"fullName": "Mario Bianchi"}],
                "accessLinkAvailableFrom": "2026-12-01T10:00:00.000Z",
                "accessLinkAvailable": False,
            }
        ],
        "next": None,
    }


def test_each_user_sees_only_their_own_visits(api, create):
    shared = create([doctor("doctor-a"), patient("patient-x")])
    only_a = create([doctor("doctor-a"), patient("patient-y")], start=START + timedelta(hours=1))
    only_b = create([doctor("doctor-b"), patient("patient-z")])
    assert ids(agenda(api, "doctor-a")) == [shared, only_a]
    assert ids(agenda(api, "doctor-b")) == [only_b]
    assert ids(agenda(api, "patient-x")) == [shared]
    assert ids(agenda(api, "stranger")) == []


def test_a_participant_added_later_sees_the_visit(api, create):
    room_id = create([doctor()], number=2)
    assert ids(agenda(api, "patient-1")) == []
    added = api.as_user("doctor-1", ("doctor",)).post(
        f"/teleconsultation/{room_id}/participants/data", patient(), format="json"
    )
    assert added.status_code == 201
    assert ids(agenda(api, "patient-1")) == [room_id]


def test_trashed_visits_are_left_out(api, create):
    kept = create([doctor(), patient()])
    trashed = create([doctor(), patient()], start=START + timedelta(hours=1))
    assert api.delete(f"/teleconsultation/{trashed}").status_code == 204
    assert ids(agenda(api, "doctor-1")) == [kept]


def test_by_default_ended_visits_are_left_out_and_running_ones_kept(api, create, clock):
    ended = create([doctor(), patient()])  # 10:00-10:30
    running = create([doctor(), patient()], start=START + timedelta(minutes=20))  # 10:20-10:50
    later = create([doctor(), patient()], start=START + timedelta(days=1))
    clock.move_to(START + timedelta(minutes=30))  # `ended` ends now: not running any more
    assert ids(agenda(api, "doctor-1")) == [running, later]
    assert ids(agenda(api, "doctor-1", **{"from": "2026-12-01T00:00:00Z"})) == [
        ended,
        running,
        later,
    ]


def test_from_and_to_bound_the_period_at_their_edges_with_offsets(api, create):
    first = create([doctor(), patient()])  # 10:00-10:30 UTC
    second = create([doctor(), patient()], start=START + timedelta(hours=2))  # 12:00-12:30 UTC
    create([doctor(), patient()], start=START + timedelta(days=2))
    # `first` has not ended 1 ms before 10:30; `second` starts exactly at `to`, which is excluded.
    query = {"from": "2026-12-01T11:29:59.999+01:00", "to": "2026-12-01T13:00:00+01:00"}
    assert ids(agenda(api, "doctor-1", **query)) == [first]
    # `first` ends exactly at `from`: over; `second` starts 1 ms before `to`.
    query = {"from": "2026-12-01T10:30:00Z", "to": "2026-12-01T12:00:00.001Z"}
    assert ids(agenda(api, "doctor-1", **query)) == [second]


def test_visits_are_ordered_by_start_then_id(api, create):
    late = create([doctor(), patient()], start=START + timedelta(hours=3))
    same_start = [create([doctor(), patient()]) for _ in range(3)]
    assert ids(agenda(api, "doctor-1")) == [*sorted(same_start), late]


def test_pages_follow_the_cursor_without_gaps_or_repeats(api, create):
    starts = [0, 0, 1, 2, 2]  # hours after START; equal starts are ordered by id
    made = [create([doctor(), patient()], start=START + timedelta(hours=h)) for h in starts]
    expected = sorted(made, key=lambda room_id: (starts[made.index(room_id)], room_id))
    seen, pages, cursor = [], 0, None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        answer = agenda(api, "doctor-1", **query).json()
        seen += [entry["roomId"] for entry in answer["data"]]
        pages += 1
        cursor = answer["next"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == 3


def test_a_full_last_page_has_no_next(api, create):
    for _ in range(2):
        create([doctor(), patient()])
    answer = agenda(api, "doctor-1", limit=2).json()
    assert len(answer["data"]) == 2 and answer["next"] is None


def test_the_limit_defaults_to_20(api, create):
    for _ in range(21):
        create([doctor(), patient()])
    answer = agenda(api, "doctor-1").json()
    assert len(answer["data"]) == 20 and answer["next"]


def test_one_sql_query_per_page_however_many_visits_and_participants(
    api, create, django_assert_num_queries
):
    people = [doctor(), patient("p1"), patient("p2"), patient("p3")]
    for hours in range(4):
        create(people, start=START + timedelta(hours=hours))
    with django_assert_num_queries(1):
        first = agenda(api, "p2", limit=3)
    assert len(first.json()["data"]) == 3
    with django_assert_num_queries(1):
        second = agenda(api, "p2", limit=3, cursor=first.json()["next"])
    assert len(second.json()["data"]) == 1
    assert [p["fullName"] for p in second.json()["data"][0]["participants"]] == [
        "Dr. Ada",
        "p1",
        "p2",
        "p3",
    ]


def test_the_storage_page_is_limited_and_keyed(create):
    made = [create([doctor(), patient()], start=START + timedelta(hours=h)) for h in range(3)]
    storage = get_storage()
    page = storage.agenda_page("doctor-1", ends_after=NOW, starts_before=None, after=None, limit=2)
    assert [visit.id for visit in page] == made[:2]
    after = (page[-1].start, page[-1].id)
    rest = storage.agenda_page("doctor-1", ends_after=NOW, starts_before=None, after=after, limit=2)
    assert [visit.id for visit in rest] == made[2:]
    assert [member.external_id for member in rest[0].participants] == ["doctor-1", "patient-1"]


def test_unknown_query_parameters_are_ignored(api, create):
    room_id = create([doctor(), patient()])
    assert ids(agenda(api, "doctor-1", _="1733040000000")) == [room_id]


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"from": "2026-12-01T10:00:00"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-12-01"}, "to"),
        ({"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, "to"),
        ({"from": "2026-12-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, "to"),
        ({"cursor": "not a cursor"}, "cursor"),
        ({"cursor": _b64('["2026-12-01T10:00:00+00:00"]')}, "cursor"),
        ({"cursor": _b64('["2026-12-01T10:00:00", "0123456789abcdef01234567"]')}, "cursor"),
        ({"cursor": _b64('["2026-12-01T10:00:00+00:00", "../../etc"]')}, "cursor"),
        ({"cursor": "A" * 500}, "cursor"),
    ],
)
def test_bad_values_are_400s_naming_the_parameter(api, query, field):
    response = agenda(api, "doctor-1", **query)
    assert response.status_code == 400
    body = response.json()
    assert body["statusCode"] == 400 and body["error"] == "Bad Request"
    assert list(body["details"]) == [field]


def test_a_cursor_is_opaque_but_round_trips(api, create):
    first, second = (create([doctor(), patient()]) for _ in range(2))
    ordered = sorted([first, second])
    cursor = encode_cursor(START, ordered[0])
    assert ids(agenda(api, "doctor-1", cursor=cursor)) == [ordered[1]]


def test_the_openapi_document_describes_the_agenda(client):
    document = client.get("/documentation/json", HTTP_ACCEPT="application/json").json()
    operation = document["paths"]["/teleconsultation"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"from", "to", "limit", "cursor"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Agenda"
    }
    entry = document["components"]["schemas"]["AgendaEntry"]["properties"]
    assert set(entry) == {
        "roomId",
        "startDate",
        "endDate",
        "participants",
        "accessLinkAvailableFrom",
        "accessLinkAvailable",
    }
    assert {"400", "401"} <= set(operation["responses"])


def test_a_visit_moved_to_another_time_moves_in_the_agenda(api, create):
    first = create([doctor(), patient()])
    second = create([doctor(), patient()], start=START + timedelta(hours=1))
    moved = {"start_date": (START + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert api.patch(f"/teleconsultation/{first}", moved, format="json").status_code == 204
    assert ids(agenda(api, "patient-1")) == [second, first]
    assert ids(
        agenda(api, "patient-1", limit=1, cursor=encode_cursor(START + timedelta(hours=1), second))
    ) == [first]


def test_the_agenda_index_range_starts_a_longest_visit_before_from():
    # The Django backend reads a person's agenda from `from` less the longest visit the schedule
    # accepts: were one longer, it would be left out while running.
    from rooms.rules.schedule import MAX_DURATION
    from rooms.storage.django import LONGEST_VISIT

    assert LONGEST_VISIT == MAX_DURATION
