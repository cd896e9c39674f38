# The rollup's change log: statement-level triggers with transition tables write what each
# statement on the rollup's sources touched (catalog.models.RollupChange says what each kind
# means), so a crawl or an import is folded into the daily-gain rollup by the cells it touched
# instead of a full rebuild (observatory.analytics.rollups.fold). One set-based INSERT per
# statement, never one per row: a COPY of millions of rows logs its few distinct dates.
#
# The cell columns are the rollup's (analytics.frames.MODEL_COLUMNS): written out here, as a
# migration must not change when the code does.

from django.db import migrations, models

LOG = "INSERT INTO catalog_rollupchange (kind, date, tracked, region, organization, size_class, pipeline_tag)"
# A model row `x` (and its organisation `o`) as the rollup cell it is counted in.
CELL = ("x.tracked, COALESCE(o.region, 'unknown'), COALESCE(o.namespace, x.author), NULLIF(x.size_class, ''), "
        "x.pipeline_tag")
WRITE = "INSERT INTO catalog_rollupchange (kind) VALUES ('write');"
# The snapshot rows whose model, day or source changed: their model's every cell moves.
MOVED = "old_rows ol JOIN new_rows nw ON nw.id = ol.id WHERE (ol.model_id, ol.date, ol.source) IS DISTINCT FROM " \
        "(nw.model_id, nw.date, nw.source)"
MODEL_MOVED = ("old_rows ol JOIN new_rows nw ON nw.id = ol.id WHERE (ol.tracked, ol.organization_id, ol.author, "
               "ol.size_class, ol.pipeline_tag) IS DISTINCT FROM (nw.tracked, nw.organization_id, nw.author, "
               "nw.size_class, nw.pipeline_tag)")
ORG_MOVED = "old_rows ol JOIN new_rows nw ON nw.id = ol.id WHERE (ol.namespace, ol.region) IS DISTINCT FROM " \
            "(nw.namespace, nw.region)"

FUNCTIONS = {
    "catalog_rollup_snapshots_inserted": f"""
        {LOG} SELECT DISTINCT 'date', date, NULL::boolean, NULL, NULL, NULL, NULL FROM new_rows;""",
    # A new value on the same (model, day, source): that day's cells (and the successor's, found
    # by the fold). Anything else moved: the cells of the model it left and of the one it joined.
    "catalog_rollup_snapshots_updated": f"""
        {LOG} SELECT DISTINCT 'date', nw.date, NULL::boolean, NULL, NULL, NULL, NULL
              FROM old_rows ol JOIN new_rows nw ON nw.id = ol.id
              WHERE (ol.model_id, ol.date, ol.source) IS NOT DISTINCT FROM (nw.model_id, nw.date, nw.source);
        {LOG} SELECT DISTINCT 'cell', NULL::date, {CELL}
              FROM catalog_hubmodel x LEFT JOIN catalog_organization o ON o.id = x.organization_id
              WHERE x.id IN (SELECT ol.model_id FROM {MOVED} UNION SELECT nw.model_id FROM {MOVED});""",
    # A row gone changes its day and its successor's gain: recounting its model's cell covers both.
    "catalog_rollup_snapshots_deleted": f"""
        {LOG} SELECT DISTINCT 'cell', NULL::date, {CELL}
              FROM catalog_hubmodel x LEFT JOIN catalog_organization o ON o.id = x.organization_id
              WHERE x.id IN (SELECT model_id FROM old_rows);""",
    "catalog_rollup_models_inserted": "",
    # The old cell is read against the organisation as it is now: an organisation changed in the
    # same transaction logs its own old pair.
    "catalog_rollup_models_updated": f"""
        {LOG} SELECT DISTINCT 'cell', NULL::date, {CELL}
              FROM (SELECT ol.* FROM {MODEL_MOVED}) x LEFT JOIN catalog_organization o ON o.id = x.organization_id
              UNION
              SELECT DISTINCT 'cell', NULL::date, {CELL}
              FROM (SELECT nw.* FROM {MODEL_MOVED}) x LEFT JOIN catalog_organization o ON o.id = x.organization_id;""",
    "catalog_rollup_models_deleted": f"""
        {LOG} SELECT DISTINCT 'cell', NULL::date, {CELL}
              FROM old_rows x LEFT JOIN catalog_organization o ON o.id = x.organization_id;""",
    "catalog_rollup_orgs_inserted": "",
    "catalog_rollup_orgs_updated": f"""
        {LOG} SELECT 'org', NULL::date, NULL::boolean, region, namespace, NULL, NULL FROM (
              SELECT COALESCE(ol.region, 'unknown') AS region, ol.namespace FROM {ORG_MOVED}
              UNION SELECT COALESCE(nw.region, 'unknown'), nw.namespace FROM {ORG_MOVED}) pairs;""",
    "catalog_rollup_orgs_deleted": f"""
        {LOG} SELECT DISTINCT 'org', NULL::date, NULL::boolean, COALESCE(region, 'unknown'), namespace, NULL, NULL
              FROM old_rows;""",
}
TABLES = {"snapshots": "catalog_downloadsnapshot", "models": "catalog_hubmodel", "orgs": "catalog_organization"}
# Transition tables take one event per trigger.
EVENTS = {"inserted": ("INSERT", "NEW TABLE AS new_rows"), "updated": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
          "deleted": ("DELETE", "OLD TABLE AS old_rows")}

CREATE = [
    *[f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} {WRITE} RETURN NULL; END $$"
      for name, body in FUNCTIONS.items()],
    """CREATE FUNCTION catalog_rollup_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN INSERT INTO catalog_rollupchange (kind) VALUES ('full'); RETURN NULL; END $$""",
    *[f"CREATE TRIGGER {table}_rollup_{event} AFTER {verb} ON {table} REFERENCING {tables} "
      f"FOR EACH STATEMENT EXECUTE FUNCTION catalog_rollup_{short}_{event}()"
      for short, table in TABLES.items() for event, (verb, tables) in EVENTS.items()],
    *[f"CREATE TRIGGER {table}_rollup_truncated AFTER TRUNCATE ON {table} "
      "FOR EACH STATEMENT EXECUTE FUNCTION catalog_rollup_truncated()" for table in TABLES.values()],
]
DROP = [
    *[f"DROP TRIGGER IF EXISTS {table}_rollup_{event} ON {table}"
      for table in TABLES.values() for event in (*EVENTS, "truncated")],
    *[f"DROP FUNCTION IF EXISTS {name}()" for name in (*FUNCTIONS, "catalog_rollup_truncated")],
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":  # SQLite (embedded mode) reads raw rows
            for sql in statements:
                schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0006_model_alias_current_id_and_case_insensitive_ids"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollupChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=8)),
                ("date", models.DateField(null=True)),
                ("tracked", models.BooleanField(null=True)),
                ("region", models.CharField(max_length=16, null=True)),
                ("organization", models.CharField(max_length=200, null=True)),
                ("size_class", models.CharField(max_length=10, null=True)),
                ("pipeline_tag", models.CharField(max_length=64, null=True)),
            ],
        ),
        migrations.RunPython(_run(CREATE), _run(DROP)),
    ]
