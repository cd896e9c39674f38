"""The data-quality ledger's cross-source entries and what keeps them, beside the daily-gain
rollup (issue 17; analytics.quality folds them in with every refresh).

Contradictions and crawl gaps are found across a model's whole history, which at the Hub's
size is a window over tens of millions of rows: the ledger page cannot run it per request.
They are kept here instead, with the per-(model, source) state a new day is checked against
(its peak all-time count, its last day), the coverage the page prints, and the entry counts by
(source, kind).
"""

from __future__ import annotations

from django.db import models

__all__ = ["QualityEntry", "QualityState", "QualityCoverage", "QualityCount", "QualityDirty"]


class _Bytewise:
    """Text in PostgreSQL's "C" collation (bytewise order). SQLite (the embedded default) knows no
    collation of that name and compares bytewise already (BINARY): there the column has none."""

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor != "postgresql":
            params["collation"] = None
        return params


class BytewiseCharField(_Bytewise, models.CharField):
    pass


class BytewiseTextField(_Bytewise, models.TextField):
    pass


class QualityEntry(models.Model):
    """One contradiction or crawl gap, as analytics.quality.contradictions() and crawl_gaps() find it."""

    # Text in bytewise order ("C"), like the ledger's polars sort: the page's first rows are read
    # off the index below in the ledger's order, whatever the database's own collation.
    source = BytewiseCharField(max_length=32, db_collation="C")
    model = models.ForeignKey("catalog.HubModel", on_delete=models.CASCADE, related_name="+", db_index=False)
    # The model's current id (a rename makes its model dirty, so the fold rewrites it).
    hub_id = BytewiseCharField(max_length=200, db_collation="C")
    kind = BytewiseCharField(max_length=32, db_collation="C")
    date = models.DateField()
    end_date = models.DateField()
    days = models.BigIntegerField()
    detail = BytewiseTextField(db_collation="C")

    class Meta:
        indexes = [
            models.Index(fields=["model", "date"], name="qualityentry_model_date"),
            # The ledger's order, unfiltered and by kind (the page's two common reads).
            models.Index(fields=["source", "hub_id", "date", "kind"], name="qualityentry_ledger_order"),
            models.Index(fields=["kind", "source", "hub_id", "date"], name="qualityentry_kind_order"),
        ]


class QualityState(models.Model):
    """One model's rows of one source as of the last fold: how many, their first and last day and
    the highest all-time count among them (what a later day's row is checked against)."""

    model = models.ForeignKey("catalog.HubModel", on_delete=models.CASCADE, related_name="+", db_index=False)
    source = models.CharField(max_length=32)
    rows = models.BigIntegerField()
    first_date = models.DateField()
    last_date = models.DateField()
    peak = models.BigIntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "source"], name="qualitystate_one_per_model_source")]


class QualityCoverage(models.Model):
    """(source, models, rows, first_date, last_date) of the stored snapshots, as of the last fold."""

    source = models.CharField(max_length=32, primary_key=True)
    model_count = models.BigIntegerField()
    rows = models.BigIntegerField()
    first_date = models.DateField()
    last_date = models.DateField()


class QualityCount(models.Model):
    """How many kept entries of one source and kind there are, and the days they cover."""

    source = models.CharField(max_length=32)
    kind = models.CharField(max_length=32)
    entries = models.BigIntegerField()
    days = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "kind"], name="qualitycount_one_per_source_kind")]


class QualityDirty(models.Model):
    """A model whose kept entries the next fold recomputes from its rows: logged by triggers
    (migration 0012) when its snapshot rows are deleted, moved or changed, or it is renamed."""

    model_id = models.BigIntegerField()
