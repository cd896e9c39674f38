"""New fine-tunes per month by the origin (region) of their base model, from the monthly counts.

The source (KBhandari11/ForecastHuggingFaceModels, `downloads/finetune/*.csv`) gives, per base
model, the cumulative number of fine-tunes n calendar months after the base's `created_at`
(`0-month` … `34-month`, 0 at month 0). Definition `finetunes-by-origin/v1`:

- A base's new fine-tunes in step n are `count(n) - count(n-1)`, defined only where both months
  are observed. The step ends at created_at + n months, so it is placed in the calendar month
  `creation month + n` (the month in which the n-month count was read).
- An empty cell is a month the source did not observe (it lies after the collection date), not
  zero new fine-tunes: the base then has no step there and is absent from that month's total.
  A gap inside a series (none in the published files) leaves both steps around it unobserved
  rather than lumping two months' growth into one.
- The month that holds the latest observation is only partly observed (bases whose monthly
  anniversary fell after the collection date are missing from it), so a month is reported only
  when it ends before the latest observation; the partial month is left out and named.
- A base's region is its Hub namespace's organisation region (ATOM's region table), else
  'unknown'; its organisation is the namespace.
- `share` is a row's new fine-tunes over all new fine-tunes of that month in the rows' selection.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

METHODOLOGY = "finetunes-by-origin/v1"
GROUPINGS = {"region": [], "organization": ["organization"], "base": ["organization", "base_model"]}


def _observations(counts: pl.DataFrame) -> pl.DataFrame:
    """Each observed count with the date it was read (created + n months, day clipped to month end)."""
    return (
        counts.drop_nulls(["created_date", "cumulative_count"])
        .with_columns(pl.col("created_date").dt.offset_by(pl.format("{}mo", pl.col("months_since_creation")))
                      .alias("observed_on"))
    )


def observation_end(counts: pl.DataFrame) -> dt.date | None:
    """The latest date any count was read: the end of the series' observation window."""
    return latest_reading(counts.drop_nulls(["created_date", "cumulative_count"]))


def latest_reading(readings: pl.DataFrame) -> dt.date | None:
    """The latest of the dates (created_date + months_since_creation months, the day clipped to
    the month's end) that `readings` name; frames.finetune_readings() gives the counts' few
    (creation date, most months) pairs, whose latest is the counts' observation_end."""
    dated = readings.drop_nulls(["created_date", "months_since_creation"])
    if dated.is_empty():
        return None
    return dated.select(pl.col("created_date").dt.offset_by(pl.format("{}mo", pl.col("months_since_creation")))
                        .max()).item()


def monthly_steps(counts: pl.DataFrame) -> pl.DataFrame:
    """(base_hub_id, month, new_finetunes): one row per base and observed one-month step.

    `counts`: base_hub_id, months_since_creation, cumulative_count, created_date (the base's
    creation date as the series gives it).
    """
    ordered = _observations(counts).sort(["base_hub_id", "months_since_creation"])
    return (
        ordered.with_columns(
            pl.col("months_since_creation").shift(1).over("base_hub_id").alias("previous_month"),
            pl.col("cumulative_count").shift(1).over("base_hub_id").alias("previous_count"))
        # Only a step between two consecutive observed months counts; see the module docstring.
        .filter(pl.col("previous_month") == pl.col("months_since_creation") - 1)
        .select(
            "base_hub_id",
            pl.col("created_date").dt.truncate("1mo")
            .dt.offset_by(pl.format("{}mo", pl.col("months_since_creation"))).alias("month"),
            (pl.col("cumulative_count") - pl.col("previous_count")).cast(pl.Int64).alias("new_finetunes"))
    )


def finetunes_by_origin(counts: pl.DataFrame, organizations: pl.DataFrame, *, start: dt.date | None = None,
                        end: dt.date | None = None, regions: tuple[str, ...] = (), organization: str = "",
                        scope: str = "tracked", by: str = "region", top_n: int = 8,
                        window_end: dt.date | None = None) -> pl.DataFrame:
    """(month, region, [organization, [base_model]], new_finetunes, share), sorted.

    `counts` as for monthly_steps plus `tracked` (the base is a tracked HubModel);
    `organizations`: namespace, region. Filters select bases: `scope` tracked (the default) or
    all, `regions` and `organization` of the base; `start` and `end` keep the months that
    contain them and those between. `by` 'organization' ('base') splits each region into its top
    N organisations (base models) by new fine-tunes in the selection, the rest as 'other'.
    `window_end`: the whole series' observation_end, where `counts` holds only some of them (the
    partial month is the data's, not the selection's); by default observation_end(counts).
    """
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    if scope not in ("tracked", "all"):
        raise ValueError("scope must be 'tracked' or 'all'")
    end_of_window = window_end or observation_end(counts)
    bases = (
        counts.select("base_hub_id", "tracked").unique("base_hub_id", keep="first")
        .with_columns(pl.col("base_hub_id").str.split("/").list.first().alias("organization"))
        .join(organizations.select(pl.col("namespace").alias("organization"), "region"), on="organization",
              how="left")
        .with_columns(pl.col("region").fill_null("unknown"))
    )
    if scope == "tracked":
        bases = bases.filter(pl.col("tracked"))
    if regions:
        bases = bases.filter(pl.col("region").is_in(list(regions)))
    if organization:
        bases = bases.filter(pl.col("organization") == organization)
    steps = monthly_steps(counts.join(bases.select("base_hub_id"), on="base_hub_id", how="semi")).join(
        bases.select("base_hub_id", "organization", "region"), on="base_hub_id", how="inner")
    if end_of_window is not None:
        # The month of the latest observation is partial (see the module docstring).
        steps = steps.filter(pl.col("month") < pl.lit(end_of_window).dt.truncate("1mo"))
    if start is not None:
        steps = steps.filter(pl.col("month") >= pl.lit(start).dt.truncate("1mo"))
    if end is not None:
        steps = steps.filter(pl.col("month") <= pl.lit(end).dt.truncate("1mo"))
    keys = ["month", "region", *GROUPINGS[by]]
    if by != "region":
        column = "organization" if by == "organization" else "base_hub_id"
        ranked = (steps.group_by(column).agg(pl.col("new_finetunes").sum())
                  .sort(["new_finetunes", column], descending=[True, False]).head(top_n)[column].to_list())
        steps = steps.with_columns(
            pl.when(pl.col(column).is_in(ranked)).then(pl.col(column)).otherwise(pl.lit("other")).alias(column))
        if by == "base":
            # An organisation's name says little once its bases are pooled as 'other'.
            steps = steps.with_columns(
                pl.when(pl.col("base_hub_id") == "other").then(pl.lit("other")).otherwise(pl.col("organization"))
                .alias("organization"),
                pl.col("base_hub_id").alias("base_model"))
    rows = steps.group_by(keys).agg(pl.col("new_finetunes").sum().cast(pl.Int64))
    total = pl.col("new_finetunes").sum().over("month")
    return (
        rows.with_columns(pl.when(total > 0).then(pl.col("new_finetunes") / total).otherwise(None)
                          .cast(pl.Float64).alias("share"))
        .select(*keys, "new_finetunes", "share")
        .sort(keys)
    )


def partial_month(counts: pl.DataFrame) -> dt.date | None:
    """The first day of the month left out as only partly observed."""
    return partial_month_of(observation_end(counts))


def partial_month_of(window_end: dt.date | None) -> dt.date | None:
    """partial_month() from the observation window's end."""
    return None if window_end is None else window_end.replace(day=1)
