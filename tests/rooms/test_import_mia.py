"""import_mia_collections: Mia's exported collections become this service's records, ids kept."""

import json
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection

from rooms.domain import State, UserMapping
from rooms.storage import get_storage
from rooms.storage.mia_records import parse_date
from tests.rooms.conftest import mapping, stored, visit_count

pytestmark = [pytest.mark.django_db]

FIXTURES = Path(__file__).parent / "fixtures" / "mia"
READY = "65a1f0c2e4b0a1b2c3d4e5f6"  # complete, with its room and links
WAITING = "65a1f0c2e4b0a1b2c3d4e5f7"  # 1 of 2, canonical Extended JSON
TRASHED = "65a1f0c2e4b0a1b2c3d4e5f8"
DRAFT = "65a1f0c2e4b0a1b2c3d4e5f9"
SHAPES = {"json lines": "jsonl", "json array": "json"}
DURING_THE_VISIT = datetime(2026, 12, 1, 10, 5, tzinfo=UTC)


def run(*args, visits=None, users=None) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_mia_collections", *_files(visits, users), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args, visits=None, users=None) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(
            "import_mia_collections", *_files(visits, users), *args, stdout=out, stderr=err
        )
    return out.getvalue(), str(failure.value)


def _files(visits, users) -> list[str]:
    visits = visits or FIXTURES / "teleconsultations.jsonl"
    users = users or FIXTURES / "userIdMap.jsonl"
    return ["--teleconsultations", str(visits), "--user-id-map", str(users)]


def lines(tmp_path, name: str, *records) -> Path:
    """A JSON lines export; a string is written as it is (a broken line, a blank one)."""
    path = tmp_path / name
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n",
        encoding="utf-8",
    )
    return path


def mia_visit(_id: str, *members, number=2, **fields) -> dict:
    record = {
        "_id": {"$oid": _id},
        "participantsNumber": number,
        "participants": list(members),
        "startDate": {"$date": "2026-12-05T10:00:00Z"},
        "endDate": {"$date": "2026-12-05T10:30:00Z"},
        "__STATE__": "PUBLIC",
    }
    record.update(fields)
    return record


def member(kaleyra_id="user_ada_4f2c", groups=("doctor",), name="Dr. Ada Rossi") -> dict:
    return {"userBandyerId": kaleyra_id, "groups": list(groups), "fullName": name}


def base_url(link: str) -> str:
    return urlunsplit(urlsplit(link)._replace(query=""))


# --- what an import keeps -------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_an_imported_participant_gets_their_old_join_link(api, clock, shape):
    run(visits=FIXTURES / f"teleconsultations.{shape}", users=FIXTURES / f"userIdMap.{shape}")
    clock.move_to(DURING_THE_VISIT)

    response = api.as_user("auth0|patient-mario", ("customer",)).get(f"/teleconsultation/{READY}")

    assert response.status_code == 200, response.json()
    answer = response.json()
    assert base_url(answer["accessLinkURL"]) == (
        "https://sandbox.bandyer.com/eu/direct-rest-call-handler/Mario3Xz8P"
    )
    assert answer["bandyerUserId"] == "user_mario_9b1d"
    assert answer["participantsBandyerCall"] == [
        {"bandyerUserId": "user_ada_4f2c", "fullName": "Dr. Ada Rossi"},
        {"bandyerUserId": "user_mario_9b1d", "fullName": "Mario Bianchi"},
    ]
    doctor = api.as_user("auth0|doctor-ada").get(f"/teleconsultation/{READY}").json()
    assert base_url(doctor["accessLinkURL"]).endswith("/Ada7Kq2Lm9")


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_records_keep_their_ids_states_dates_and_people(shape):
    run(visits=FIXTURES / f"teleconsultations.{shape}", users=FIXTURES / f"userIdMap.{shape}")

    ready, waiting = stored(READY), stored(WAITING)
    assert ready.state == State.PUBLIC and ready.kaleyra_room_id == "room_4a7c2e9f1b"
    assert (ready.start, ready.end) == (
        datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
    )
    assert [(p.external_id, p.role, p.language, p.groups) for p in ready.participants] == [
        ("auth0|doctor-ada", "plus", "it", ("doctor",)),
        ("auth0|patient-mario", "basic", "en", ("customer",)),
    ]
    assert ready.created_at == datetime(2026, 11, 15, 9, 12, 44, 321000, tzinfo=UTC)
    assert ready.updated_at == datetime(2026, 11, 15, 9, 12, 45, 2000, tzinfo=UTC)
    assert (ready.created_by, ready.updated_by) == ("auth0|doctor-ada", "auth0|doctor-ada")
    # Canonical Extended JSON: $numberInt, $date as $numberLong milliseconds.
    assert waiting.participants_number == 2 and waiting.kaleyra_room_id is None
    assert waiting.start == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert waiting.end == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    assert waiting.created_at == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert [(p.external_id, p.access_link) for p in waiting.participants] == [
        ("auth0|patient-lucia", "")
    ]
    assert stored(TRASHED).state == State.TRASH and len(stored(TRASHED).participants) == 3
    draft = stored(DRAFT)
    assert draft.state == State.DRAFT and draft.participants == ()
    assert draft.start == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def test_each_user_keeps_their_kaleyra_user_with_the_role_their_groups_grant():
    run()

    assert mapping("auth0|doctor-ada") == UserMapping("auth0|doctor-ada", "user_ada_4f2c", "plus")
    assert mapping("auth0|patient-mario").role == "basic"
    assert mapping("auth0|patient-lucia").kaleyra_user_id == "user_lucia_77aa"
    # In no teleconsultation: basic.
    assert mapping("auth0|nurse-eva") == UserMapping("auth0|nurse-eva", "user_eva_c3d0", "basic")


