"""Every query on the paths whose cost must not grow with the data (docs/performance.md, "Cost
flat with data") is answered through an index: the real code path runs, its queries are captured,
then each is EXPLAINed on PostgreSQL, and a sequential scan of one of the service's tables fails.

The tables here hold a handful of rows, and for a handful of rows the planner rightly prefers a
sequential scan, which would prove nothing. So the test's transaction turns that preference off
(`SET LOCAL enable_seqscan = off`): the planner then takes any index that can answer, and a
sequential scan is left only where none can. A query no index answers may also walk a whole index
for its ORDER BY (an Index Scan with no Index Cond), which is as bad at a million rows: that fails
too, unless a Limit above stops it and nothing is filtered on the way (a page of the admin list
read newest first). What an index condition selects is not judged here: `make bench-scale`
measures that.
`make bench-scale` measures the same paths at 1,000,000 visits against 10,000.

PostgreSQL only: the plans are PostgreSQL's (skipped on SQLite; run in the PostgreSQL leg).
"""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rooms.admin.screens import TeleconsultationAdmin
from rooms.models import Participant
from tests.rooms.conftest import NOW, START, doctor, patient

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

LIST = "/admin/rooms/teleconsultation/"
EXPLAINED = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
INDEX_SCANS = ("Index Scan", "Index Only Scan")


def full_scans(sql: str) -> list[str]:
    """The service's tables (rooms_*) the plan of `sql` reads in full: by sequential scan, or
    by walking a whole index (no Index Cond) with no Limit above to stop it, or filtering as it
    goes."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        (plan,) = cursor.fetchone()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found, nodes = [], [(plan[0]["Plan"], False)]
    while nodes:
        node, limited = nodes.pop()
        limited = limited or node["Node Type"] == "Limit"
        nodes.extend((child, limited) for child in node.get("Plans", []))
        relation = node.get("Relation Name", "")
        if not relation.startswith("rooms_"):
            continue
        whole_index = node["Node Type"] in INDEX_SCANS and "Index Cond" not in node
        # Under a Limit, a walk stops after a page, unless it filters: then it reads on until
        # enough rows pass (an id-order walk through every visit outside a window).
        if node["Node Type"] == "Seq Scan" or (whole_index and (not limited or "Filter" in node)):
            found.append(f"{node['Node Type']} on {relation}")
    return found


def assert_indexed(action) -> list[str]:
    """Runs `action`; fails naming each query of it that reads a rooms_* table in full."""
    with CaptureQueriesContext(connection) as captured:
        action()
    statements = [query["sql"] for query in captured.captured_queries]
    statements = [sql for sql in statements if sql.lstrip().upper().startswith(EXPLAINED)]
    assert statements, "the path ran no query: nothing was checked"
    unindexed = [(scans, sql) for sql in statements if (scans := full_scans(sql))]
    assert not unindexed, "\n\n".join(f"{scans}: {sql}" for scans, sql in unindexed)
    return statements


@pytest.fixture
def visits(create):
    """Three visits of doctor-1 with patient-1, an hour apart, and one of someone else's."""
    made = [
        create([doctor(), patient(full_name="Mario Bianchi")], start=START + timedelta(hours=hour))
        for hour in range(3)
    ]
    create([doctor("doctor-2"), patient("patient-2")])
    return made


def test_the_check_fails_on_a_query_no_index_answers(visits):
    with pytest.raises(AssertionError, match="Index Scan on rooms_participant"):
        assert_indexed(lambda: list(Participant.objects.filter(full_name="Mario Bianchi")))


def test_a_get_reads_by_index_on_a_cache_miss_and_a_hit(api, visits, simulator, settings):
    def get():
        response = api.as_user("patient-1").get(f"/teleconsultation/{visits[0]}")
        assert response.status_code == 200, response.json()

    settings.KALEYRA_ROOM_DETAILS_TTL_SECONDS = 0
    assert_indexed(get)
    settings.KALEYRA_ROOM_DETAILS_TTL_SECONDS = 30
    get()
    assert_indexed(get)


def test_the_agenda_reads_its_first_and_a_later_page_by_index(api, visits):
    pages = []

    def page(**query):
        response = api.as_user("doctor-1").get("/teleconsultation", {"limit": 1, **query})
        assert response.status_code == 200, response.json()
        pages.append(response.json())

    assert_indexed(page)
    assert_indexed(lambda: page(cursor=pages[0]["next"]))
    assert [entry["roomId"] for p in pages for entry in p["data"]] == visits[:2]


def test_the_admin_list_and_its_search_by_participant_id_read_by_index(
    admin_client, visits, monkeypatch
):
    # Pages of 2, so the list is more than one page as it is in service (a list that fits on a
    # page is read whole, without the LIMIT).
    monkeypatch.setattr(TeleconsultationAdmin, "list_per_page", 2)

    def listed(**query) -> list[str]:
        response = admin_client.get(LIST, query)
        assert response.status_code == 200
        return [visit.id for visit in response.context["cl"].result_list]

    assert_indexed(listed)
    assert_indexed(lambda: listed(q="patient-1"))
    assert listed(q="patient-1") == visits[:0:-1]  # newest first, a page of 2


def test_exporting_a_day_of_audit_entries_reads_by_index(visits, clock):
    clock.move_to(NOW + timedelta(hours=1))
    since = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.StringIO()
    assert_indexed(
        lambda: call_command("export_audit", "--since", since, "--format", "jsonl", stdout=out)
    )
    assert out.getvalue().count('"teleconsultation.create"') == 4


def test_the_cleanup_reads_and_writes_by_index(visits, clock):
    clock.move_to(START + timedelta(days=2))
    out = io.StringIO()
    assert_indexed(
        lambda: call_command(
            "cleanup_teleconsultations", "--older-than-days", "1", "--concurrency", "1", stdout=out
        )
    )
    assert "Summary: 4 done" in out.getvalue()
