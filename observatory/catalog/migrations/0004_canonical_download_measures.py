# The canonical download measures (ingest.download_measures) and the data-quality ledger.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0003_lean_ingest_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="downloadsnapshot",
            name="cumulative_kind",
            field=models.CharField(
                choices=[("all-time", "The Hub's own all-time count"),
                         ("estimated", "Estimated all-time count (coverage from release)"),
                         ("lower-bound", "Downloads since coverage began: a lower bound of the all-time count")],
                default="all-time", db_default="all-time", max_length=16),
        ),
        migrations.AddField(
            model_name="downloadsnapshot",
            name="downloads_day",
            field=models.FloatField(blank=True, help_text="Canonical downloads on this day (estimated for the daily series)",
                                    null=True),
        ),
        migrations.AddField(
            model_name="downloadsnapshot",
            name="raw_value",
            field=models.BigIntegerField(blank=True, help_text="The source's own number where it is not an all-time count",
                                         null=True),
        ),
        migrations.AlterField(
            model_name="downloadsnapshot",
            name="downloads_all_time",
            field=models.BigIntegerField(blank=True, help_text="Canonical cumulative downloads at this date", null=True),
        ),
        migrations.AlterField(
            model_name="dailygain",
            name="gain",
            field=models.FloatField(),
        ),
        migrations.CreateModel(
            name="DataQualityIssue",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(db_index=True, max_length=32)),
                ("hub_id", models.CharField(max_length=200)),
                ("kind", models.CharField(choices=[
                    ("leading-placeholder", "Leading placeholders read as missing"),
                    ("no-samples", "A series with no sample at all"),
                    ("implausible-jump", "Implausible jump"),
                    ("contradiction", "Later all-time count below an earlier cumulative estimate"),
                    ("gap", "Days without a sample"),
                    ("decrease", "A running sum that falls")], db_index=True, max_length=32)),
                ("date", models.DateField(blank=True, help_text="First day concerned", null=True)),
                ("end_date", models.DateField(blank=True, help_text="Last day concerned", null=True)),
                ("days", models.IntegerField(default=1)),
                ("detail", models.TextField()),
                ("model", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="+", to="catalog.hubmodel")),
            ],
            options={
                "ordering": ["source", "hub_id", "date"],
                "indexes": [models.Index(fields=["model", "date"], name="dataquality_model_date")],
            },
        ),
    ]
