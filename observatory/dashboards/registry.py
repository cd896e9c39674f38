"""Every chart the observatory publishes: how its rows are computed and how it is drawn.

A metric here only wires loaders (analytics.frames) to a pure metric function and a pure
chart builder; the views and exports look charts up by name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import plotly.graph_objects as go
import polars as pl

from ingest import download_measures
from observatory import vocab
from observatory.analytics import (
    adoption,
    concentration,
    counts,
    derivatives,
    fine_tunability,
    finetunes,
    forecast,
    frames,
    gains,
    gap,
    licences,
    probe_gap,
    quality,
    releases,
    rollups,
    shares,
    tooling_readiness,
)
from observatory.analytics.filters import Filters, filter_models
from observatory.charts import adoption as adoption_charts
from observatory.charts import concentration as concentration_charts
from observatory.charts import fine_tunability as fine_tunability_charts
from observatory.charts import finetunes as finetune_charts
from observatory.charts import forecast as forecast_charts
from observatory.charts import gap as gap_charts
from observatory.charts import licences as licence_charts
from observatory.charts import lineage as lineage_charts
from observatory.charts import releases as release_charts
from observatory.charts import shares as share_charts
from observatory.charts import tooling_readiness as readiness_charts
from observatory.dashboards import probe_metrics, relative_forecast
from observatory.dashboards.params import ChartParams


@dataclasses.dataclass
class Computed:
    rows: pl.DataFrame
    as_of: dt.date | None
    extra: dict[str, pl.DataFrame] = dataclasses.field(default_factory=dict)
    info: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Metric:
    name: str
    title: str
    summary: str
    sources: Callable[[ChartParams], list[str]]
    compute: Callable[[ChartParams], Computed]
    chart: Callable[[Computed, ChartParams], go.Figure]
    uses: tuple[str, ...] = ("start", "end", "region", "organization", "size_class", "pipeline_tag", "scope")
    # The versioned definitions the numbers were computed under (metric and estimators), e.g.
    # {"metric": "ram-v2.1", "downloads": "daily-series-30d/v1"}: JSON carries it, CSV heads with it.
    methodology: dict[str, str] = dataclasses.field(default_factory=dict)


def _max_date(frame: pl.DataFrame, column: str) -> dt.date | None:
    return None if frame.is_empty() else frame[column].max()


def _models(p: ChartParams, *extra: str) -> pl.DataFrame:
    # The loader already selects by the filters in SQL; filtering again here is what defines them.
    return filter_models(frames.models(extra, p.filters), p.filters)


def _gain_cells(p: ChartParams) -> pl.DataFrame | None:
    """The daily-gain rollup's cells for the filters, or None while it is older than the data."""
    if not rollups.fresh():
        return None
    return filter_models(rollups.daily_gains(p.filters, end=p.filters.end), p.filters)


# --- adoption ----------------------------------------------------------------------------------

# The estimators that turn each source into the canonical download measures (ingest.download_measures).
DOWNLOAD_METHODOLOGY = {"downloads": "canonical-downloads/v1",
                        **{f"estimator:{name}": m.estimator for name, m in download_measures.SOURCES.items()}}

def _flagged_issues() -> pl.DataFrame:
    # Only the kinds and sources the count reads: the whole ledger searches every snapshot.
    return quality.issues_of(frames.DAILY_SOURCES, quality.FLAGGED_KINDS)


def _flags(p: ChartParams, model_ids: pl.Series | None, issues: pl.DataFrame | None = None) -> dict:
    """What the data-quality ledger says about the points a download chart draws (see quality)."""
    flagged = quality.flagged_in_view(_flagged_issues() if issues is None else issues, model_ids,
                                      start=p.filters.start, end=p.filters.end)
    return {"flagged": flagged, "flag_note": quality.flag_note(flagged)}


def _filtered_flags(p: ChartParams) -> dict:
    """_flags(p, the filtered models), loading only the flagged models: a chart read from the
    rollup has no model frame, and the whole catalogue (seconds at the Hub's size) would be
    loaded only to learn which of a few flagged models the filters keep."""
    issues = _flagged_issues()
    in_view = filter_models(frames.models_among(issues["model_id"], p.filters), p.filters)["model_id"]
    return _flags(p, in_view, issues)


