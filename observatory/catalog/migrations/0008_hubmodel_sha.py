from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_rollup_change_log"),
    ]

    operations = [
        migrations.AddField(
            model_name="hubmodel",
            name="sha",
            field=models.CharField(blank=True, help_text="the Hub's commit sha, as last crawled", max_length=40,
                                   null=True),
        ),
    ]
