"""The outbox of visit events sent to the operator's receivers (VISIT_EVENTS_URLS), which the
"Support" group may see and send again (its "retry" action: `change_visitevent`)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

SUPPORT = [("visitevent", "view_visitevent"), ("visitevent", "change_visitevent")]


def grant_support(apps, schema_editor):
    rooms = apps.get_app_config("rooms")
    # create_permissions skips an app without a models module, which the migration's stub lacks.
    models_module = getattr(rooms, "models_module", None)
    rooms.models_module = True
    try:
        create_permissions(rooms, apps=apps, verbosity=0)
    finally:
        rooms.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Support").first()
    if group is None:  # removed by the operator: left so
        return
    group.permissions.add(
        *(
            Permission.objects.get(
                content_type__app_label="rooms", content_type__model=model, codename=code
            )
            for model, code in SUPPORT
        )
    )


class Migration(migrations.Migration):
    dependencies = [("rooms", "0011_calendar_feeds")]

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
        migrations.RunPython(grant_support, migrations.RunPython.noop, elidable=False),
    ]
