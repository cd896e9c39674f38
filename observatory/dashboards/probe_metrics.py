"""The metrics computed from the observatory's own probe runs: the fine-tunability leaderboard
and tooling readiness over time. registry.py registers them; each function here returns what
registry.Computed holds (rows, as_of, extra, info), so this module needs nothing from registry.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from observatory.analytics import fine_tunability, frames, probe_frames, tooling_readiness
from observatory.analytics.filters import filter_models
from observatory.dashboards.params import ChartParams

Parts = tuple[pl.DataFrame, dt.date | None, dict[str, pl.DataFrame], dict]


def _config_summary(config: dict) -> str:
    """What a reader needs to know of a finetune config to compare runs."""
    lora = config.get("lora") or {}
    return (f"tasks {', '.join(config.get('tasks', []))}; {config.get('steps')} steps, batch {config.get('batch_size')}, "
            f"learning rate {config.get('learning_rate')} (sweep {', '.join(str(x) for x in config.get('lr_sweep', []))}); "
            f"LoRA r={lora.get('r')}, alpha={lora.get('lora_alpha')}, {lora.get('target_modules')}; "
            f"target loss {config.get('target_loss')}; seed {config.get('seed')}")


def fine_tunability_parts(p: ChartParams) -> Parts:
    runs, curves, configs = probe_frames.finetune_runs()
    # Every profiled model, tracked or not (a lab submits what it likes): the filters are the
    # region and the size and licence classes only.
    models = probe_frames.models_of(runs["model_id"].drop_nulls().unique().to_list())
    f = p.filters
    table = fine_tunability.leaderboard(runs, models, regions=f.regions, size_class=f.size_class,
                                        licence_class=f.licence_class)
    drawn = fine_tunability.ranked_curves(curves, table)
    ranked = table.filter(pl.col("config_order") == 0)["config_hash"].to_list()
    described = [{"config_hash": h, "models": int(n), "summary": _config_summary(configs[h]), "config": configs[h]}
                 for h, n in table.select("config_hash", "models_in_config").unique(maintain_order=True).iter_rows()]
    as_of = table["finished_at"].max().date() if not table.is_empty() else None
    return (table.drop("config_order"), as_of, {"curves": drawn},
            {"ranked_config": ranked[0] if ranked else None, "configs": described,
             "fine_tunability_methodology": fine_tunability.METHODOLOGY})


def tooling_readiness_parts(p: ChartParams, *, today: dt.date | None = None) -> Parts:
    today = today or probe_frames.utc_today()
    f = p.filters
    readiness = probe_frames.readiness_by_model()
    # Only the checked models: per_model keeps no other, and the catalogue is millions of rows.
    models = filter_models(frames.models_among(readiness["model_id"], f, ("hub_id", "release_date")), f)
    if f.start:
        models = models.filter(pl.col("release_date") >= f.start)
    if f.end:
        models = models.filter(pl.col("release_date") <= f.end)
    table = tooling_readiness.per_model(models, readiness, today=today)
    by = p.by if p.by in ("region", "organization") else "region"
    rows = tooling_readiness.by_group(table, by=by)
    as_of = table["ready_on"].max() if not table.drop_nulls("ready_on").is_empty() else None
    return (rows, as_of, {"models": table}, {"by": by, "today": today.isoformat()})
