# The edge count triggers (migration 0011) find the edges a statement left as they were with
# NOT EXISTS, not NOT IN: the planner knows a transition table's row count, and once its ids
# outgrow the hash memory (a few hundred thousand), NOT IN (SELECT id FROM new_rows) is planned as
# a plain subplan that scans every new id for every edge, so one COPY of 2.4M edges ran for hours.
# NOT EXISTS is an anti-join the planner hashes or merges at any size (ids are never NULL, so the
# two say the same). The bodies are 0011's, read from it: that file never changes.

import importlib

from django.db import migrations

COUNTS = importlib.import_module("observatory.catalog.migrations.0011_count_aggregates")
NOT_IN = " AND id NOT IN (SELECT id FROM new_rows)"
ANTI_JOIN = " AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = catalog_lineageedge.id)"
NAMES = ("catalog_counts_edges_inserted", "catalog_counts_edges_updated")
assert all(NOT_IN in COUNTS.FUNCTIONS[name] for name in NAMES)


def _create(name: str, body: str) -> str:
    return (f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$ "
            f"BEGIN {body} RETURN NULL; END $$")


def _run(anti_join: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":  # SQLite (embedded mode) has no triggers
            for name in NAMES:
                body = COUNTS.FUNCTIONS[name]
                schema_editor.execute(_create(name, body.replace(NOT_IN, ANTI_JOIN) if anti_join else body))
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0014_triggers_without_jit"),
    ]

    operations = [migrations.RunPython(_run(True), _run(False))]