def test_the_run_shows_progress_and_a_summary_per_collection():
    out, err = run()

    assert "4 user map row(s) in" in out and "4 teleconsultation(s) in" in out
    assert "User map: 4 imported, 0 already there, 0 failed" in out
    assert "Teleconsultations: 4 imported, 0 already there, 0 failed" in out
    assert f"teleconsultations.jsonl:1: teleconsultation {READY}: imported" in out
    assert "Summary: 8 done, 0 partly done, 0 skipped, 0 failed" in out
    assert "progress: 8/8 (100%)" in err


def analyses(table: str) -> int:
    """How many times the planner's statistics on `table` were gathered (SQLite: rows of them,
    rolled back with the test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # not the transaction's first read
            cursor.execute(
                "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = %s", [table]
            )
            return cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = %s", [table])
        return cursor.fetchone()[0]


def planner_rows(table: str) -> float:
    """The rows the query planner believes `table` holds."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        else:  # a row per index, each starting with the table's row count
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s LIMIT 1", [table])
        return float(str(cursor.fetchone()[0]).split()[0])


def test_an_import_leaves_the_planner_knowing_what_it_loaded():
    """A cleanup right after an import is planned for the rows loaded, not for an empty table."""
    before = {table: analyses(table) for table in ("rooms_teleconsultation", "rooms_participant")}

    run()

    assert {table: analyses(table) for table in before} != before
    assert planner_rows("rooms_teleconsultation") == visit_count() == 4
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM rooms_participant")
        assert planner_rows("rooms_participant") == cursor.fetchone()[0]


def test_a_dry_run_leaves_the_statistics_alone():
    before = analyses("rooms_teleconsultation")

    run("--dry-run")

    assert analyses("rooms_teleconsultation") == before


# --- running it again, dry runs ---------------------------------------------------------------


def test_a_second_run_changes_nothing():
    run()
    before = [stored(i) for i in (READY, WAITING, TRASHED, DRAFT)]

    out, _ = run()

    assert [stored(i) for i in (READY, WAITING, TRASHED, DRAFT)] == before
    assert "User map: 0 imported, 4 already there, 0 failed" in out
    assert "Teleconsultations: 0 imported, 4 already there, 0 failed" in out
    assert f"teleconsultation {READY}: already there" in out


def test_the_array_export_of_the_same_collections_finds_everything_there():
    run()

    out, _ = run(visits=FIXTURES / "teleconsultations.json", users=FIXTURES / "userIdMap.json")

    assert "Teleconsultations: 0 imported, 4 already there, 0 failed" in out
    assert visit_count() == 4


def test_a_dry_run_checks_everything_and_stores_nothing():
    out, _ = run("--dry-run")

    assert visit_count() == 0 and mapping("auth0|doctor-ada") is None
    assert "User map: 4 would be imported, 0 already there, 0 failed" in out
    assert "Teleconsultations: 4 would be imported, 0 already there, 0 failed" in out
    assert "Dry run, nothing changed: 8 would be done" in out


def test_a_dry_run_after_an_import_finds_everything_there():
    run()

    out, _ = run("--dry-run")

    assert "Teleconsultations: 0 would be imported, 4 already there, 0 failed" in out


# --- bad records ------------------------------------------------------------------------------