def _cumulative(p: ChartParams) -> Computed:
    cells = _gain_cells(p)
    if cells is not None:
        rows = gains.cumulative_downloads_by_region(cells, start=p.filters.start, end=p.filters.end)
        return Computed(rows, _max_date(rows, "date"), info=_filtered_flags(p))
    models = _models(p)
    snaps = frames.snapshots(end=p.filters.end, filters=p.filters)
    rows = adoption.cumulative_downloads_by_region(snaps, models, start=p.filters.start,
                                                   end=p.filters.end, scope="all")
    return Computed(rows, _max_date(rows, "date"), info=_flags(p, models["model_id"]))


def _share(p: ChartParams) -> Computed:
    cells = _gain_cells(p)
    as_of = frames.latest_snapshot_date(p.filters.end)
    if cells is not None:
        rows = gains.download_share_by_org(cells, start=p.filters.start, end=p.filters.end, top_n=p.top)
        return Computed(rows, as_of, info=_filtered_flags(p))
    models = _models(p)
    snaps = frames.snapshots(end=p.filters.end, filters=p.filters)
    rows = shares.download_share_by_org(snaps, models, start=p.filters.start, end=p.filters.end, top_n=p.top)
    return Computed(rows, as_of, info=_flags(p, models["model_id"]))


def concentration_by(p: ChartParams) -> str:
    # The chart's `by` is organisation unless a family is asked for ('base' reads as one too);
    # the default `by` (region) would be five groups at most, no concentration measure.
    return "family" if p.by in ("family", "base") else "organization"


def _concentration(p: ChartParams) -> Computed:
    f, by = p.filters, concentration_by(p)
    cells = _gain_cells(p) if by == "organization" else None
    if cells is not None:
        gains_by = cells.select("date", pl.col("organization").alias("group"), pl.col("gain").alias("increment"))
        rows = concentration.concentration(gains_by, start=f.start, end=f.end)
        return Computed(rows, frames.latest_snapshot_date(f.end), info={"by": by, **_filtered_flags(p)})
    everyone = frames.models(("hub_id",))
    models = filter_models(everyone, f)
    groups = (models.select("model_id", pl.col("organization").alias("group")) if by == "organization" else
              concentration.family_roots(frames.edges(), models, everyone).rename({"family": "group"}))
    gains_by = adoption.daily_increments(frames.snapshots(end=f.end, filters=f), end=f.end).join(
        groups, on="model_id").select("date", "group", "increment")
    rows = concentration.concentration(gains_by, start=f.start, end=f.end)
    return Computed(rows, frames.latest_snapshot_date(f.end), info={"by": by, **_flags(p, models["model_id"])})


