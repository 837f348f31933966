"""Indexes whose reads stay the same size at a million visits (docs/performance.md, "Cost flat
with data"): (start, id) for the admin's visit list, newest first, so a page and its capped count
are an index range, not a sort of the whole table; (state, end, id) in place of (state, end), so
the support commands' batches of ended visits are ranges of it in (end, id) order instead of a
walk of the primary key through every visit outside the window."""

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
        migrations.AddIndex(
            model_name="teleconsultation",
            index=models.Index(fields=["state", "end", "id"], name="tc_state_end_id"),
        ),
        migrations.RemoveIndex(model_name="teleconsultation", name="tc_state_end"),
    ]
