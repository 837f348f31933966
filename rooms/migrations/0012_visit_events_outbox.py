"""The outbox of visit events sent to the operator's receivers (VISIT_EVENTS_URLS)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("rooms", "0009_support_group")]

    operations = [
        migrations.CreateModel(
            name="VisitEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("event_id", models.CharField(editable=False, max_length=36)),
                ("key", models.CharField(editable=False, max_length=255)),
                ("type", models.CharField(max_length=64)),
                ("teleconsultation_id", models.CharField(blank=True, default="", max_length=24)),
                ("url", models.CharField(max_length=2048)),
                ("body", models.JSONField(default=dict)),
                (
                    "status",
                    models.CharField(
                        choices=[("pending", "Pending"), ("sent", "Sent"), ("dead", "Dead")],
                        default="pending",
                        max_length=8,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("created_at", models.DateTimeField()),
                ("next_attempt_at", models.DateTimeField()),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, default="", max_length=255)),
            ],
            options={
                "verbose_name": "visit event",
                "indexes": [
                    models.Index(fields=["status", "next_attempt_at"], name="visit_event_due"),
                    models.Index(
                        fields=["teleconsultation_id", "created_at"], name="visit_event_visit"
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=["key", "url"], name="visit_event_once")
                ],
            },
        ),
    ]
