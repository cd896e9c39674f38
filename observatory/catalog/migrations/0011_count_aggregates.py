# The count aggregates' tables (catalog.count_aggregates) and the statement-level triggers that
# log each write's signed contribution to them into catalog_countchange, in the writer's
# transaction (one set-based INSERT per statement), for the rollup's fold to add in
# (observatory.analytics.counts). Each contribution is computed against the other tables as the
# statement leaves them, which no statement on this table changes: the sum over statements is the
# count of the data as committed. Every edge write also logs a 'write' RollupChange (the other
# tables' triggers of migration 0007 already do), so no reader takes the aggregates until folded.
#
# The cell columns and the counting are analytics.frames.MODEL_COLUMNS' and analytics.counts'
# (its rebuild SQL is the reference: tests compare a fold with it); written out here, as a
# migration must not change when the code does.

from django.db import migrations, models

LOG = ("INSERT INTO catalog_countchange (kind, tracked, region, organization, size_class, pipeline_tag, key, namespace, "
       "date, n1, n2, n3)")
CELL = "x.tracked, COALESCE(o.region, 'unknown'), COALESCE(o.namespace, x.author), NULLIF(x.size_class, ''), x.pipeline_tag"
CREATED = "(x.created_at AT TIME ZONE 'UTC')::date"
# A model row x with its organisation o, for each way a statement hands them over.
WITH_ORG = "LEFT JOIN catalog_organization o ON o.id = x.organization_id"
NO_ORG = "LEFT JOIN catalog_organization o ON FALSE"


def _rows(source: str, sign: int) -> dict:
    """A set of model rows `x` (with `o`) counted with `sign`."""
    return {"from": source, "sign": sign}


# Per model row, by index (LATERAL): a statement's transition tables have no statistics, and a
# join the planner guesses could scan every edge for a page of a crawl.
def _licence(rows: dict, edges: bool) -> str:
    """Models and all-time downloads by cell and licence class; with `edges`, the edges whose
    resolved parent each model is instead."""
    s = rows["sign"]
    counted = (f"0, 0, {s} * COALESCE(SUM((SELECT COUNT(*) FROM catalog_lineageedge e WHERE e.parent_id = x.id)), 0)"
               if edges else f"{s} * COUNT(*), {s} * COALESCE(SUM(x.downloads_all_time), 0), 0")
    return (f"SELECT 'licence', {CELL}, x.licence_class, NULL, NULL::date, {counted} FROM {rows['from']} "
            "GROUP BY 2, 3, 4, 5, 6, 7")


def _days(rows: dict) -> str:
    s = rows["sign"]
    return (f"SELECT 'day', {CELL}, 'created', NULL, {CREATED}, {s} * COUNT(*), 0, 0 FROM {rows['from']} "
            "WHERE x.created_at IS NOT NULL GROUP BY 2, 3, 4, 5, 6, 9 "
            f"UNION ALL SELECT 'day', {CELL}, 'released', NULL, x.release_date, {s} * COUNT(*), 0, 0 "
            f"FROM {rows['from']} WHERE x.release_date IS NOT NULL GROUP BY 2, 3, 4, 5, 6, 9")


EDGE_COLUMNS = "child_id, parent_id, parent_hub_id, relation"
CURRENT_EDGES = f"SELECT {EDGE_COLUMNS} FROM catalog_lineageedge WHERE child_id = x.id"


KEY = "(CASE WHEN e.parent_id IS NOT NULL THEN '#' || e.parent_id ELSE lower(e.parent_hub_id) END) COLLATE \"C\""


def _pairs(edges: str, finetunes: bool) -> str:
    """Each (child, base) once of the child x's `edges`, a base being its row or its case-folded id
    (derivatives.ancestors), the edge to its smallest spelling kept (the raw path sorts edges so)."""
    where = "WHERE e.relation = 'finetune' " if finetunes else ""
    return (f"SELECT DISTINCT ON ({KEY}) split_part(e.parent_hub_id, '/', 1) AS ns, e.relation "
            f"FROM ({edges}) e {where}ORDER BY {KEY}, e.parent_hub_id COLLATE \"C\"")


def _derivatives(rows: dict, edges: str = CURRENT_EDGES) -> str:
    """The pairs of the children `rows` over their `edges` (a query of x's edges)."""
    s = rows["sign"]
    return " UNION ALL ".join(
        f"SELECT 'deriv', {CELL}, p.relation, p.ns, {CREATED}, {s * (1 - ft)} * COUNT(*), {s * ft} * COUNT(*), 0 "
        f"FROM {rows['from']} CROSS JOIN LATERAL ({_pairs(edges, bool(ft))}) p "
        "WHERE x.created_at IS NOT NULL GROUP BY 2, 3, 4, 5, 6, 7, 8, 9" for ft in (0, 1))


