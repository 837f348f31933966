"""Calendar feeds (GET /calendar/<secret>.ics): each person's feed, found by its secret's hash, and
a per-visit change counter again, `version`, that every write bumps: 0005 dropped it when nothing
read it; the events' SEQUENCE reads it now. Visits written before start at 1."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0010_attendance"),
    ]

    operations = [
        migrations.CreateModel(
            name="CalendarFeed",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("external_id", models.CharField(max_length=255, unique=True)),
                ("secret_hash", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "verbose_name": "calendar feed",
            },
        ),
        migrations.AddField(
            model_name="teleconsultation",
            name="version",
            field=models.PositiveIntegerField(default=1),
        ),
    ]
