"""Aggregates the relative-adoption metric reads, kept beside the daily-gain rollup (issue 17;
analytics.ram_aggregates folds and reads them).

A curve point is a daily row with a cumulative count since release (adoption.SINCE_RELEASE_KINDS)
of a sized model with a release date, on or after that date. RAM needs, per model, its latest
point, and per size class and day t the 10th-highest point among the models in scope: the 10th
place of a union of filter cells is the 10th-highest of the cells' own top tens, so each cell
keeps its top ten per t (RamPlace). RamLatest keeps every model's latest qualifying row and the
cell and release date it was counted under, which is how a fold tells a new point from one it
counted before, and a model that moved from one it did not. RamWrite logs the (model, day) of
every snapshot row written (migration 0010's triggers), so a fold knows which rows are new.
"""

from __future__ import annotations

from django.db import models


class RamLatest(models.Model):
    """A model's latest daily row with a cumulative count since release (whatever its release
    date: days since release are taken at reading), and the cell and release date it counts in."""

    model_id = models.BigIntegerField(primary_key=True)
    tracked = models.BooleanField()
    region = models.CharField(max_length=16)
    organization = models.CharField(max_length=200)
    size_class = models.CharField(max_length=10, null=True)
    pipeline_tag = models.CharField(max_length=64)
    release_date = models.DateField(null=True)
    date = models.DateField()
    cumulative = models.BigIntegerField()


class RamPlace(models.Model):
    """One of the top ten curve points of a filter cell and size class at `days` since release
    (`rank` 1 is the highest; ties keep every copy), and how many points the cell has there."""

    tracked = models.BooleanField()
    region = models.CharField(max_length=16)
    organization = models.CharField(max_length=200)
    size_class = models.CharField(max_length=10)
    pipeline_tag = models.CharField(max_length=64)
    days = models.IntegerField()
    rank = models.SmallIntegerField()
    cumulative = models.BigIntegerField()
    points = models.IntegerField()

    class Meta:
        # What a fold replaces: a cell's places at the days its new points landed on.
        indexes = [models.Index(fields=["organization", "size_class", "days"], name="ramplace_org_size_days")]


class RamWrite(models.Model):
    """A snapshot row written since the last fold (model, day), logged by migration 0010's triggers."""

    model_id = models.BigIntegerField()
    date = models.DateField()
