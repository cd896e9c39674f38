"""One model's facts, for both places that show them: the model card (dashboards.pages) and the
model JSON (/api/models/<org>/<name>, ingest.views).

Both find the model the one way (any casing, or an old name of a renamed repo: ingest.identity)
and read each fact from here, computed once per request and one way: its region, old names,
latest snapshot, parents, derivatives by relation, licence conflicts (observatory.vocab's one
rule), relative adoption (the one RAM computation), the adoption forecast and the tooling-readiness
timeline. What only the card draws (the downloads
chart, the ancestor walk, leaderboard rows, probe runs) stays in pages.
"""

from __future__ import annotations

from functools import cached_property

from django.db.models import Count

from gpu_workers.tooling_checks import model_timeline
from ingest.identity import find_model
from observatory.catalog.models import DownloadSnapshot, HubModel, LineageEdge, Run
from observatory.dashboards.model_forecast import ModelForecast, model_forecast
from observatory.dashboards.model_ram import model_ram
from observatory.vocab import is_licence_conflict

# Each public item set's scores as lm-evaluation-harness names them (see the methodology page).
PUBLIC_SCORES = {
    "hellaswag": (("accuracy", "acc"), ("accuracy_norm", "acc_norm")),
    "mmlu-redux": (("accuracy", "acc"), ("accuracy_ok", "acc on items marked OK")),
    "gsm8k": (("exact_match_strict", "exact match, strict"), ("exact_match_flexible", "exact match, flexible")),
}


def find(hub_id: str) -> HubModel | None:
    """The stored model `hub_id` names: exactly, under another casing or through an alias."""
    return find_model(hub_id, HubModel.objects.select_related("organization"))


class ModelFacts:
    """The facts about `model` that the card and the JSON share, each computed on first use."""

    def __init__(self, model: HubModel):
        self.model = model

    @property
    def region(self) -> str:
        return self.model.organization.region if self.model.organization else "unknown"

    @cached_property
    def aliases(self) -> list[str]:
        return list(self.model.aliases.order_by("old_hub_id").values_list("old_hub_id", flat=True))

    @cached_property
    def latest(self) -> DownloadSnapshot | None:
        return DownloadSnapshot.objects.filter(model=self.model).order_by("-date").first()

    @cached_property
    def parents(self) -> list[tuple[str, str]]:
        """(parent id as the edge names it, relation), by parent id."""
        return list(LineageEdge.objects.filter(child=self.model).order_by("parent_hub_id")
                    .values_list("parent_hub_id", "relation"))

    @cached_property
    def children_by_relation(self) -> list[tuple[str, int]]:
        """(relation, direct derivatives), by relation."""
        return sorted(LineageEdge.objects.filter(parent=self.model).values_list("relation")
                      .annotate(n=Count("id")).values_list("relation", "n"))

    @property
    def children_count(self) -> int:
        return sum(n for _, n in self.children_by_relation)

    @cached_property
    def licence_conflicts(self) -> list[dict]:
        """The stored bases whose licence class this model's allows more than, by base id."""
        edges = (LineageEdge.objects.filter(child=self.model, parent__isnull=False).select_related("parent")
                 .order_by("parent_hub_id"))
        return [{"parent": e.parent_hub_id, "parent_licence": e.parent.licence_id, "parent_class": e.parent.licence_class}
                for e in edges if is_licence_conflict(self.model.licence_class, e.parent.licence_class)]

    @cached_property
    def tooling_timeline(self) -> dict:
        """The tooling probe's dated checks and days to ready (gpu_workers.readiness's rule)."""
        return model_timeline(self.model)

    @cached_property
    def public_benchmarks(self) -> list[dict]:
        """The newest public benchmark-probe score on each public item set (HellaSwag, MMLU-Redux,
        GSM8K), with the subset's size and hash: the figures a model card or paper can be set beside."""
        from probes.public_sets import NAMES
        from probes.registry import fmt

        runs = (self.model.probe_runs.filter(public=True, probe="benchmark", run__status=Run.Status.SUCCEEDED)
                .select_related("run").order_by("-run__finished_at", "-pk"))
        found: dict[str, dict] = {}
        for run in runs:
            metrics = (run.result or {}).get("metrics", {})
            name = str(metrics.get("item_set", "")).split("[")[0]
            if name in NAMES and name not in found:
                found[name] = {"item_set": name, "subset": metrics["item_set"], "items": metrics.get("items"),
                               "item_set_hash": str(metrics.get("item_set_hash", ""))[:12],
                               "scores": [(label, fmt(metrics[key], "pct")) for key, label in PUBLIC_SCORES[name]
                                          if metrics.get(key) is not None],
                               "finished_at": run.run.finished_at, "probe_run": run.pk}
        return [found[n] for n in NAMES if n in found]

    @cached_property
    def ram(self) -> dict:
        return model_ram(self.model)

    @cached_property
    def forecast(self) -> ModelForecast:
        """The model's rows of the default adoption forecast (the dashboard's one computation)."""
        return model_forecast(self.model)

    def document(self) -> dict:
        """The model JSON."""
        model, latest = self.model, self.latest
        return {
            "id": model.hub_id,
            "aliases": self.aliases,
            "organization": model.organization.namespace if model.organization else None,
            "region": self.region,
            "created_at": model.created_at.isoformat() if model.created_at else None,
            "release_date": model.release_date.isoformat() if model.release_date else None,
            "pipeline_tag": model.pipeline_tag or None,
            "licence": {"raw": model.licence_raw, "id": model.licence_id or None, "class": model.licence_class},
            "licence_conflicts": [{"parent": c["parent"], "parent_class": c["parent_class"]}
                                  for c in self.licence_conflicts],
            "parameters": {"total": model.total_params, "active": model.active_params,
                           "source": model.params_source or None, "size_class": model.size_class or None},
            "parents": [{"id": parent, "relation": relation} for parent, relation in self.parents],
            "children_count": self.children_count,
            "tracked": model.tracked,
            "tracked_reason": model.tracked_reason,
            "latest_snapshot": None if latest is None else {
                "date": latest.date.isoformat(), "downloads": latest.downloads,
                "downloads_all_time": latest.downloads_all_time, "cumulative_kind": latest.cumulative_kind,
                "raw_value": latest.raw_value, "likes": latest.likes, "source": latest.source,
            },
            # The default relative-adoption table's numbers for this model (one RAM computation).
            "relative_adoption": self.ram,
            # The adoption-forecast dashboard's rows of this model (p10/p50/p90 by measure and horizon).
            "adoption_forecast": self.forecast.document(),
        }
