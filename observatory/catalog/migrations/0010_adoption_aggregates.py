# The relative-adoption aggregates (catalog.adoption_aggregates) and the triggers that log which
# snapshot rows each statement wrote (RamWrite), in the writer's transaction: the fold
# (analytics.ram_aggregates) tells a new curve point from a changed one by them. Only rows that
# are or were a curve point's row are logged: a daily source with a count since release. The
# names are written out here, as a migration must not change when the code does.

from django.db import migrations, models

POINT = ("{t}.source IN ('daily-series', 'crawl') AND {t}.downloads_all_time IS NOT NULL "
         "AND {t}.cumulative_kind IN ('all-time', 'estimated')")
FUNCTIONS = {
    "catalog_ram_snapshots_inserted": f"""
        INSERT INTO catalog_ramwrite (model_id, date) SELECT n.model_id, n.date FROM new_rows n
        WHERE {POINT.format(t='n')};""",
    # An upsert that rewrites a row with the same numbers changes no point: not logged.
    "catalog_ram_snapshots_updated": f"""
        INSERT INTO catalog_ramwrite (model_id, date) SELECT n.model_id, n.date
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (({POINT.format(t='o')}) OR ({POINT.format(t='n')}))
          AND (o.model_id, o.date, o.source, o.downloads_all_time, o.cumulative_kind) IS DISTINCT FROM
              (n.model_id, n.date, n.source, n.downloads_all_time, n.cumulative_kind);""",
}
CREATE = [
    *[f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"
      for name, body in FUNCTIONS.items()],
    "CREATE TRIGGER catalog_downloadsnapshot_ram_inserted AFTER INSERT ON catalog_downloadsnapshot "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog_ram_snapshots_inserted()",
    "CREATE TRIGGER catalog_downloadsnapshot_ram_updated AFTER UPDATE ON catalog_downloadsnapshot "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION catalog_ram_snapshots_updated()",
]
DROP = [
    "DROP TRIGGER IF EXISTS catalog_downloadsnapshot_ram_inserted ON catalog_downloadsnapshot",
    "DROP TRIGGER IF EXISTS catalog_downloadsnapshot_ram_updated ON catalog_downloadsnapshot",
    *[f"DROP FUNCTION IF EXISTS {name}()" for name in FUNCTIONS],
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":  # SQLite (embedded mode) reads raw rows
            for sql in statements:
                schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0009_snapshot_crawl_model_date"),
    ]

    operations = [
        migrations.CreateModel(
            name="RamLatest",
            fields=[
                ("model_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("tracked", models.BooleanField()),
                ("region", models.CharField(max_length=16)),
                ("organization", models.CharField(max_length=200)),
                ("size_class", models.CharField(max_length=10, null=True)),
                ("pipeline_tag", models.CharField(max_length=64)),
                ("release_date", models.DateField(null=True)),
                ("date", models.DateField()),
                ("cumulative", models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="RamWrite",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("model_id", models.BigIntegerField()),
                ("date", models.DateField()),
            ],
        ),
        migrations.CreateModel(
            name="RamPlace",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tracked", models.BooleanField()),
                ("region", models.CharField(max_length=16)),
                ("organization", models.CharField(max_length=200)),
                ("size_class", models.CharField(max_length=10)),
                ("pipeline_tag", models.CharField(max_length=64)),
                ("days", models.IntegerField()),
                ("rank", models.SmallIntegerField()),
                ("cumulative", models.BigIntegerField()),
                ("points", models.IntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["organization", "size_class", "days"], name="ramplace_org_size_days")],
            },
        ),
        migrations.RunPython(_run(CREATE), _run(DROP)),
    ]