def test_bad_records_are_reported_with_their_line_and_skipped_whole(tmp_path):
    good = "65b000000000000000000001"
    visits = lines(
        tmp_path,
        "teleconsultations.jsonl",
        mia_visit(good, member(), member("user_mario_9b1d", ("customer",), "Mario Bianchi")),
        "",
        '{"_id": {"$oid": "65b000000000000000000002"}, "participantsNumber": ',
        mia_visit("65b000000000000000000003", number=30),
        mia_visit("65b000000000000000000004", endDate={"$date": "2026-12-05T09:00:00Z"}),
        mia_visit("65b000000000000000000005", member(), member("user_unknown", ("customer",))),
        mia_visit("65b000000000000000000006", startDate="2026-12-05T10:00:00"),
        mia_visit("not-an-object-id"),
        mia_visit("65b000000000000000000008", member(), member(), member("user_mario_9b1d")),
        mia_visit("65b000000000000000000009", __STATE__="DELETED"),
    )
    path = str(visits)

    out, failure = run_failing(visits=visits)

    for problem in (
        f"{path}:3: not valid JSON",
        f"{path}:4: teleconsultation 65b000000000000000000003: participantsNumber: 30 is not a "
        "whole number from 2 to 25",
        f"{path}:5: teleconsultation 65b000000000000000000004: endDate: "
        "2026-12-05T09:00:00.000Z is not after startDate 2026-12-05T10:00:00.000Z",
        f"{path}:6: teleconsultation 65b000000000000000000005: participants[1].userBandyerId: "
        "'user_unknown' is not in the imported user map",
        f"{path}:7: teleconsultation 65b000000000000000000006: startDate: "
        "'2026-12-05T10:00:00' has no offset",
        f"{path}:8: teleconsultation not-an-object-id: _id: 'not-an-object-id' is not 24 "
        "lowercase hex characters",
        f"{path}:9: teleconsultation 65b000000000000000000008: participants: 3 of them, more "
        "than participantsNumber; participants[1].user 'auth0|doctor-ada' is already "
        "participants[0]",
        f"{path}:10: teleconsultation 65b000000000000000000009: __STATE__: 'DELETED' is not one "
        "of PUBLIC, DRAFT, TRASH",
    ):
        assert problem in out
    assert "Teleconsultations: 1 imported, 0 already there, 8 failed" in out
    assert "8 item(s) not done" in failure
    # Skipped whole: the record with one known and one unknown participant is not there at all.
    assert stored("65b000000000000000000005") is None
    assert visit_count() == 1 and len(stored(good).participants) == 2


def test_a_bad_element_of_an_array_is_reported_by_its_index(tmp_path):
    visits = tmp_path / "teleconsultations.json"
    elements = [
        mia_visit("65b000000000000000000001"),
        mia_visit("65b000000000000000000002", number=1),
    ]
    visits.write_text(json.dumps(elements, indent=2), encoding="utf-8")

    out, _ = run_failing(visits=visits)

    assert (
        f"{visits}[1] (line 16): teleconsultation 65b000000000000000000002: participantsNumber"
    ) in out
    assert stored("65b000000000000000000001") is not None


def test_a_broken_array_imports_nothing_at_all(tmp_path):
    visits = tmp_path / "teleconsultations.json"
    visits.write_text('[{"_id": {"$oid": "65b000000000000000000001"}}, {"_id": ', encoding="utf-8")

    _, failure = run_failing(visits=visits)

    assert f"{visits}[1]: not valid JSON" in failure and "nothing was imported" in failure
    assert mapping("auth0|doctor-ada") is None


def test_a_bad_user_map_row_fails_alone_and_so_do_the_visits_that_need_it(tmp_path):
    users = lines(
        tmp_path,
        "userIdMap.jsonl",
        {"receivedUserId": "auth0|doctor-ada", "bandyerId": "user_ada_4f2c"},
        {"receivedUserId": "auth0|patient-mario"},
        {"receivedUserId": "auth0|intruder", "bandyerId": "user_ada_4f2c"},
    )

    out, _ = run_failing(users=users)

    assert f"{users}:2: user map row: bandyerId: missing; skipped" in out
    assert f"{users}:3: user 'auth0|intruder' -> Kaleyra user user_ada_4f2c clashes with " in out
    assert "User map: 1 imported, 0 already there, 2 failed" in out
    assert "participants[1].userBandyerId: 'user_mario_9b1d' is not in the imported user map" in out
    assert stored(READY) is None and mapping("auth0|intruder") is None


