"""The "Support" group: what support staff need in the admin, given by adding a staff user to it
(docs/operations.md, "For support staff: the admin"). Browse visits, participants, user map, room
jobs, audit trail and Kaleyra's events; run the support actions (change teleconsultation); fetch a
recording's download link. Nothing else: no user administration, no edits by hand.

Django creates permissions after the last migration, so on a fresh database they are made here
first. Forward sets the group's permissions to exactly these (running it again changes nothing);
backward leaves the group and its members alone."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Support"
PERMISSIONS = [
    ("teleconsultation", "view_teleconsultation"),
    ("teleconsultation", "change_teleconsultation"),
    ("teleconsultation", "download_recording"),
    ("participant", "view_participant"),
    ("usermapping", "view_usermapping"),
    ("roomjob", "view_roomjob"),
    ("auditentry", "view_auditentry"),
    ("webhookevent", "view_webhookevent"),
]


def create_support_group(apps, schema_editor):
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
    chosen = [
        Permission.objects.get(
            content_type__app_label="rooms", content_type__model=model, codename=code
        )
        for model, code in PERMISSIONS
    ]
    group, _created = Group.objects.get_or_create(name=GROUP)
    group.permissions.set(chosen)


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0008_teleconsultation_recording"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_support_group, migrations.RunPython.noop, elidable=False),
    ]