def _set_derivatives(rows: dict, edges: str) -> str:
    """_derivatives over a set of edges of many children at once (an edge statement's before and after)."""
    s = rows["sign"]
    return " UNION ALL ".join(
        f"SELECT 'deriv', {CELL}, p.relation, p.ns, {CREATED}, {s * (1 - ft)} * COUNT(*), {s * ft} * COUNT(*), 0 "
        f"FROM {rows['from']} JOIN (SELECT DISTINCT ON (e.child_id, {KEY}) e.child_id, "
        f"split_part(e.parent_hub_id, '/', 1) AS ns, e.relation FROM ({edges}) e "
        + ("WHERE e.relation = 'finetune' " if ft else "")
        + f"ORDER BY e.child_id, {KEY}, e.parent_hub_id COLLATE \"C\") p ON p.child_id = x.id "
        "WHERE x.created_at IS NOT NULL GROUP BY 2, 3, 4, 5, 6, 7, 8, 9" for ft in (0, 1))


def _logged(parts: list[str]) -> str:
    """The parts' contributions summed per key; what nets to nothing is not logged."""
    return (f"{LOG} SELECT kind, tracked, region, organization, size_class, pipeline_tag, key, namespace, date, "
            "SUM(n1), SUM(n2), SUM(n3) FROM (" + " UNION ALL ".join(f"({p})" for p in parts) + ") c("
            "kind, tracked, region, organization, size_class, pipeline_tag, key, namespace, date, n1, n2, n3) "
            "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 HAVING SUM(n1) <> 0 OR SUM(n2) <> 0 OR SUM(n3) <> 0;")


def _counted(rows: list[dict], moved: list[dict]) -> list[str]:
    """Every row's model count, downloads and days; the edges' parts only for the rows in `moved`
    (an update that leaves a model's cell, class and creation as they were moves none of them)."""
    return ([part for r in rows for part in (_licence(r, edges=False), _days(r))]
            + [part for r in moved for part in (_licence(r, edges=True), _derivatives(r))])


def _conflicts(ids: str) -> str:
    """Recheck the edges of the models `ids` (a query of ids), as child or as parent."""
    # Per id by index: OFFSET 0 keeps the planner from flattening the lookup into a join it
    # guesses (152 edges per parent id): it hashed all 242k edges for 500 new models.
    return (f"INSERT INTO catalog_countchange (kind, edge_id) SELECT 'conflict', e.id FROM ({ids}) i CROSS JOIN "
            "LATERAL (SELECT e.id FROM catalog_lineageedge e WHERE e.child_id = i.id OFFSET 0) e UNION "
            f"SELECT 'conflict', e.id FROM ({ids}) i CROSS JOIN "
            "LATERAL (SELECT e.id FROM catalog_lineageedge e WHERE e.parent_id = i.id OFFSET 0) e;")


# An update's rows whose cell, licence class or creation changed (what the edges' parts read),
# and those whose licence conflicts may have (a change elsewhere, downloads or a crawl's dates,
# rechecks no edge).
MOVED = ("(ol.tracked, ol.organization_id, ol.author, ol.size_class, ol.pipeline_tag, ol.licence_class, ol.created_at) "
         "IS DISTINCT FROM (nw.tracked, nw.organization_id, nw.author, nw.size_class, nw.pipeline_tag, "
         "nw.licence_class, nw.created_at)")
CONFLICT_MOVED = ("SELECT nw.id FROM old_rows ol JOIN new_rows nw ON nw.id = ol.id WHERE (ol.hub_id, ol.licence_id, "
                  "ol.licence_class, ol.tracked, ol.organization_id, ol.author, ol.size_class, ol.pipeline_tag) IS "
                  "DISTINCT FROM (nw.hub_id, nw.licence_id, nw.licence_class, nw.tracked, nw.organization_id, "
                  "nw.author, nw.size_class, nw.pipeline_tag)")
NEW_MODELS = _rows(f"new_rows x {WITH_ORG}", 1)
OLD_MODELS = _rows(f"old_rows x {WITH_ORG}", -1)
# OFFSET 0: the moved rows first, then their edges (flattened, the planner looked up every row's edges
# before the filter that leaves none of a crawl's download update).
MOVED_OLD = _rows(f"(SELECT ol.* FROM old_rows ol JOIN new_rows nw ON nw.id = ol.id WHERE {MOVED} OFFSET 0) x {WITH_ORG}",
                  -1)
MOVED_NEW = _rows(f"(SELECT nw.* FROM old_rows ol JOIN new_rows nw ON nw.id = ol.id WHERE {MOVED} OFFSET 0) x {WITH_ORG}",
                  1)