def relative_adoption_table(p: ChartParams) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(RAM table, snapshots, models) for the filters: the one RAM computation the table, the
    chart, the model card and the model API all read (through the relative-adoption metric)."""
    # Only the rows an adoption curve can use: sized models with a release date, from that date on.
    snaps = frames.snapshots(end=p.filters.end, filters=p.filters, since_release=True)
    models = _models(p, "hub_id", "release_date", "downloads_all_time")
    return adoption.relative_adoption(snaps, models, end=p.filters.end), snaps, models


def _relative(p: ChartParams) -> Computed:
    table, snaps, models = relative_adoption_table(p)
    size_class = p.filters.size_class or "7-9B"
    in_class = models.filter(pl.col("size_class") == size_class)
    curves = adoption.adoption_curves(snaps, in_class, end=p.filters.end)
    reference = adoption.reference_curves(adoption.adoption_curves(snaps, models, end=p.filters.end)).filter(
        pl.col("size_class") == size_class)
    # Draw the class's most downloaded models with a curve; the table keeps all of them.
    chosen = (table.filter((pl.col("size_class") == size_class) & pl.col("days_since_release").is_not_null())
              .head(p.top)["hub_id"].to_list())
    drawn = curves.filter(pl.col("hub_id").is_in(chosen))
    extra = {"curves": drawn, "reference": reference}
    if p.forecast:
        extra["forecast"] = relative_forecast.drawn_forecast(chosen, p.filters.end)
    return Computed(table, frames.latest_snapshot_date(p.filters.end), extra=extra,
                    info={"size_class": size_class, **_flags(p, drawn["model_id"].unique())})


def adoption_forecast(p: ChartParams) -> Computed:
    """The forecast as of p.as_of (the newest snapshot date when not given): every input cut to
    data dated by then (analytics.forecast). The growth law learns from every sized model; the
    rows are the filtered models'; "on track" compares with the scope's 10th place."""
    as_of = p.as_of or frames.latest_snapshot_date()
    if as_of is None:
        return Computed(pl.DataFrame(schema=forecast.ROW_SCHEMA), None)
    everyone = frames.models(("hub_id", "release_date"))
    target = p.target_date or (as_of + dt.timedelta(days=p.horizon_days) if p.horizon_days else None)
    rows = forecast.adoption_forecast(
        frames.snapshots(end=as_of, filters=Filters(scope="all"), since_release=True), everyone,
        frames.finetune_counts(), as_of=as_of, chosen=filter_models(everyone, p.filters), target_date=target,
        reference_models=filter_models(everyone, Filters(scope=p.filters.scope)))
    return Computed(rows, as_of, info={"target_date": target.isoformat() if target else None})


# --- lineage, licences, releases --------------------------------------------------------------

def _base(by: str) -> str:
    return "base" if by == "family" else by  # a family (download-concentration's `by`) is grouped by its base


def _derivatives(p: ChartParams) -> Computed:
    f, by = p.filters, _base(p.by)
    orgs = frames.organizations()
    if p.depth == "direct" and by in ("region", "organization") and counts.readable(f):
        # The per-cell counts (analytics.counts); a top list of base models or a tree walk reads the edges.
        pairs = counts.derivative_counts(f)
        rows = counts.derivatives_by_base(pairs, orgs, by=by, start=f.start, end=f.end, top_n=p.top)
        share = counts.finetune_share_by_base_region(pairs, orgs, start=f.start, end=f.end)
        return Computed(rows, counts.latest(counts.day_counts(f, "created")), extra={"finetune_share": share})
    # A direct count needs only the edges of the derivatives in scope; a tree walk needs them all.
    # In one order (of two spellings of a base, the smallest is the pair's), as the counts keep them.
    edges = (frames.edges(f) if p.depth == "direct" else frames.edges()).sort(["child_id", "parent_hub_id"])
    models = _models(p, "created_date")
    rows = derivatives.derivatives_by_base(edges, models, orgs, scope=p.depth, by=by, start=f.start, end=f.end,
                                           top_n=p.top)
    share = derivatives.finetune_share_by_base_region(edges, models, orgs, start=f.start, end=f.end)
    return Computed(rows, _max_date(models.drop_nulls("created_date"), "created_date"), extra={"finetune_share": share})


def _finetunes(p: ChartParams) -> Computed:
    # The observation window (and so the partial month) is the whole data's, not the selection's:
    # read apart, so the default scope loads only the tracked bases' counts (a few percent of the
    # rows once every Hub base with fine-tunes has a series).
    f = p.filters
    window_end = finetunes.latest_reading(frames.finetune_readings())
    counts = frames.finetune_counts(tracked_only=f.scope == "tracked")
    rows = finetunes.finetunes_by_origin(counts, frames.organizations(), start=f.start, end=f.end, regions=f.regions,
                                         organization=f.organization, scope=f.scope, by=_base(p.by), top_n=p.top,
                                         window_end=window_end)
    partial = finetunes.partial_month_of(window_end)
    return Computed(rows, window_end, info={"partial_month_left_out": partial.isoformat()[:7] if partial else None})


def _licences(p: ChartParams) -> Computed:
    if counts.readable(p.filters):
        return Computed(counts.licence_mix(counts.licence_counts(p.filters)), frames.latest_created_date(),
                        extra={"conflicts": counts.conflicts(p.filters)})
    # The models in scope, the edges touching them, and the bases of their derivatives: all the
    # licence mix and the conflicts read, not the whole catalogue.
    everyone = frames.models(("hub_id", "licence_id", "licence_class", "downloads_all_time"), p.filters,
                             parents_of_edges=True)
    models, edges = filter_models(everyone, p.filters), frames.edges(p.filters, touching=True)
    return Computed(licences.licence_mix(models, edges), frames.latest_created_date(),
                    extra={"conflicts": licences.licence_conflicts(models, edges, everyone)})


def _releases(p: ChartParams) -> Computed:
    if counts.readable(p.filters):
        days = counts.day_counts(p.filters, "released")  # models per release day and cell (analytics.counts)
        own, newest = counts.releases_by_region(days, start=p.filters.start, end=p.filters.end), counts.latest(days)
    else:
        models = _models(p, "release_date")
        own = releases.releases_by_region(models, start=p.filters.start, end=p.filters.end)
        newest = _max_date(models.drop_nulls("release_date"), "release_date")
    notable = frames.leaderboard("epoch-notable", ["notable"])
    # Epoch's list goes back to the 1950s; without a chosen start it is shown from the quarter of the
    # first tracked release, so both panels cover the same span.
    epoch_start = p.filters.start or (own["quarter"].min() if not own.is_empty() else None)
    epoch = releases.notable_releases_by_region(notable, start=epoch_start, end=p.filters.end)
    if p.filters.regions:
        epoch = epoch.filter(pl.col("region").is_in(list(p.filters.regions)))
    rows = pl.concat([own, epoch])
    as_of = max([d for d in (newest, _max_date(notable.drop_nulls("release_date"), "release_date")) if d],
                default=None)
    return Computed(rows, as_of)


# --- the open/closed gap ------------------------------------------------------------------------

GAP_SOURCES = {
    # source: (leaderboard source, benchmarks, label, unit, match threshold, attribution)
    "epoch-eci": ("epoch-eci", ["eci"], "Epoch Capabilities Index", "ECI points", 1.0, ["epoch"]),
    "lmarena": ("lmarena", ["arena-text"], "LMArena text score", "Arena points", 0.0, ["lmarena"]),
    # The probes' label is the drawn public set's (analytics.probe_gap), e.g. "observatory probes:
    # HellaSwag acc_norm, 1,000-item subset"; scores are shares of items (0-1).
    "probe": ("probe", None, "observatory probes", "score", 0.0, ["probe"]),
}
# How a closed model counts as caught up (analytics.gap.RULES). Epoch's index and LMArena carry an
# interval per score, so Epoch's own rule applies (the difference is not significant); the point
# tolerance above decides wherever a score has no interval. Probes have none.
GAP_MATCH_RULES = {"epoch-eci": "interval-difference", "lmarena": "interval-difference", "probe": "tolerance"}
# The sources themselves are the vocabulary's (the `source` parameter accepts vocab.GAP_SOURCES):
# one without its details here would be a 500 on request, so it fails at start-up instead.
if not set(vocab.GAP_SOURCES) == set(GAP_SOURCES) == set(GAP_MATCH_RULES):
    raise RuntimeError(f"gap sources {sorted(vocab.GAP_SOURCES)} (observatory/vocab.py) need exactly their details "
                       f"here, not {sorted(GAP_SOURCES)} and match rules for {sorted(GAP_MATCH_RULES)}")


def gap_models(p: ChartParams) -> tuple[pl.DataFrame, dt.date | None, dict]:
    """The models of the source released in the range, the range's as-of date, and what was chosen."""
    source, benchmarks, *_ = GAP_SOURCES[p.source]
    entries = frames.leaderboard(source, benchmarks)
    info: dict = {}
    if source == "probe":
        # Public sets only (a frontier within one set and size: probe_gap); a model's date is its
        # release date, or the day it was first probed where the catalogue has none.
        entries, info = probe_gap.public_probe_entries(entries)
        entries = entries.with_columns(pl.coalesce("release_date", "snapshot_date").alias("snapshot_date"))
    models = gap.snapshot_models(entries) if source in ("lmarena", "probe") else gap.released_models(entries)
    if p.filters.start:
        models = models.filter(pl.col("date") >= p.filters.start)
    if p.filters.end:
        models = models.filter(pl.col("date") <= p.filters.end)
    as_of_candidates = [d for d in (_max_date(entries.drop_nulls("snapshot_date"), "snapshot_date"),
                                    _max_date(models, "date")) if d]
    as_of = p.filters.end or (max(as_of_candidates) if as_of_candidates else None)
    return models, as_of, info


