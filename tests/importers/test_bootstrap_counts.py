"""Bootstrapping the real shared data loads exactly what the files hold, and twice changes nothing."""

import csv
import datetime as dt
import io

import polars as pl
import pytest
from django.core.management import call_command

from observatory.catalog.models import (
    DownloadSnapshot,
    HubModel,
    LeaderboardEntry,
    LineageEdge,
    MonthlyFinetuneCount,
    Organization,
    TrackedListEntry,
)

pytestmark = pytest.mark.django_db


def _non_empty_daily_cells(shared_data):
    """Independent count: plain csv, every cell of a date column that holds something."""
    cells = set()
    for path in sorted((shared_data / "downloads" / "download").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            for row in reader:
                for column, value in zip(header, row):
                    if column not in ("model", "created_at") and value.strip():
                        cells.add((row[0], column[:10]))
    return cells


def test_it_loads_every_hub_stats_model(loaded_db, shared_data):
    frame = pl.read_parquet(next((shared_data / "hub").glob("hub_stats_frozen_*.parquet")))
    ids = set(frame["id"].to_list())
    assert len(ids) == 4167
    assert set(HubModel.objects.filter(hub_id__in=ids).values_list("hub_id", flat=True)) == ids
    stats_day = dt.date(2026, 6, 5)
    assert DownloadSnapshot.objects.filter(date=stats_day, source="hub-stats").count() == 4167
    one = frame.filter(pl.col("id") == "meta-llama/Llama-3.1-8B-Instruct").to_dicts()
    if one:
        model = HubModel.objects.get(hub_id="meta-llama/Llama-3.1-8B-Instruct")
        assert model.downloads_all_time == one[0]["downloadsAllTime"]
        assert model.organization.region == "us"


def test_it_loads_the_118_region_rows(loaded_db, shared_data):
    with open(shared_data / "atom" / "metadata" / "organization_regions.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 118
    atom = dict(Organization.objects.filter(region_source="atom").values_list("namespace", "region"))
    assert atom == {row["hf_org"]: row["region"] for row in rows}


def test_it_stores_every_non_empty_daily_cell_as_exactly_one_snapshot(loaded_db, shared_data):
    expected = _non_empty_daily_cells(shared_data)
    stored = DownloadSnapshot.objects.filter(source="daily-series")
    assert stored.count() == len(expected)
    sample = sorted(expected)[:: max(1, len(expected) // 50)]
    for hub_id, day in sample:
        assert stored.filter(model__hub_id=hub_id, date=day).count() == 1


def test_it_keeps_the_daily_values_exactly(loaded_db, shared_data):
    path = shared_data / "downloads" / "download" / "Meta.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        row = next(reader)
    day = "2024-07-02 00:00:00"
    snapshot = DownloadSnapshot.objects.get(model__hub_id=row["model"], date=day[:10])
    assert snapshot.downloads_all_time == int(float(row[day]))


def test_it_loads_lineage_from_the_hub_stats_base_models(loaded_db, shared_data):
    frame = pl.read_parquet(next((shared_data / "hub").glob("hub_stats_frozen_*.parquet")))
    with_base = frame.filter(pl.col("baseModels").struct.field("models").list.len() > 0)
    hub_relations = {}
    for row in with_base.select("id", "baseModels").to_dicts():
        for parent in row["baseModels"]["models"]:
            if parent["id"] != row["id"]:
                hub_relations[(row["id"], parent["id"])] = row["baseModels"]["relation"]
    stored = {
        (c, p): r for c, p, r in LineageEdge.objects.filter(source="baseModels").values_list(
            "child__hub_id", "parent_hub_id", "relation")
    }
    assert stored == hub_relations
    assert not LineageEdge.objects.filter(child__hub_id=models_F("parent_hub_id")).exists()


def models_F(name):
    from django.db.models import F

    return F(name)


def test_it_resolves_parents_that_are_in_the_catalogue(loaded_db):
    unresolved_known = LineageEdge.objects.filter(parent__isnull=True, parent_hub_id__in=HubModel.objects.values("hub_id"))
    assert unresolved_known.count() == 0
    assert LineageEdge.objects.filter(parent__isnull=False).exists()


def test_it_loads_every_leaderboard_source(loaded_db, shared_data):
    counts = dict(LeaderboardEntry.objects.values_list("source").annotate(n=models_count()).values_list("source", "n"))
    with open(shared_data / "leaderboards" / "epoch" / "eci_scores.csv", encoding="utf-8") as handle:
        eci_rows = len(list(csv.DictReader(handle)))
    assert counts["epoch-eci"] == eci_rows == 140
    with open(shared_data / "leaderboards" / "llm_stats" / "model_benchmark_scores.csv", encoding="utf-8") as handle:
        assert counts["llm-stats"] == len(list(csv.DictReader(handle)))
    with open(shared_data / "leaderboards" / "lmarena" / "arena_text_history.csv", encoding="utf-8") as handle:
        arena = [r for r in csv.DictReader(handle) if r["arena_score"].strip()]
    assert LeaderboardEntry.objects.filter(source="lmarena", benchmark="arena-text").count() == len(arena)
    closed = sum(1 for r in arena if r["license"] in ("Proprietary", "Propretary"))  # LMArena's own typo
    assert LeaderboardEntry.objects.filter(source="lmarena", benchmark="arena-text", open_weights=False).count() == closed
    for source in ("epoch-benchmarks", "epoch-notable", "open-llm-leaderboard"):
        assert counts[source] > 100


def models_count():
    from django.db.models import Count

    return Count("id")


def test_it_loads_tracked_lists_and_fine_tune_counts(loaded_db, shared_data):
    ids = set()
    for name in ("models.csv", "extra_models.csv"):
        with open(shared_data / "atom" / name, encoding="utf-8") as handle:
            ids |= {row["modelId"] for row in csv.DictReader(handle)}
    assert set(TrackedListEntry.objects.values_list("hub_id", flat=True)) == ids
    assert HubModel.objects.filter(hub_id__in=ids, tracked=False).count() == 0
    with open(shared_data / "downloads" / "finetune" / "Meta.csv", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    stored = MonthlyFinetuneCount.objects.get(base_hub_id=row["model"], months_since_creation=1)
    assert stored.cumulative_count == int(float(row["1-month"]))


def _table_fingerprint():
    """Counts and content sums of every table an import writes."""
    from django.db.models import Sum

    return {
        "models": HubModel.objects.count(),
        "models_tracked": HubModel.objects.filter(tracked=True).count(),
        "models_downloads": HubModel.objects.aggregate(s=Sum("downloads_all_time"))["s"],
        "orgs": sorted(Organization.objects.values_list("namespace", "region")),
        "snapshots": DownloadSnapshot.objects.count(),
        "snapshot_sum": DownloadSnapshot.objects.aggregate(s=Sum("downloads_all_time"))["s"],
        "edges": sorted(LineageEdge.objects.values_list("child__hub_id", "parent_hub_id", "relation", "parent_id")),
        "leaderboard": LeaderboardEntry.objects.count(),
        "leaderboard_sum": round(LeaderboardEntry.objects.aggregate(s=Sum("score"))["s"], 3),
        "finetune": MonthlyFinetuneCount.objects.count(),
    }


def test_it_changes_nothing_when_bootstrapped_twice(loaded_db, shared_data):
    before = _table_fingerprint()
    call_command("bootstrap", "--data-dir", str(shared_data), "--no-progress", verbosity=0, stdout=io.StringIO())
    assert _table_fingerprint() == before
