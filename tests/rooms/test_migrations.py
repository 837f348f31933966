"""Data migrations: what they keep and what they erase."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _back_to_the_latest():
    """The tests after these need every migration: the database goes back to the latest."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate(to: str):
    """The database at `to` (a rooms migration); the historical models' apps there."""
    executor = MigrationExecutor(connection)
    executor.migrate([("rooms", to)])
    executor.loader.build_graph()
    return executor.loader.project_state([("rooms", to)]).apps


def test_0006_erases_the_per_item_leases_and_keeps_every_other_job():
    apps = migrate("0005_drop_teleconsultation_version")
    jobs = apps.get_model("rooms", "RoomJob").objects
    jobs.create(id="a" * 24, kind="lease", key="cleanup:65a1f0c2e4b0a1b2c3d4e5f6")
    jobs.create(id="b" * 24, kind="room_deletion", key="room_1")
    jobs.create(id="c" * 24, kind="room_intent", key="teleconsultation-room:1")

    apps = migrate("0006_drop_per_item_leases")

    kept = apps.get_model("rooms", "RoomJob").objects.values_list("kind", flat=True)
    assert sorted(kept) == ["room_deletion", "room_intent"]


def test_0013_gives_each_participant_row_its_visit_start():
    from datetime import UTC, datetime, timedelta

    apps = migrate("0012_visit_events_outbox")
    visits = apps.get_model("rooms", "Teleconsultation").objects
    people = apps.get_model("rooms", "Participant").objects
    starts = [datetime(2026, 12, 1, 10, tzinfo=UTC) + timedelta(days=day) for day in range(2)]
    for number, start in enumerate(starts):
        visit = visits.create(
            id=f"{number:024x}", participants_number=2, start=start, end=start + timedelta(hours=1)
        )
        for position in range(2):
            people.create(
                teleconsultation=visit,
                position=position,
                external_id=f"person-{position}",
                full_name="Someone",
                role="plus" if position == 0 else "basic",
                kaleyra_user_id=f"k-{number}-{position}",
            )

    apps = migrate("0013_flat_with_data_indexes")

    rows = apps.get_model("rooms", "Participant").objects.values_list(
        "teleconsultation_id", "visit_start"
    )
    assert sorted(rows) == [
        (f"{n:024x}", start) for n, start in enumerate(starts) for _ in range(2)
    ]