def test_a_user_already_mapped_to_another_kaleyra_user_is_left_alone():
    theirs = UserMapping("auth0|patient-mario", "tc-made-by-this-service", "basic")
    get_storage().save_mappings(created=[theirs], role_changed=[])

    out, failure = run_failing()

    assert mapping("auth0|patient-mario") == theirs
    assert (
        "user 'auth0|patient-mario' -> Kaleyra user user_mario_9b1d: not imported, the user map "
        "already gives this user Kaleyra user tc-made-by-this-service"
    ) in out
    # Their visits would name a Kaleyra user the map does not know them by.
    assert stored(READY) is None and stored(TRASHED) is None
    assert stored(WAITING) is not None


def test_a_kaleyra_user_already_mapped_to_someone_else_is_not_given_twice():
    theirs = UserMapping("auth0|someone-else", "user_mario_9b1d", "basic")
    get_storage().save_mappings(created=[theirs], role_changed=[])

    out, _ = run_failing()

    assert (
        "user 'auth0|patient-mario' -> Kaleyra user user_mario_9b1d: not imported, that Kaleyra "
        "user already belongs to another user in the map"
    ) in out
    assert mapping("auth0|patient-mario") is None
    assert "User map: 3 imported, 0 already there, 1 failed" in out


def test_a_kaleyra_room_another_record_holds_fails_that_record_alone(tmp_path):
    users = FIXTURES / "userIdMap.jsonl"
    visits = lines(
        tmp_path,
        "teleconsultations.jsonl",
        mia_visit("65b000000000000000000001", member(), bandyerRoomId="room_shared"),
        mia_visit("65b000000000000000000002", member(), bandyerRoomId="room_shared"),
    )

    out, _ = run_failing(visits=visits, users=users)

    assert (
        f"{visits}:2: teleconsultation 65b000000000000000000002: clashes with what is stored" in out
    )
    assert stored("65b000000000000000000002") is None


def test_the_same_id_twice_in_a_file_is_reported(tmp_path):
    visits = lines(
        tmp_path,
        "t.jsonl",
        mia_visit("65b000000000000000000001"),
        mia_visit("65b000000000000000000001"),
    )

    out, _ = run_failing(visits=visits)

    assert (
        f"{visits}:2: teleconsultation 65b000000000000000000001: the same _id as {visits}:1" in out
    )


def test_a_dry_run_reports_bad_records_and_fails_too(tmp_path):
    visits = lines(tmp_path, "t.jsonl", mia_visit("65b000000000000000000001", number=1))

    out, failure = run_failing("--dry-run", visits=visits)

    assert f"{visits}:1: teleconsultation 65b000000000000000000001: participantsNumber" in out
    assert "1 item(s) not done" in failure and visit_count() == 0


# --- exit status, refusals ----------------------------------------------------------------------


# A command run from the command line closes the database connections when it ends, which a
# test's own transaction would not outlive (on PostgreSQL): this one commits for real.
@pytest.mark.django_db(transaction=True)
def test_the_exit_status_is_1_when_a_record_failed_and_0_otherwise(tmp_path, capsys):
    bad = lines(tmp_path, "t.jsonl", mia_visit("65b000000000000000000001", number=1))
    command = ["manage.py", "import_mia_collections", "--skip-checks", *_files(bad, None)]

    with pytest.raises(SystemExit) as exit_status:
        execute_from_command_line(command)

    assert exit_status.value.code == 1
    assert "1 item(s) not done" in capsys.readouterr().err
    execute_from_command_line(["manage.py", "import_mia_collections", *_files(None, None)])
    assert "Teleconsultations: 4 imported" in capsys.readouterr().out


def test_a_missing_file_stops_before_anything(tmp_path):
    _, failure = run_failing(visits=tmp_path / "nowhere.json")

    assert "nowhere.json: cannot be read" in failure and mapping("auth0|doctor-ada") is None


def test_the_crud_backend_needs_no_import(settings):
    settings.STORAGE_BACKEND = "crud"

    _, failure = run_failing()

    assert "STORAGE_BACKEND=crud reads Mia's collections where they are" in failure


# --- Extended JSON dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2022-02-22T15:30:00.000Z",
        "2022-02-22T16:30:00+01:00",
        {"$date": "2022-02-22T15:30:00Z"},
        {"$date": 1645543800000},
        {"$date": {"$numberLong": "1645543800000"}},
    ],
)
def test_every_date_shape_mongoexport_writes_reads_the_same(value):
    assert parse_date(value) == datetime(2022, 2, 22, 15, 30, tzinfo=UTC)
