"""The audit trail: one entry per API write, join-link hand-out, support operation and command
run; read back, exported and purged through storage."""

import csv
import io
import json
import logging
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rooms.domain import AuditEntry
from rooms.services import audit
from rooms.storage import get_storage
from rooms.storage.django import DjangoStorage
from tests.rooms.conftest import NOW, START, audit_trail, doctor, patient, stored

pytestmark = [pytest.mark.django_db]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
AFTER_THE_VISITS = NOW + timedelta(days=3)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The admin pages log a staff user in; the production hasher would cost most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def trail(action: str | None = None) -> list[AuditEntry]:
    return audit_trail(action)


def only(action: str) -> AuditEntry:
    (entry,) = trail(action)
    return entry


def tick(clock) -> None:
    """Entries recorded at the same instant are ordered by id; a second apart, by time."""
    clock.shift(timedelta(seconds=1))


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- the API -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("storage_backend")
def test_an_api_write_is_recorded_on_either_storage_backend(api, create, simulator):
    visit = create([doctor(), patient()])
    entry = only(audit.CREATE)
    assert (entry.action, entry.teleconsultation_id, entry.outcome) == (audit.CREATE, visit, "201")


def test_create_records_who_what_when_and_from_which_request_and_client(api):
    api.as_user("doctor-1", ("doctor",), **{"client-type": "web-app", "x-request-id": "req-1"})
    response = api.post(
        "/teleconsultation",
        {
            "participants": {"number": 3, "data": [doctor(), patient()]},
            "start_date": "2026-12-01T10:00:00Z",
            "duration_in_seconds": 1800,
        },
        format="json",
    )
    assert response.status_code == 201
    entry = only(audit.CREATE)
    assert entry.actor == "doctor-1"
    assert entry.teleconsultation_id == response.json()["roomId"]
    assert entry.outcome == "201"
    assert entry.request_id == "req-1" == response["x-request-id"]
    assert entry.client_type == "web-app"
    assert entry.at == NOW
    assert entry.detail == {"participantsNumber": 3, "participantsKnown": 2}


def test_a_refused_create_is_recorded_with_its_status_and_no_id(api):
    body = {
        "participants": {"number": 2, "data": [patient("a"), patient("b")]},
        "start_date": "2026-12-01T10:00:00Z",
        "duration_in_seconds": 1800,
    }
    assert api.post("/teleconsultation", body, format="json").status_code == 400
    entry = only(audit.CREATE)
    assert (entry.outcome, entry.teleconsultation_id, entry.actor) == ("400", "", "public")


