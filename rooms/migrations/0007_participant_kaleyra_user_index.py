"""Kaleyra's user details lookups ask for participants by Kaleyra user id
(`DjangoStorage.display_names`): an index on it, so a lookup reads a user's rows, not the table."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0006_drop_per_item_leases"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="participant",
            index=models.Index(fields=["kaleyra_user_id"], name="participant_kaleyra_user"),
        ),
    ]
