# An organisation's insert logs its (namespace, region) pair, as its delete does (migration 0007).
# Foreign keys are checked at commit, so a model can point at an organisation id before that
# organisation's row exists in the same transaction: the model's update trigger then reads its new
# cell against no organisation (region unknown, its author), and without this entry the cell the
# model really joined was never recounted (tests/dashboards/test_rollup_review_writes.py).

from django.db import migrations

LOG = "INSERT INTO catalog_rollupchange (kind, date, tracked, region, organization, size_class, pipeline_tag)"
WRITE = "INSERT INTO catalog_rollupchange (kind) VALUES ('write');"

LOGGING = f"""CREATE OR REPLACE FUNCTION catalog_rollup_orgs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {LOG} SELECT DISTINCT 'org', NULL::date, NULL::boolean, COALESCE(region, 'unknown'), namespace, NULL, NULL
        FROM new_rows;
  {WRITE} RETURN NULL;
END $$"""
SILENT = f"""CREATE OR REPLACE FUNCTION catalog_rollup_orgs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN {WRITE} RETURN NULL; END $$"""


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":  # SQLite (embedded mode) has no rollup
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0012_quality_at_scale"),
    ]

    operations = [migrations.RunPython(_run(LOGGING), _run(SILENT))]
