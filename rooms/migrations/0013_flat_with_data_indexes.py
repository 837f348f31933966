"""Reads that stay the same size at a million visits (docs/performance.md, "Cost flat with data"):

- (start, id) for the admin's visit list, newest first: a page and its capped count are an index
  range, not a sort of the whole table;
- (state, end, id) in place of (state, end): the support commands' batches of ended visits are
  ranges of it in (end, id) order, not a walk of the primary key through every other visit;
- each participant row carries its visit's start (`visit_start`, filled here from the visits, one
  UPDATE), and (external_id, visit_start, teleconsultation) replaces (external_id): a page of a
  person's agenda is a range of it, however many visits they or anyone else have.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_visit_start(apps, schema_editor):
    Participant = apps.get_model("rooms", "Participant")
    Teleconsultation = apps.get_model("rooms", "Teleconsultation")
    start = Teleconsultation.objects.filter(pk=OuterRef("teleconsultation_id")).values("start")
    Participant.objects.update(visit_start=Subquery(start[:1]))


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
        migrations.AddField(
            model_name="participant",
            name="visit_start",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(fill_visit_start, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="participant",
            name="visit_start",
            field=models.DateTimeField(),
        ),
        migrations.AddIndex(
            model_name="participant",
            index=models.Index(
                fields=["external_id", "visit_start", "teleconsultation"], name="participant_agenda"
            ),
        ),
        migrations.RemoveIndex(model_name="participant", name="participant_external_id"),
    ]