def _org_models(table: str, sign: int, with_org: bool) -> dict:
    """The models of the organisations in `table`, with them (or with none)."""
    source = (f"catalog_hubmodel x JOIN {table} o ON o.id = x.organization_id" if with_org else
              f"catalog_hubmodel x JOIN {table} n ON n.id = x.organization_id {NO_ORG}")
    return _rows(source, sign)


def _org_statement(before: dict, after: dict, table: str) -> str:
    return (_logged(_counted([before, after], [before, after]))
            + _conflicts(f"SELECT x.id FROM catalog_hubmodel x JOIN {table} t ON t.id = x.organization_id"))


def _edge_statement(old: bool, new: bool) -> str:
    changed = " UNION ".join(f"SELECT child_id FROM {t}" for t, on in (("old_rows", old), ("new_rows", new)) if on)
    children = _rows(f"(SELECT DISTINCT id FROM ({changed}) u (id)) c JOIN catalog_hubmodel x ON x.id = c.id {WITH_ORG}", 1)
    after = f"SELECT {EDGE_COLUMNS} FROM catalog_lineageedge WHERE child_id IN ({changed})"
    before = (after + (" AND id NOT IN (SELECT id FROM new_rows)" if new else "")
              + (f" UNION ALL SELECT {EDGE_COLUMNS} FROM old_rows" if old else ""))
    parts = [_set_derivatives({**children, "sign": -1}, before), _set_derivatives(children, after)]
    for table, sign, on in (("old_rows", -1, old), ("new_rows", 1, new)):
        if on:  # the edge counted against its resolved parent's cell and class
            parts.append(f"SELECT 'licence', {CELL}, x.licence_class, NULL, NULL::date, 0, 0, {sign} * COUNT(*) "
                         f"FROM {table} e JOIN catalog_hubmodel x ON x.id = e.parent_id {WITH_ORG} GROUP BY 2, 3, 4, 5, 6, 7")
    ids = " UNION ".join(f"SELECT id FROM {t}" for t, on in (("old_rows", old), ("new_rows", new)) if on)
    return _logged(parts) + f" INSERT INTO catalog_countchange (kind, edge_id) SELECT 'conflict', id FROM ({ids}) i;"


WRITE = "INSERT INTO catalog_rollupchange (kind) VALUES ('write');"
FUNCTIONS = {
    "catalog_counts_models_inserted": _logged(_counted([NEW_MODELS], [NEW_MODELS]))
    + _conflicts("SELECT id FROM new_rows"),
    "catalog_counts_models_updated": _logged(_counted([OLD_MODELS, NEW_MODELS], [MOVED_OLD, MOVED_NEW]))
    + _conflicts(CONFLICT_MOVED),
    "catalog_counts_models_deleted": _logged(_counted([OLD_MODELS], [OLD_MODELS]))
    + _conflicts("SELECT id FROM old_rows"),
    # An organisation's models change cells (from none, for models that named it before it existed).
    "catalog_counts_orgs_inserted": _org_statement(_org_models("new_rows", -1, False), _org_models("new_rows", 1, True),
                                                   "new_rows"),
    "catalog_counts_orgs_updated": _org_statement(_org_models("old_rows", -1, True), _org_models("new_rows", 1, True),
                                                  "new_rows"),
    "catalog_counts_orgs_deleted": _org_statement(_org_models("old_rows", -1, True), _org_models("old_rows", 1, False),
                                                  "old_rows"),
    "catalog_counts_edges_inserted": _edge_statement(old=False, new=True) + WRITE,
    "catalog_counts_edges_updated": _edge_statement(old=True, new=True) + WRITE,
    "catalog_counts_edges_deleted": _edge_statement(old=True, new=False) + WRITE,
}
TABLES = {"models": "catalog_hubmodel", "orgs": "catalog_organization", "edges": "catalog_lineageedge"}
EVENTS = {"inserted": ("INSERT", "NEW TABLE AS new_rows"), "updated": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
          "deleted": ("DELETE", "OLD TABLE AS old_rows")}

