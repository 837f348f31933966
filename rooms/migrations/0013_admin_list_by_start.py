"""The admin's visit list shows the newest visits first (ordering -start, -id): an index on
(start, id), so a page and its capped count are an index range, not a sort of the whole table
(docs/performance.md, "Cost flat with data")."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0012_visit_events_outbox"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="teleconsultation",
            index=models.Index(fields=["start", "id"], name="tc_start"),
        ),
    ]
