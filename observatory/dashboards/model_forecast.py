"""A model's adoption forecast, read from the one forecast computation (the adoption-forecast
metric's default rows), so the model card's fan and /api/models/<org>/<name> show the dashboard's
numbers; and the card's fan drawn from them (charts.forecast.forecast_fan)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl

from observatory.analytics import adoption, forecast
from observatory.analytics.filters import Filters
from observatory.analytics.frames import DAILY_SOURCES
from observatory.catalog.models import DownloadSnapshot, HubModel
from observatory.charts.embedding import figure_html
from observatory.charts.forecast import forecast_fan
from observatory.dashboards import results
from observatory.dashboards.params import ChartParams

ROW_FIELDS = ("measure", "horizon", "target_date", "target_days", "days_observed", "observed", "p10", "p50",
              "p90", "p_on_track")


@dataclasses.dataclass(frozen=True)
class ModelForecast:
    rows: pl.DataFrame        # the model's rows of the default forecast (ROW_FIELDS), by measure and age
    as_of: dt.date | None

    @property
    def methodology(self) -> str:
        return forecast.METHODOLOGY

    def document(self) -> dict:
        """{methodology, as_of, rows, note}: the model JSON's part."""
        note = None
        if self.rows.is_empty():
            note = ("not in the default forecast (it forecasts tracked models with a size class and a release "
                    f"date, or a base's fine-tunes, from at least {forecast.MIN_HISTORY_DAYS} days of history)")
        return {"methodology": self.methodology, "as_of": self.as_of.isoformat() if self.as_of else None,
                "rows": results._jsonable(self.rows), "note": note}


def model_forecast(model: HubModel) -> ModelForecast:
    computed = results.computed("adoption-forecast", ChartParams(filters=Filters()))
    rows = computed.rows.filter(pl.col("hub_id") == model.hub_id).sort(["measure", "target_days"])
    return ModelForecast(rows.select(ROW_FIELDS), computed.as_of)


def fan_html(model: HubModel, fc: ModelForecast) -> str:
    """The card's downloads fan: the cumulative downloads since release the forecast read (the
    daily sources, dated by its as_of) and its median and 80% band; "" without a downloads forecast."""
    if fc.as_of is None or fc.rows.filter(pl.col("measure") == "downloads").is_empty():
        return ""
    snaps = pl.DataFrame(
        list(DownloadSnapshot.objects.filter(model=model, date__lte=fc.as_of, source__in=DAILY_SOURCES)
             .values_list("model_id", "date", "cumulative_kind", "downloads_all_time")),
        schema={"model_id": pl.Int64, "date": pl.Date, "cumulative_kind": pl.Utf8, "downloads_all_time": pl.Float64},
        orient="row")
    one = pl.DataFrame({"model_id": [model.pk], "hub_id": [model.hub_id], "size_class": [model.size_class],
                        "release_date": [model.release_date]}, schema={"model_id": pl.Int64, "hub_id": pl.Utf8,
                                                                       "size_class": pl.Utf8, "release_date": pl.Date})
    curve = adoption.adoption_curves(snaps, one).sort("days")
    return figure_html(forecast_fan(curve, fc.rows, hub_id=model.hub_id, as_of=fc.as_of), div_id="chart-model-forecast")