def _gap(p: ChartParams) -> Computed:
    threshold = GAP_SOURCES[p.source][4]
    models, as_of, info = gap_models(p)
    fronts = gap.frontiers(models)
    rule = GAP_MATCH_RULES[p.source]
    gaps = gap.horizontal_gaps(models, threshold=threshold, as_of=as_of or dt.date.today(), rule=rule)
    return Computed(fronts, as_of, extra={"horizontal_gaps": gaps},
                    info={**info, "current_gap": gap.current_gap(gaps, fronts), "match_threshold": threshold,
                          "match_rule": rule, "gap": gap.mean_horizontal_gap(gaps),
                          "vertical_gap": gap.mean_vertical_gap(fronts, end=as_of)})


def _gap_chart(c: Computed, p: ChartParams) -> go.Figure:
    _source, _b, label, unit, _t, attribution = GAP_SOURCES[p.source]
    label = c.info.get("source_label", label)
    return gap_charts.open_closed_gap(c.rows, c.extra["horizontal_gaps"], source_label=label, unit=unit,
                                      sources=attribution, estimate=c.info["current_gap"], as_of=c.as_of,
                                      mean_gap=c.info["gap"], vertical=c.info["vertical_gap"],
                                      x_title="Release date" if p.source == "epoch-eci" else
                                      "Release date (else first probed)" if p.source == "probe" else
                                      "First appearance on the leaderboard (date)")


