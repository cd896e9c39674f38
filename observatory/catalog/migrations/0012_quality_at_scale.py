# The data-quality ledger's kept entries (catalog.quality_aggregates, folded in by
# analytics.quality with every rollup refresh), and the triggers that tell the fold which models
# to recompute from their rows: a new day after a model's history is checked against its kept
# state, but a row removed, moved or changed, one written on or before the newest day already
# folded, or a renamed model, needs the model's whole history read again. One set-based INSERT per
# statement, like the rollup's change log (migration 0007, whose 'write' entry each of these
# statements also leaves, so the ledger is not read as fresh until a fold has seen them).

import django.db.models.deletion

import observatory.catalog.quality_aggregates
from django.db import migrations, models

DIRTY = "INSERT INTO catalog_qualitydirty (model_id)"
FUNCTIONS = {
    # A COPY of a new crawl day logs nothing: its rows are all after the newest day folded.
    "catalog_quality_snapshots_inserted": f"""
        {DIRTY} SELECT DISTINCT model_id FROM new_rows
                WHERE date <= (SELECT MAX(last_date) FROM catalog_qualitycoverage);""",
    "catalog_quality_snapshots_updated": f"""
        {DIRTY} SELECT ol.model_id FROM old_rows ol JOIN new_rows nw ON nw.id = ol.id
                WHERE (ol.model_id, ol.date, ol.source, ol.downloads_all_time, ol.cumulative_kind)
                      IS DISTINCT FROM (nw.model_id, nw.date, nw.source, nw.downloads_all_time, nw.cumulative_kind)
                UNION
                SELECT nw.model_id FROM old_rows ol JOIN new_rows nw ON nw.id = ol.id
                WHERE (ol.model_id, ol.date, ol.source, ol.downloads_all_time, ol.cumulative_kind)
                      IS DISTINCT FROM (nw.model_id, nw.date, nw.source, nw.downloads_all_time, nw.cumulative_kind);""",
    "catalog_quality_snapshots_deleted": f"{DIRTY} SELECT DISTINCT model_id FROM old_rows;",
    "catalog_quality_models_updated": f"""
        {DIRTY} SELECT nw.id FROM old_rows ol JOIN new_rows nw ON nw.id = ol.id WHERE ol.hub_id <> nw.hub_id;""",
}
TRIGGERS = {
    "catalog_quality_snapshots_inserted": ("catalog_downloadsnapshot", "INSERT", "NEW TABLE AS new_rows"),
    "catalog_quality_snapshots_updated": ("catalog_downloadsnapshot", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "catalog_quality_snapshots_deleted": ("catalog_downloadsnapshot", "DELETE", "OLD TABLE AS old_rows"),
    "catalog_quality_models_updated": ("catalog_hubmodel", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
}
CREATE = [
    # Every crawl day updates each crawled model's state row: room on its page keeps the update HOT
    # (no index entry written), several times faster than a full page's.
    "ALTER TABLE catalog_qualitystate SET (fillfactor = 40)",
    *[f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"
      for name, body in FUNCTIONS.items()],
    *[f"CREATE TRIGGER {name} AFTER {verb} ON {table} REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
      for name, (table, verb, tables) in TRIGGERS.items()],
]
DROP = [
    "ALTER TABLE catalog_qualitystate RESET (fillfactor)",
    *[f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, (table, _, _) in TRIGGERS.items()],
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
        ("catalog", "0011_count_aggregates"),
    ]

    operations = [
        migrations.CreateModel(
            name='QualityCoverage',
            fields=[
                ('source', models.CharField(max_length=32, primary_key=True, serialize=False)),
                ('model_count', models.BigIntegerField()),
                ('rows', models.BigIntegerField()),
                ('first_date', models.DateField()),
                ('last_date', models.DateField()),
            ],
        ),
        migrations.CreateModel(
            name='QualityDirty',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('model_id', models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name='QualityCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(max_length=32)),
                ('kind', models.CharField(max_length=32)),
                ('entries', models.BigIntegerField()),
                ('days', models.BigIntegerField()),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('source', 'kind'), name='qualitycount_one_per_source_kind')],
            },
        ),
        migrations.CreateModel(
            name='QualityEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', observatory.catalog.quality_aggregates.BytewiseCharField(db_collation='C', max_length=32)),
                ('hub_id', observatory.catalog.quality_aggregates.BytewiseCharField(db_collation='C', max_length=200)),
                ('kind', observatory.catalog.quality_aggregates.BytewiseCharField(db_collation='C', max_length=32)),
                ('date', models.DateField()),
                ('end_date', models.DateField()),
                ('days', models.BigIntegerField()),
                ('detail', observatory.catalog.quality_aggregates.BytewiseTextField(db_collation='C')),
                ('model', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='catalog.hubmodel')),
            ],
            options={
                'indexes': [models.Index(fields=['model', 'date'], name='qualityentry_model_date'), models.Index(fields=['source', 'hub_id', 'date', 'kind'], name='qualityentry_ledger_order'), models.Index(fields=['kind', 'source', 'hub_id', 'date'], name='qualityentry_kind_order')],
            },
        ),
        migrations.CreateModel(
            name='QualityState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(max_length=32)),
                ('rows', models.BigIntegerField()),
                ('first_date', models.DateField()),
                ('last_date', models.DateField()),
                ('peak', models.BigIntegerField(null=True)),
                ('model', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='catalog.hubmodel')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('model', 'source'), name='qualitystate_one_per_model_source')],
            },
        ),
        migrations.RunPython(_run(CREATE), _run(DROP)),
    ]
