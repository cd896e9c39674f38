# The rollup's change-log triggers (migrations 0007, 0013) and the data-quality ledger's (0012)
# are planned without JIT, as the count triggers are (0011): a statement's transition tables have
# no statistics, so the planner guesses their size, and a join of a guessed transition table to
# the whole catalogue can be costed past jit_above_cost and compiled for each statement (0011's
# were: ~20 s a statement for ~0.2 s of work). A function's SET clause holds for its statements.

from django.db import migrations

FUNCTIONS = (
    *[f"catalog_rollup_{table}_{event}" for table in ("snapshots", "models", "orgs")
      for event in ("inserted", "updated", "deleted")],
    "catalog_rollup_truncated", "catalog_rollup_source_changed",
    "catalog_quality_snapshots_inserted", "catalog_quality_snapshots_updated", "catalog_quality_snapshots_deleted",
    "catalog_quality_models_updated",
)


def _run(setting: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":  # SQLite (embedded mode) has no triggers
            for name in FUNCTIONS:
                schema_editor.execute(f"ALTER FUNCTION {name}() {setting}")
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0013_rollup_org_insert_log"),
    ]

    operations = [migrations.RunPython(_run("SET jit = off"), _run("RESET jit"))]
