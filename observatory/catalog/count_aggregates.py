"""Per-cell model and lineage-edge counts the release, licence and derivative metrics read,
kept beside the daily-gain rollup (issue 17; analytics.counts folds and reads them).

Every table is keyed by the dashboard filter cell (tracked, region, organization, size_class,
pipeline_tag: analytics.frames.MODEL_COLUMNS), so a filter is a WHERE on the key, and by what the
metric groups on. Statement triggers (migration 0011) log each write's signed contribution to
CountChange; the rollup's fold adds them in (analytics.counts.fold).
"""

from __future__ import annotations

from django.db import models


class _Cell(models.Model):
    tracked = models.BooleanField()
    region = models.CharField(max_length=16)
    organization = models.CharField(max_length=200)
    size_class = models.CharField(max_length=10, null=True)
    pipeline_tag = models.CharField(max_length=64)

    class Meta:
        abstract = True


CELL_FIELDS = ("tracked", "region", "organization", "size_class", "pipeline_tag")


class LicenceCount(_Cell):
    """Models of one cell and licence class, their all-time downloads, and the lineage edges whose
    resolved parent is one of them (licence-mix's derivatives)."""

    licence_class = models.CharField(max_length=16)
    model_count = models.BigIntegerField()
    downloads_all_time = models.BigIntegerField()
    derivatives = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=[*CELL_FIELDS, "licence_class"], nulls_distinct=False,
                                               name="licencecount_key")]


class ModelDayCount(_Cell):
    """Models of one cell created (UTC day) or released on a day: releases-by-region's counts,
    and the newest creation or release date a chart is "as of"."""

    field = models.CharField(max_length=8, help_text="created or released")
    date = models.DateField()
    model_count = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=[*CELL_FIELDS, "field", "date"], nulls_distinct=False,
                                               name="modeldaycount_key")]


class DerivativeCount(_Cell):
    """Derivatives of one cell (the child's) created on a day, by their base's namespace and
    their relation: each (child, base) pair once (analytics.derivatives.ancestors, direct), and
    apart the pairs counted among fine-tune edges alone (finetune_share_by_base_region's)."""

    created = models.DateField()
    base_namespace = models.CharField(max_length=200)
    relation = models.CharField(max_length=16)
    derivatives = models.BigIntegerField()
    finetunes = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=[*CELL_FIELDS, "created", "base_namespace", "relation"],
                                               nulls_distinct=False, name="derivativecount_key")]


class LicenceConflict(_Cell):
    """One lineage edge whose derivative's licence class allows more than its base's
    (analytics.licences.licence_conflicts), with the derivative's cell."""

    edge_id = models.BigIntegerField(unique=True)
    derivative = models.CharField(max_length=200)
    derivative_licence = models.CharField(max_length=96)
    derivative_class = models.CharField(max_length=16)
    relation = models.CharField(max_length=16)
    base = models.CharField(max_length=200)
    base_licence = models.CharField(max_length=96)
    base_class = models.CharField(max_length=16)


class CountChange(models.Model):
    """A write's signed contribution to the count aggregates, logged by the triggers in the
    writer's transaction and consumed by the next fold (every such write also logs a RollupChange,
    so the aggregates are not read until then).

    `kind`: "licence" (key = licence class; n1 models, n2 downloads, n3 derivatives), "day" (key =
    created or released, date; n1 models), "deriv" (date = created, key = relation, namespace =
    the base's; n1 pairs, n2 fine-tune pairs), "conflict" (edge_id: recheck that edge).
    """

    kind = models.CharField(max_length=8)
    tracked = models.BooleanField(null=True)
    region = models.CharField(max_length=16, null=True)
    organization = models.CharField(max_length=200, null=True)
    size_class = models.CharField(max_length=10, null=True)
    pipeline_tag = models.CharField(max_length=64, null=True)
    key = models.CharField(max_length=16, null=True)
    namespace = models.CharField(max_length=200, null=True)
    date = models.DateField(null=True)
    n1 = models.BigIntegerField(db_default=0)
    n2 = models.BigIntegerField(db_default=0)
    n3 = models.BigIntegerField(db_default=0)
    edge_id = models.BigIntegerField(null=True)


__all__ = ["LicenceCount", "ModelDayCount", "DerivativeCount", "LicenceConflict", "CountChange"]
