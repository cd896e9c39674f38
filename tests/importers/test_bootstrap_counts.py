"""Bootstrapping the real shared data loads exactly what the files hold, and twice changes nothing."""

import csv
import datetime as dt
import io
import json

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
    Run,
    TrackedListEntry,
)
from tests.importers import table_contents

pytestmark = pytest.mark.django_db


def _sampled_daily_cells(shared_data):
    """Independent count: plain csv, every non-empty cell from a series' first non-zero value on
    (the cells before it are placeholders: not sampled yet)."""
    cells = set()
    for path in sorted((shared_data / "downloads" / "download").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            for row in reader:
                started = False
                for column, value in zip(header, row):
                    if column in ("model", "created_at"):
                        continue
                    started = started or bool(value.strip() and float(value))
                    if started and value.strip():
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
    assert len(one) == 1  # the model checked below is in the frozen stats: a missing row fails here
    model = HubModel.objects.get(hub_id="meta-llama/Llama-3.1-8B-Instruct")
    assert model.downloads_all_time == one[0]["downloadsAllTime"]
    assert model.organization.region == "us"


def test_it_loads_the_118_region_rows(loaded_db, shared_data):
    with open(shared_data / "atom" / "metadata" / "organization_regions.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 118
    atom = dict(Organization.objects.filter(region_source="atom").values_list("namespace", "region"))
    assert atom == {row["hf_org"]: row["region"] for row in rows}


def test_it_stores_every_sampled_daily_cell_as_exactly_one_snapshot(loaded_db, shared_data):
    expected = _sampled_daily_cells(shared_data)
    stored = DownloadSnapshot.objects.filter(source="daily-series")
    assert stored.count() == len(expected)  # the series have no interior gaps to fill
    sample = sorted(expected)[:: max(1, len(expected) // 50)]
    for hub_id, day in sample:
        assert stored.filter(model__hub_id=hub_id, date=day).count() == 1


def test_it_keeps_the_daily_values_exactly_as_raw_values(loaded_db, shared_data):
    path = shared_data / "downloads" / "download" / "Meta.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            sampled = [(k, v) for k, v in row.items() if k not in ("model", "created_at") and v.strip() and float(v)]
            for day, value in sampled[:3] + sampled[-3:]:
                snapshot = DownloadSnapshot.objects.get(model__hub_id=row["model"], date=day[:10])
                assert snapshot.raw_value == int(float(value))


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


def test_it_changes_nothing_when_bootstrapped_twice(loaded_db, shared_data):
    before = table_contents.contents()
    out = io.StringIO()
    call_command("bootstrap", "--data-dir", str(shared_data), "--no-progress", verbosity=0, stdout=out)
    assert table_contents.contents() == before
    daily = Run.objects.filter(name="import:daily_downloads", status="succeeded").order_by("-id").first()
    assert daily.counts["changed"] == 0  # the second COPY upsert wrote no row
    assert "daily_downloads" in out.getvalue()
    assert f"snapshots={len(_sampled_daily_cells(shared_data)):,}" in out.getvalue()


def test_it_records_each_import_as_a_run(loaded_db):
    names = set(Run.objects.filter(kind="import", status="succeeded").values_list("name", flat=True))
    assert names >= {f"import:{d}" for d in ("regions", "policy", "parameters", "release_corrections",
                                              "tracked_lists", "hubstats", "daily_downloads", "finetune_counts",
                                              "leaderboards")}
    assert Run.objects.filter(kind="bootstrap", status="succeeded").exists()


def test_it_loads_every_epoch_benchmark_row(loaded_db, shared_data):
    epoch = shared_data / "leaderboards" / "epoch"
    expected = 0
    for name, columns in (("benchmarks_with_model_accessibility.csv",
                           ["BBH", "GPQA", "MMLU", "HELM MMLU", "SEAL Coding", "SEAL Instruction Following",
                            "SEAL Math", "LMSys Elo"]),
                          ("gsm1k_with_model_accessibility.csv", ["GSM8k", "GSM1k"])):
        with open(epoch / name, encoding="utf-8") as handle:
            expected += sum(1 for row in csv.DictReader(handle) for c in columns if row[c].strip())
    document = json.loads((epoch / "data.json").read_text(encoding="utf-8"))
    expected += sum(len(b["models"]) for key, b in document["benchmarks"].items() if key != "eci")
    assert LeaderboardEntry.objects.filter(source="epoch-benchmarks").count() == expected
    gpqa = {m["model"]: m["is_open"] for m in document["benchmarks"]["gpqa_diamond"]["models"]}
    stored = dict(LeaderboardEntry.objects.filter(source="epoch-benchmarks", benchmark="gpqa_diamond")
                  .values_list("model_name", "open_weights"))
    assert stored == gpqa


def test_it_maps_epoch_accessibility_to_open_weights(loaded_db, shared_data):
    path = shared_data / "leaderboards" / "epoch" / "notable-ai-models_accessed-2026-01-26.csv"
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    open_rows = sum(1 for r in rows if r["Model accessibility"].startswith("Open weights"))
    closed_rows = sum(1 for r in rows if r["Model accessibility"] in ("API access", "Hosted access (no API)",
                                                                       "Unreleased"))
    notable = LeaderboardEntry.objects.filter(source="epoch-notable", benchmark="notable")
    assert notable.count() == len(rows) == 976
    assert notable.filter(open_weights=True).count() == open_rows
    assert notable.filter(open_weights=False).count() == closed_rows
    assert notable.filter(open_weights__isnull=True).count() == len(rows) - open_rows - closed_rows


def test_it_keeps_what_an_admin_curated_when_atom_is_imported_again(loaded_db, shared_data):
    from ingest.datasets import run_import
    from observatory.catalog.models import ParameterCount

    Organization.objects.filter(namespace="01-ai").update(region="other", region_source="admin")
    ParameterCount.objects.filter(hub_id="deepseek-ai/DeepSeek-R1").update(total_params_b=685, source="admin")
    counts = run_import("regions", shared_data)
    run_import("parameters", shared_data)
    assert counts["kept_admin"] == 1
    assert Organization.objects.filter(namespace="01-ai").values_list("region", "region_source").get() == (
        "other", "admin")
    assert ParameterCount.objects.get(hub_id="deepseek-ai/DeepSeek-R1").total_params_b == 685
    assert Organization.objects.filter(region_source="atom").count() == 117