def test_malformed_json_is_recorded_as_a_400_too(api):
    response = api.post("/teleconsultation", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert only(audit.CREATE).outcome == "400"


def test_patch_records_which_fields_changed_and_a_locked_refusal(api, visit, settings, clock):
    api.as_user("doctor-1")
    moved = {"start_date": "2026-12-01T11:00:00Z"}
    assert api.patch(f"/teleconsultation/{visit}", moved, format="json").status_code == 204
    tick(clock)
    settings.IMMUTABLE_PERIOD_MS = 60 * 60 * 1000
    clock.move_to(START)
    assert api.patch(f"/teleconsultation/{visit}", moved, format="json").status_code == 409
    done, refused = trail(audit.UPDATE)
    assert (done.outcome, done.detail, done.teleconsultation_id) == (
        "204",
        {"fields": ["start_date"]},
        visit,
    )
    assert (refused.outcome, refused.teleconsultation_id) == ("409", visit)


def test_adding_a_participant_records_their_id_and_refusals(api, create, clock):
    room_id = create([doctor()], number=2)
    url = f"/teleconsultation/{room_id}/participants/data"
    assert api.post(url, patient("patient-7"), format="json").status_code == 201
    tick(clock)
    assert api.post(url, patient("patient-8"), format="json").status_code == 409
    added, refused = trail(audit.PARTICIPANT_ADD)
    assert (added.outcome, added.detail) == ("201", {"userExternalId": "patient-7"})
    assert (refused.outcome, refused.teleconsultation_id) == ("409", room_id)


def test_delete_and_a_repeated_delete_are_recorded(api, visit, clock):
    api.as_user("doctor-1")
    assert api.delete(f"/teleconsultation/{visit}").status_code == 204
    tick(clock)
    assert api.delete(f"/teleconsultation/{visit}").status_code == 404
    assert [(e.outcome, e.teleconsultation_id) for e in trail(audit.DELETE)] == [
        ("204", visit),
        ("404", visit),
    ]


def test_an_id_that_cannot_exist_is_kept_out_of_the_trail(api):
    assert api.delete("/teleconsultation/not-an-id").status_code == 404
    entry = only(audit.DELETE)
    assert (entry.outcome, entry.teleconsultation_id) == ("404", "")


def test_uploads_deletion_records_its_counts(api, visit, simulator, settings, clock):
    api.delete(f"/teleconsultation/{visit}/uploads")  # disabled: 204, nothing done
    tick(clock)
    settings.TELECONSULTATION_DELETE_UPLOADS = True
    simulator.add_upload(stored(visit).kaleyra_room_id)
    api.delete(f"/teleconsultation/{visit}/uploads")
    nothing_done, deleted = trail(audit.UPLOADS_DELETE)
    assert (nothing_done.outcome, nothing_done.detail) == ("204", {})
    assert (deleted.outcome, deleted.detail) == ("200", {"total": 1, "deleted": 1})


def test_a_join_link_hand_out_is_recorded_but_not_a_null_link_or_a_refusal(api, visit, clock):
    api.as_user("patient-1", **{"client-type": "ios"})
    assert api.get(f"/teleconsultation/{visit}").json()["accessLinkURL"] is None  # too early
    assert api.as_user("stranger").get(f"/teleconsultation/{visit}").status_code == 401
    assert trail(audit.LINK_HANDED_OUT) == []
    clock.move_to(START)
    api.as_user("patient-1", **{"client-type": "ios"})
    response = api.get(f"/teleconsultation/{visit}")
    assert response.json()["accessLinkURL"]
    entry = only(audit.LINK_HANDED_OUT)
    assert (entry.actor, entry.teleconsultation_id, entry.outcome) == ("patient-1", visit, "200")
    assert (entry.client_type, entry.request_id, entry.at) == (
        "ios",
        response["x-request-id"],
        START,
    )


def test_no_entry_holds_a_name_or_a_link(api, visit, clock, admin_client):
    clock.move_to(START)
    link = api.as_user("patient-1").get(f"/teleconsultation/{visit}").json()["accessLinkURL"]
    api.as_user("doctor-1").patch(
        f"/teleconsultation/{visit}",
        {"participants": {"number": 2, "data": [doctor(), patient("p2", full_name="Eva Verdi")]}},
        format="json",
    )
    admin_client.post(
        "/admin/rooms/teleconsultation/",
        {"action": "move_to_trash", "_selected_action": [visit], "post": "yes"},
    )
    written = json.dumps([e.__dict__ for e in trail()], default=str)
    assert len(trail()) >= 4
    for secret in ("Mario Bianchi", "Dr. Ada", "Eva Verdi", link.split("?")[0]):
        assert secret not in written


def test_an_audit_failure_never_fails_the_request(api, monkeypatch, caplog):
    def broken(self, entry):
        raise RuntimeError("audit table gone")

    monkeypatch.setattr(DjangoStorage, "record_audit", broken)
    body = {
        "participants": {"number": 2, "data": [doctor(), patient()]},
        "start_date": "2026-12-01T10:00:00Z",
        "duration_in_seconds": 1800,
    }
    before = lost_entries("RuntimeError")
    with caplog.at_level(logging.ERROR, logger="teleconsultation.audit"):
        response = api.post("/teleconsultation", body, format="json")
    assert response.status_code == 201
    (line,) = [r for r in caplog.records if r.name == "teleconsultation.audit"]
    assert line.levelno == logging.ERROR
    visit = response.json()["roomId"]
    assert (
        line.getMessage() == f"Audit entry not recorded: {audit.CREATE} on {visit} (RuntimeError)"
    )
    assert lost_entries("RuntimeError") == before + 1


def lost_entries(reason: str) -> float:
    from prometheus_client import REGISTRY

    labels = {"reason": reason}
    return REGISTRY.get_sample_value("teleconsultation_audit_write_failures_total", labels) or 0


# --- what a caller sent, stored whatever it holds -------------------------------------------------

# JSON escapes as a client types them: each decodes to a character no backend stores as it is
# (NUL: PostgreSQL's text and jsonb refuse it; a lone surrogate: no UTF-8 encoder takes it).
UNSTORABLE = {"NUL": "\\u0000", "lone high surrogate": "\\ud800", "lone low surrogate": "\\udc80"}


def raw_participant(external_id_json: str) -> str:
    return '{"userExternalId": "patient' + external_id_json + '", "groups": ["customer"]}'


@pytest.mark.usefixtures("storage_backend")
@pytest.mark.parametrize("typed", UNSTORABLE.values(), ids=UNSTORABLE)
def test_a_participant_s_unstorable_id_is_a_400_and_in_the_trail_as_typed(api, create, typed):
    room_id = create([doctor()], number=2)
    api.as_user("doctor-1", ("doctor",))
    response = api.post(
        f"/teleconsultation/{room_id}/participants/data",
        raw_participant(typed),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    entry = only(audit.PARTICIPANT_ADD)
    assert (entry.outcome, entry.actor, entry.teleconsultation_id) == ("400", "doctor-1", room_id)
    # Written as the JSON escape the client sent, as text: the trail shows what was tried.
    assert entry.detail == {"userExternalId": "patient" + typed}


STRANGER_BODIES = {
    "valid": json.dumps(patient("newcomer")),
    **{name: raw_participant(typed) for name, typed in UNSTORABLE.items()},
    "10 KB id": json.dumps(patient("x" * 10240)),
    "not JSON": "{not json",
    "not an object": "[]",
}


@pytest.mark.usefixtures("storage_backend")
@pytest.mark.parametrize("content", STRANGER_BODIES.values(), ids=STRANGER_BODIES)
def test_a_stranger_gets_the_same_refusal_whatever_the_body_and_is_in_the_trail(
    api, create, clock, content
):
    room_id = create([doctor()], number=2)
    url = f"/teleconsultation/{room_id}/participants/data"
    response = api.as_user("stranger", ("customer",)).post(
        url, content, content_type="application/json"
    )
    assert response.status_code == 403, response.content
    assert response.json()["message"] == (
        f"User stranger may not change teleconsultation {room_id}: only its plus participants, "
        "an admin group or the back office may"
    )
    tick(clock)
    response = api.anonymous().post(url, content, content_type="application/json")
    assert (response.status_code, response.json()["message"]) == (401, "Unauthorized user")
    refused, anonymous = trail(audit.PARTICIPANT_ADD)
    assert (refused.outcome, refused.actor, refused.teleconsultation_id) == (
        "403",
        "stranger",
        room_id,
    )
    assert (anonymous.outcome, anonymous.actor, anonymous.teleconsultation_id) == (
        "401",
        "public",
        room_id,
    )
    assert stored(room_id).participant("newcomer") is None


@pytest.mark.usefixtures("storage_backend")
def test_a_10_kb_id_is_in_the_trail_cut_with_its_length(api, create):
    room_id = create([doctor()], number=2)
    api.as_user("doctor-1", ("doctor",))
    response = api.post(
        f"/teleconsultation/{room_id}/participants/data",
        patient("x" * 10240),
        format="json",
    )
    assert response.status_code == 400
    kept = only(audit.PARTICIPANT_ADD).detail["userExternalId"]
    assert len(kept) == audit.DETAIL_LIMIT
    assert kept == "x" * (audit.DETAIL_LIMIT - 14) + "…[10240 chars]"


@pytest.mark.usefixtures("storage_backend")
def test_every_field_of_an_entry_is_stored_whatever_it_holds():
    nul, surrogate, long = "a\x00b", "c\ud800d", "e" * 10240
    with audit.channel(f"app{surrogate}", request_id=f"run{nul}"):
        audit.record(
            f"act{nul}",
            actor=f"user{surrogate}{long}",
            outcome=f"4{nul}",
            detail={
                f"key{nul}": [surrogate, {"nested": long}, float("nan"), 7, None, True],
                "more": {f"k{n}": n for n in range(150)},
            },
        )
    (entry,) = trail()
    assert entry.action == "act" + "a\\u0000b"
    assert entry.actor.startswith("userc\\ud800d" + "e" * 100)
    assert entry.actor.endswith("…[10252 chars]") and len(entry.actor) == 255
    assert (entry.outcome, entry.client_type, entry.request_id) == (
        "4a\\u0000b",
        "appc\\ud800d",
        "runa\\u0000b",
    )
    listed = entry.detail["keya\\u0000b"]
    assert listed[0] == "c\\ud800d"
    assert listed[1]["nested"].endswith("…[10240 chars]") and len(listed[1]["nested"]) == 512
    assert listed[2:] == ["nan", 7, None, True]
    assert len(entry.detail["more"]) == audit.DETAIL_ITEMS


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("plain id-1", "plain id-1"),
        ("tab\there\nand\x1b[31m", "tab\\u0009here\\u000aand\\u001b[31m"),
        ("del\x7f", "del\\u007f"),
        ("pair \U0001f600 kept", "pair \U0001f600 kept"),
        ("é ü ß", "é ü ß"),
    ],
)
def test_storable_escapes_controls_and_keeps_every_valid_character(text, kept):
    assert audit.storable(text) == kept