METRICS: dict[str, Metric] = {m.name: m for m in [
    Metric("cumulative-downloads-by-region", "Cumulative downloads by region",
           "Downloads accumulated since the range's first day, stacked by the region of the model's organisation.",
           lambda p: ["daily-series", "hub", "atom"], _cumulative,
           lambda c, p: adoption_charts.cumulative_downloads_by_region(c.rows, as_of=c.as_of, scope=p.filters.scope,
                                                                       note=c.info.get("flag_note")),
           methodology=DOWNLOAD_METHODOLOGY),
    Metric("download-share-by-org", "Download share by organisation",
           "Each organisation's share of the downloads gained in a month; the top N organisations and the rest.",
           lambda p: ["daily-series", "hub", "atom"], _share,
           lambda c, p: share_charts.download_share_by_org(c.rows, as_of=c.as_of, note=c.info.get("flag_note")),
           methodology=DOWNLOAD_METHODOLOGY),
    Metric("download-concentration", "Download concentration",
           "How concentrated the downloads gained each month are: the Herfindahl-Hirschman index (0-10,000) and "
           "the top-1/5/10 shares, over organisations or model families (root base models).",
           lambda p: ["daily-series", "hub", "atom"], _concentration,
           lambda c, p: concentration_charts.download_concentration(c.rows, by=c.info["by"], scope=p.filters.scope,
                                                                    as_of=c.as_of, note=c.info.get("flag_note")),
           methodology={"metric": concentration.METHODOLOGY, **DOWNLOAD_METHODOLOGY}),
    Metric("derivatives-by-base", "Derivatives by base model",
           "New fine-tunes, adapters, quantisations and merges per month, by their base model's region, "
           "organisation or model, directly or through the whole tree.",
           lambda p: ["hub", "atom"], _derivatives,
           lambda c, p: lineage_charts.derivatives_by_base(c.rows, c.extra["finetune_share"], by=_base(p.by), scope=p.depth,
                                                          as_of=c.as_of),
           # v2: one node per model (any casing, renamed repos through aliases), once per (child, base).
           methodology={"metric": "derivatives-v2"}),
    Metric("finetunes-by-origin", "Derivatives by base-model origin",
           "Each region's share of the new fine-tunes per month, by the region of the base model's organisation "
           "(ATOM's chart), from the monthly fine-tune counts per base model; optionally split by organisation.",
           lambda p: ["finetune-counts", "atom"], _finetunes,
           lambda c, p: finetune_charts.finetunes_by_origin(
               c.rows, by=_base(p.by), scope=p.filters.scope, as_of=c.as_of,
               partial_month=dt.date.fromisoformat(c.info["partial_month_left_out"] + "-01")
               if c.info.get("partial_month_left_out") else None),
           uses=("start", "end", "region", "organization", "scope"),
           methodology={"metric": finetunes.METHODOLOGY}),
    Metric("relative-adoption", "Relative adoption (RAM v1 and v2)",
           "Cumulative downloads against days since release, against the 10th-most-downloaded model of the size class.",
           lambda p: ["daily-series", "hub", "atom"], _relative,
           lambda c, p: adoption_charts.relative_adoption(c.extra["curves"], c.extra["reference"],
                                                          size_class=c.info["size_class"], as_of=c.as_of,
                                                          note=c.info.get("flag_note"), forecast=c.extra.get("forecast")),
           uses=("start", "end", "region", "organization", "size_class", "pipeline_tag", "scope", "forecast"),
           methodology={"metric": adoption.RAM_METHODOLOGY, **DOWNLOAD_METHODOLOGY}),
    Metric("adoption-forecast", "Adoption forecast",
           "Cumulative downloads and fine-tunes forecast at 90, 180 and 365 days (and a chosen date) with "
           "10th/50th/90th percentiles, and the probability of RAM v2 ≥ 1 at day 90, as of any date.",
           lambda p: ["daily-series", "hub", "finetune-counts", "atom"], adoption_forecast,
           lambda c, p: forecast_charts.likely_top10(c.rows, top=p.top, as_of=c.as_of),
           uses=("region", "organization", "size_class", "pipeline_tag", "scope", "as_of", "target_date",
                 "horizon_days"),
           methodology={"metric": forecast.METHODOLOGY, "ram": adoption.RAM_METHODOLOGY, **DOWNLOAD_METHODOLOGY}),
    Metric("releases-by-region", "Releases by region",
           "Tracked releases per region per quarter by (corrected) release date, with Epoch AI's notable models.",
           lambda p: ["hub", "atom", "epoch"], _releases,
           lambda c, p: release_charts.releases_by_region(c.rows, as_of=c.as_of),
           methodology={"metric": "releases-by-region/v1"}),
    Metric("licence-mix", "Licence mix and conflicts",
           "Models, downloads and derivatives by licence class, and derivatives more permissive than their base.",
           lambda p: ["hub", "atom"], _licences, lambda c, p: licence_charts.licence_mix(c.rows, as_of=c.as_of),
           methodology={"metric": "licence-mix/v1", **DOWNLOAD_METHODOLOGY}),
    Metric("open-closed-gap", "Open/closed gap",
           "Closed and open frontiers over time, the vertical gap in points and the horizontal gap in months.",
           lambda p: GAP_SOURCES[p.source][5], _gap, _gap_chart, uses=("start", "end", "source"),
           methodology={"metric": "gap-v2", "match": "interval-difference/v1",
                        "gap-interval": "bootstrap-closed-frontier-90/v1", "probe-scores": "public-set-headline/v1"}),
    # The observatory's own probes (dashboards.probe_metrics): public runs that succeeded only.
    Metric("fine-tunability", "Fine-tunability leaderboard",
           "Every profiled model's LoRA fine-tuning side by side: loss curves, steps to target, held-out gain, "
           "forgetting, learning-rate sensitivity and divergence, peak memory, tokens/s and wall time; ranked only "
           "among runs of the same probe config.",
           lambda p: ["probe"], lambda p: Computed(*probe_metrics.fine_tunability_parts(p)),
           lambda c, p: fine_tunability_charts.loss_curves(c.extra["curves"], config_hash=c.info["ranked_config"],
                                                           as_of=c.as_of),
           uses=("region", "size_class", "licence_class"), methodology={"metric": fine_tunability.METHODOLOGY}),
    Metric("tooling-readiness", "Tooling readiness over time",
           "Days from release until every check of the tooling probe passes, by region or organisation and month "
           "of release, and the share of watched releases ready at days 0, 7 and 30.",
           lambda p: ["probe", "hub", "atom"], lambda p: Computed(*probe_metrics.tooling_readiness_parts(p)),
           lambda c, p: readiness_charts.tooling_readiness(c.rows, by=c.info["by"], as_of=c.as_of),
           uses=("start", "end", "region", "organization", "size_class", "scope"),
           methodology={"metric": tooling_readiness.METHODOLOGY}),
]}