CREATE = [
    # Without JIT: a statement's transition tables have no statistics, so the planner costs a page
    # of a crawl's rows in the millions (5.1M for a 1,000-model update: a scalar edge count per row
    # of a guessed 5,000-row join), past jit_inline_above_cost, and each statement then compiled
    # some 310 functions with inlining and optimisation (~20 s under load) for ~0.2 s of work.
    *[f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$ BEGIN {body} RETURN NULL; END $$"
      for name, body in FUNCTIONS.items()],
    *[f"CREATE TRIGGER {table}_counts_{event} AFTER {verb} ON {table} REFERENCING {tables} "
      f"FOR EACH STATEMENT EXECUTE FUNCTION catalog_counts_{short}_{event}()"
      for short, table in TABLES.items() for event, (verb, tables) in EVENTS.items()],
    # A TRUNCATE of the edges recounts everything (the models' and organisations' already do).
    "CREATE TRIGGER catalog_lineageedge_counts_truncated AFTER TRUNCATE ON catalog_lineageedge "
    "FOR EACH STATEMENT EXECUTE FUNCTION catalog_rollup_truncated()",
    # The aggregates are built by the next fold (none is recorded): a write for it to see.
    "DELETE FROM catalog_rollupstate WHERE name = 'counts'",
    WRITE.rstrip(";"),
]
DROP = [
    *[f"DROP TRIGGER IF EXISTS {table}_counts_{event} ON {table}"
      for table in TABLES.values() for event in (*EVENTS, "truncated")],
    *[f"DROP FUNCTION IF EXISTS {name}()" for name in FUNCTIONS],
    "DELETE FROM catalog_rollupstate WHERE name = 'counts'",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":  # SQLite (embedded mode) reads raw rows
            for sql in statements:
                schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0010_adoption_aggregates"),
    ]

    operations = [
        migrations.CreateModel(
            name="CountChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=8)),
                ("tracked", models.BooleanField(null=True)),
                ("region", models.CharField(max_length=16, null=True)),
                ("organization", models.CharField(max_length=200, null=True)),
                ("size_class", models.CharField(max_length=10, null=True)),
                ("pipeline_tag", models.CharField(max_length=64, null=True)),
                ("key", models.CharField(max_length=16, null=True)),
                ("namespace", models.CharField(max_length=200, null=True)),
                ("date", models.DateField(null=True)),
                ("n1", models.BigIntegerField(db_default=0)),
                ("n2", models.BigIntegerField(db_default=0)),
                ("n3", models.BigIntegerField(db_default=0)),
                ("edge_id", models.BigIntegerField(null=True)),
            ],
        ),
        migrations.CreateModel(
            name="LicenceConflict",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tracked", models.BooleanField()),
                ("region", models.CharField(max_length=16)),
                ("organization", models.CharField(max_length=200)),
                ("size_class", models.CharField(max_length=10, null=True)),
                ("pipeline_tag", models.CharField(max_length=64)),
                ("edge_id", models.BigIntegerField(unique=True)),
                ("derivative", models.CharField(max_length=200)),
                ("derivative_licence", models.CharField(max_length=96)),
                ("derivative_class", models.CharField(max_length=16)),
                ("relation", models.CharField(max_length=16)),
                ("base", models.CharField(max_length=200)),
                ("base_licence", models.CharField(max_length=96)),
                ("base_class", models.CharField(max_length=16)),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="DerivativeCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tracked", models.BooleanField()),
                ("region", models.CharField(max_length=16)),
                ("organization", models.CharField(max_length=200)),
                ("size_class", models.CharField(max_length=10, null=True)),
                ("pipeline_tag", models.CharField(max_length=64)),
                ("created", models.DateField()),
                ("base_namespace", models.CharField(max_length=200)),
                ("relation", models.CharField(max_length=16)),
                ("derivatives", models.BigIntegerField()),
                ("finetunes", models.BigIntegerField()),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("tracked", "region", "organization", "size_class", "pipeline_tag", "created", "base_namespace", "relation"), name="derivativecount_key", nulls_distinct=False)],
            },
        ),
        migrations.CreateModel(
            name="LicenceCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tracked", models.BooleanField()),
                ("region", models.CharField(max_length=16)),
                ("organization", models.CharField(max_length=200)),
                ("size_class", models.CharField(max_length=10, null=True)),
                ("pipeline_tag", models.CharField(max_length=64)),
                ("licence_class", models.CharField(max_length=16)),
                ("model_count", models.BigIntegerField()),
                ("downloads_all_time", models.BigIntegerField()),
                ("derivatives", models.BigIntegerField()),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("tracked", "region", "organization", "size_class", "pipeline_tag", "licence_class"), name="licencecount_key", nulls_distinct=False)],
            },
        ),
        migrations.CreateModel(
            name="ModelDayCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tracked", models.BooleanField()),
                ("region", models.CharField(max_length=16)),
                ("organization", models.CharField(max_length=200)),
                ("size_class", models.CharField(max_length=10, null=True)),
                ("pipeline_tag", models.CharField(max_length=64)),
                ("field", models.CharField(help_text="created or released", max_length=8)),
                ("date", models.DateField()),
                ("model_count", models.BigIntegerField()),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("tracked", "region", "organization", "size_class", "pipeline_tag", "field", "date"), name="modeldaycount_key", nulls_distinct=False)],
            },
        ),
        migrations.RunPython(_run(CREATE), _run(DROP)),
    ]