def test_storable_cuts_at_the_limit_and_says_how_long_it_was():
    assert audit.storable("x" * 20, limit=20) == "x" * 20
    assert audit.storable("x" * 21, limit=20) == "x" * 9 + "…[21 chars]"


def test_an_unexpected_error_is_recorded_as_a_500(api, visit, monkeypatch):
    from rooms.services import lifecycle

    def crash(**kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(lifecycle, "teleconsultation_delete", crash)
    assert api.delete(f"/teleconsultation/{visit}").status_code == 500
    assert only(audit.DELETE).outcome == "500"


# --- the admin -----------------------------------------------------------------------------------


def admin_action(client, action: str, *teleconsultation_ids: str):
    return client.post(
        "/admin/rooms/teleconsultation/",
        # Confirmed, as the confirmation page's form sends it.
        {"action": action, "_selected_action": list(teleconsultation_ids), "post": "yes"},
        HTTP_X_REQUEST_ID="admin-req",
    )


@pytest.mark.parametrize(
    ("action", "recorded"),
    [
        ("move_to_trash", audit.DELETE),
        ("delete_uploads", audit.UPLOADS_DELETE),
        ("recreate_room", audit.ROOM_RECREATE),
    ],
)
def test_admin_actions_are_recorded_with_the_staff_user(admin_client, visit, action, recorded):
    admin_action(admin_client, action, visit)
    entry = only(recorded)
    assert entry.actor == "admin:admin"
    assert entry.teleconsultation_id == visit
    assert (entry.client_type, entry.request_id) == ("admin", "admin-req")
    assert entry.outcome in ("done", "skipped")
    assert visit in entry.detail["message"]


def test_a_failed_admin_action_is_recorded_as_failed(admin_client, visit, simulator):
    simulator.fail_next("create_room", mode="500", times=10)
    admin_action(admin_client, "recreate_room", visit)
    assert only(audit.ROOM_RECREATE).outcome == "failed"


def test_the_detail_page_lists_that_visits_entries_only(admin_client, api, visit, create):
    other = create([doctor("doctor-2"), patient("patient-2")])
    api.as_user("doctor-1", **{"x-request-id": "req-patch"}).patch(
        f"/teleconsultation/{visit}", {"duration_in_seconds": 900}, format="json"
    )
    page = admin_client.get(f"/admin/rooms/teleconsultation/{visit}/change/").content.decode()
    section = page[page.index('id="audit-trail"') :]
    assert audit.CREATE in section and audit.UPDATE in section and "req-patch" in section
    assert other not in section
    page = admin_client.get(f"/admin/rooms/teleconsultation/{other}/change/").content.decode()
    assert audit.UPDATE not in page[page.index('id="audit-trail"') :]


def test_the_whole_trail_is_listed_read_only(admin_client, visit):
    page = admin_client.get("/admin/rooms/auditentry/").content.decode()
    assert audit.CREATE in page and visit in page
    entry = only(audit.CREATE)
    assert admin_client.get(f"/admin/rooms/auditentry/{entry.id}/delete/").status_code == 403
    assert admin_client.get("/admin/rooms/auditentry/add/").status_code == 403
    admin_client.post(f"/admin/rooms/auditentry/{entry.id}/change/", {"outcome": "999"})
    assert only(audit.CREATE).outcome == "201"


# --- commands ------------------------------------------------------------------------------------


def test_a_command_run_records_each_item_and_one_summary_with_its_own_request_id(visit, clock):
    clock.move_to(AFTER_THE_VISITS)
    run("cleanup_teleconsultations", "--older-than-days", "1")
    item = only(audit.DELETE)
    summary = only("command.cleanup_teleconsultations")
    assert (item.actor, item.client_type, item.outcome) == (
        "cleanup_teleconsultations",
        "command",
        "done",
    )
    assert item.teleconsultation_id == visit
    assert summary.request_id == item.request_id != ""
    assert summary.request_id.startswith("cleanup_teleconsultations-")
    assert summary.outcome == "done"
    assert summary.detail == {
        "total": 1,
        "done": 1,
        "partlyDone": 0,
        "skipped": 0,
        "failed": 0,
        "stopped": False,
        "idempotencyKeysErased": 0,
    }


def test_a_failing_run_is_recorded_as_failed(visit, clock, simulator):
    clock.move_to(AFTER_THE_VISITS)
    simulator.fail_next("delete_room", mode="500", times=10)
    with pytest.raises(CommandError):
        run("cleanup_teleconsultations", "--older-than-days", "1")
    assert only(audit.DELETE).outcome == "partly done"
    summary = only("command.cleanup_teleconsultations")
    assert summary.outcome == "failed" and summary.detail["partlyDone"] == 1


def test_erasing_trashed_visits_is_recorded_per_visit(api, visit, clock):
    api.delete(f"/teleconsultation/{visit}")
    clock.move_to(NOW + timedelta(days=40))
    run("cleanup_teleconsultations", "--purge-trash-older-than-days", "30")
    entry = only(audit.ERASE)
    assert (entry.teleconsultation_id, entry.outcome) == (visit, "done")


def test_delete_uploads_and_reconcile_runs_are_recorded(visit, simulator, clock):
    simulator.add_upload(stored(visit).kaleyra_room_id)
    run("delete_uploads", "--room", visit, "--force")
    item = only(audit.UPLOADS_DELETE)
    assert (item.actor, item.outcome, item.teleconsultation_id) == ("delete_uploads", "done", visit)
    assert only("command.delete_uploads").detail["done"] == 1
    run("reconcile_rooms")
    assert only("command.reconcile_rooms").outcome == "done"


def test_a_dry_run_is_recorded_as_such_and_touches_nothing(visit, clock):
    clock.move_to(AFTER_THE_VISITS)
    run("cleanup_teleconsultations", "--older-than-days", "1", "--dry-run")
    assert trail(audit.DELETE) == []
    assert only("command.cleanup_teleconsultations").outcome == "dry run"


# --- retention -----------------------------------------------------------------------------------


def test_retention_erases_entries_older_than_the_cut_off_only(visit, clock):
    # The visit's creation entry is at NOW; 30 days later, one more, exactly at the cut-off.
    clock.move_to(NOW + timedelta(days=30))
    audit.record("probe", actor="test", outcome="done")
    clock.move_to(NOW + timedelta(days=40))
    out = run("cleanup_teleconsultations", "--audit-older-than-days", "10", "--dry-run")
    assert "would erase the audit entries recorded before 2026-12-31 08:00:00+00:00" in out
    assert len(trail(audit.CREATE)) == 1
    out = run("cleanup_teleconsultations", "--audit-older-than-days", "10")
    assert "1 audit entries recorded before 2026-12-31 08:00:00+00:00 erased" in out
    assert trail(audit.CREATE) == [] and len(trail("probe")) == 1
    (erasing_run,) = [e for e in trail("command.cleanup_teleconsultations") if e.outcome == "done"]
    assert erasing_run.detail["auditEntriesErased"] == 1


def test_purge_keeps_an_entry_recorded_exactly_at_the_cut_off(db):
    storage = get_storage()
    storage.record_audit(AuditEntry(action="edge", actor="t", outcome="done", at=NOW))
    assert storage.purge_audit(NOW) == 0
    assert storage.purge_audit(NOW + timedelta(microseconds=1)) == 1


# --- reading back --------------------------------------------------------------------------------


def test_entries_are_keyset_paged_even_when_they_share_a_time(db):
    storage = get_storage()
    for n in range(5):
        storage.record_audit(AuditEntry(action=f"a{n}", actor="t", outcome="done", at=NOW))
    storage.record_audit(AuditEntry(action="late", actor="t", outcome="done", at=START))
    batches = list(storage.audit_entries(since=NOW, batch_size=2))
    assert [len(batch) for batch in batches] == [2, 2, 2]
    entries = [entry for batch in batches for entry in batch]
    assert [entry.id for entry in entries[:5]] == sorted(entry.id for entry in entries[:5])
    assert entries[-1].action == "late"
    assert [e.action for b in storage.audit_entries(since=NOW, until=START) for e in b] != []
    assert all(e.action != "late" for b in storage.audit_entries(since=NOW, until=START) for e in b)
    assert [e.action for b in storage.audit_entries(since=START) for e in b] == ["late"]


def test_entries_of_one_visit(db):
    storage = get_storage()
    storage.record_audit(
        AuditEntry(action="x", actor="t", outcome="done", teleconsultation_id="a" * 24, at=NOW)
    )
    storage.record_audit(
        AuditEntry(action="y", actor="t", outcome="done", teleconsultation_id="b" * 24, at=NOW)
    )
    mine = storage.audit_entries(since=EPOCH, teleconsultation_id="a" * 24)
    assert [entry.action for batch in mine for entry in batch] == ["x"]


# --- export_audit --------------------------------------------------------------------------------


def export(*args) -> str:
    out = StringIO()
    call_command("export_audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_export_writes_json_lines(api, visit, clock):
    tick(clock)
    api.as_user("doctor-1", **{"client-type": "web"}).delete(f"/teleconsultation/{visit}")
    tick(clock)  # the export ends (excluded) at the time it starts
    lines = export("--since", "2026-12-01T00:00:00Z", "--format", "jsonl").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["action"] for row in rows] == [audit.CREATE, audit.DELETE]
    assert rows[1] == {
        "time": "2026-12-01T08:00:01.000Z",
        "actor": "doctor-1",
        "action": audit.DELETE,
        "teleconsultation_id": visit,
        "outcome": "204",
        "request_id": rows[1]["request_id"],
        "client_type": "web",
        "detail": {},
        "id": rows[1]["id"],
    }


def test_export_writes_csv_with_a_header_and_neutralises_formulas(visit, clock):
    tick(clock)
    audit.record("probe", actor="=HYPERLINK(1)", outcome="done", detail={"n": 1})
    tick(clock)
    text = export("--since", "2026-12-01T00:00:00Z", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["action"] for row in rows] == [audit.CREATE, "probe"]
    assert rows[0]["teleconsultation_id"] == visit and rows[0]["outcome"] == "201"
    assert rows[1]["actor"] == "'=HYPERLINK(1)"
    assert json.loads(rows[1]["detail"]) == {"n": 1}


def test_export_bounds_by_period_and_visit_and_writes_a_file(visit, create, clock, tmp_path):
    clock.move_to(NOW + timedelta(hours=1))
    other = create([doctor("d2"), patient("p2")])  # recorded at 09:00Z
    since = ["--since", "2026-12-01T08:00:00Z", "--format", "jsonl"]

    def visits_in(text: str) -> list[str]:
        rows = [json.loads(line) for line in text.splitlines()]
        return [row["teleconsultation_id"] for row in rows if row["action"] != audit.EXPORT]

    # --since is included, --until excluded, offsets honoured.
    assert visits_in(export(*since, "--until", "2026-12-01T10:00:00+01:00")) == [visit]
    assert visits_in(export(*since, "--until", "2026-12-01T09:00:00.001Z")) == [visit, other]
    tick(clock)  # without --until, the export ends (excluded) at the time it starts
    assert visits_in(export(*since, "--room", other)) == [other]
    path = tmp_path / "audit.jsonl"
    assert export(*since, "--output", str(path)) == ""
    assert visits_in(path.read_text()) == [visit, other]


def test_export_streams_a_batch_before_reading_the_next(visit, monkeypatch, clock):
    for n in range(4):  # with the visit's creation: 5 entries, 3 batches of 2
        audit.record(f"probe-{n}", actor="t", outcome="done")
    tick(clock)
    out = StringIO()
    written_before_each_batch = []
    real = DjangoStorage.audit_entries

    def watched(self, **kwargs):
        for batch in real(self, **kwargs):
            written_before_each_batch.append(len(out.getvalue().splitlines()))
            yield batch

    monkeypatch.setattr(DjangoStorage, "audit_entries", watched)
    call_command(
        "export_audit",
        "--since",
        "2026-12-01T00:00:00Z",
        "--format",
        "jsonl",
        "--batch-size",
        "2",
        stdout=out,
    )
    assert written_before_each_batch == [0, 2, 4]


def test_an_export_is_itself_recorded(visit, clock):
    tick(clock)
    export("--since", "2026-12-01T00:00:00Z", "--format", "csv")
    entry = only(audit.EXPORT)
    assert (entry.actor, entry.client_type) == ("export_audit", "command")
    assert entry.detail == {
        "since": "2026-12-01T00:00:00.000Z",
        "until": "2026-12-01T08:00:01.000Z",
        "format": "csv",
        "entries": 1,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-12-02T00:00:00Z", "--until", "2026-12-01T00:00:00Z"], "earlier"),
        (["--since", "2026-12-01T00:00:00Z", "--room", "nope"], "not a teleconsultation id"),
    ],
)
def test_export_refuses_bad_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        export(*args, "--format", "jsonl")
