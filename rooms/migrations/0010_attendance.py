"""Who joined each visit's calls, and whether it was a no-show (`manage.py collect_attendance`)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0009_support_group"),
    ]

    operations = [
        migrations.CreateModel(
            name="Attendance",
            fields=[
                (
                    "teleconsultation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="attendance",
                        serialize=False,
                        to="rooms.teleconsultation",
                    ),
                ),
                ("collected_at", models.DateTimeField()),
                ("no_show", models.BooleanField(db_index=True)),
                ("attendees", models.JSONField(blank=True, default=list)),
            ],
        ),
    ]
