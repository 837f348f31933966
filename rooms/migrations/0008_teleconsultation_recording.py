"""A visit may ask Kaleyra to record its calls (`recording`: none, manual, automatic); null, as on
every visit before this, follows KALEYRA_RECORDING. Fetching a recording's download link in the
admin takes a permission of its own."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0007_participant_kaleyra_user_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="teleconsultation",
            name="recording",
            field=models.CharField(blank=True, max_length=9, null=True),
        ),
        migrations.AlterModelOptions(
            name="teleconsultation",
            options={
                "permissions": [("download_recording", "Can fetch a recording's download link")]
            },
        ),
    ]
