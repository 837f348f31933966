"""The support commands no longer take a lease on each item, but one lock per run (`run_lock`): the
`lease` room jobs that runs which died left behind mean nothing any more, and are erased."""

from django.db import migrations


def erase_leases(apps, schema_editor):
    apps.get_model("rooms", "RoomJob").objects.filter(kind="lease").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0005_drop_teleconsultation_version"),
    ]

    operations = [
        migrations.RunPython(erase_leases, migrations.RunPython.noop),
    ]
