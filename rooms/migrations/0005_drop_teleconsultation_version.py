"""The Django backend kept a `version` on each visit that every write bumped and nothing read: its
writes hold the row lock. Compare-and-set on `version` is the CRUD backend's, in Mia's records."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0004_webhook_events"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="teleconsultation",
            name="version",
        ),
    ]
