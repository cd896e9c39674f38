"""Leaderboards and capability indices → LeaderboardEntry.

Each source is replaced whole in one transaction, which makes a re-import idempotent and a
malformed file harmless. `open_weights` is what the source itself says (LMArena: a licence of
"Proprietary" marks a closed model; Epoch: its accessibility group; llm-stats: licence id).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.db import transaction

from ingest.importers.csvfiles import parse_date, parse_float, read_rows
from ingest.importing import ImportFileError, progress, require_file
from ingest.lineage import HUB_ID
from observatory.catalog.models import HubModel, LeaderboardEntry

Source = LeaderboardEntry.Source
_CI = re.compile(r"^\+\s*(\d+(?:\.\d+)?)\s*/\s*-\s*(\d+(?:\.\d+)?)$")


def replace_source(source: str, entries: list[LeaderboardEntry], *, benchmarks: list[str] | None = None) -> int:
    """Replace every row of a source (or of some of its benchmarks), linking Hub ids that exist."""
    names = {e.model_name for e in entries if HUB_ID.match(e.model_name) and "/" in e.model_name}
    known = dict(HubModel.objects.filter(hub_id__in=names).values_list("hub_id", "id"))
    for entry in entries:
        entry.source = source
        entry.hub_model_id = known.get(entry.model_name)
    with transaction.atomic():
        existing = LeaderboardEntry.objects.filter(source=source)
        if benchmarks is not None:
            existing = existing.filter(benchmark__in=benchmarks)
        existing.delete()
        LeaderboardEntry.objects.bulk_create(entries, batch_size=5000)
    return len(entries)


def _text(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


def read_lmarena(path: Path) -> list[LeaderboardEntry]:
    entries = []
    for number, row in read_rows(path, {"snapshot_date", "model", "arena_score", "license"}):
        score = parse_float(path, number, "arena_score", row["arena_score"])
        if score is None:
            continue
        ci = _CI.match((row.get("95_pct_ci") or "").replace(" ", ""))
        licence = _text(row["license"], 200)
        entries.append(LeaderboardEntry(
            model_name=_text(row["model"], 300), organization=_text(row.get("organization"), 200),
            open_weights=(licence.lower() != "proprietary") if licence else None, licence=licence,
            benchmark="arena-text", score=score,
            ci_lower=score - float(ci.group(2)) if ci else None, ci_upper=score + float(ci.group(1)) if ci else None,
            snapshot_date=parse_date(path, number, "snapshot_date", row["snapshot_date"], allow_empty=False),
            extra={"votes": row.get("votes", ""), "rank": row.get("rank", "")}))
    return entries


def read_lmarena_2023(path: Path) -> list[LeaderboardEntry]:
    entries = []
    for number, row in read_rows(path, {"snapshot_date", "Model", "Arena Elo rating", "License"}):
        score = parse_float(path, number, "Arena Elo rating", row["Arena Elo rating"])
        if score is None:
            continue
        licence = _text(row["License"], 200)
        entries.append(LeaderboardEntry(
            model_name=_text(row["Model"], 300), organization=_text(row.get("Organization"), 200),
            open_weights=(licence.lower() != "proprietary") if licence else None, licence=licence,
            benchmark="arena-elo-2023", score=score,
            snapshot_date=parse_date(path, number, "snapshot_date", row["snapshot_date"], allow_empty=False)))
    return entries


def _epoch_open(group: str) -> bool | None:
    group = (group or "").strip().lower()
    if group.startswith("open"):
        return True
    if group.startswith("closed") or group in ("api access", "hosted access (no api)", "unreleased"):
        return False
    return None


def read_epoch_eci(path: Path) -> list[LeaderboardEntry]:
    entries = []
    for number, row in read_rows(path, {"Model", "eci", "date", "Accessibility group"}):
        score = parse_float(path, number, "eci", row["eci"], allow_empty=False)
        entries.append(LeaderboardEntry(
            model_name=_text(row["Model"], 300), organization=_text(row.get("Organization"), 200),
            country=_text(row.get("Country (of organization)"), 100),
            open_weights=_epoch_open(row["Accessibility group"]), benchmark="eci", score=score,
            ci_lower=parse_float(path, number, "eci_ci_low", row.get("eci_ci_low", "")),
            ci_upper=parse_float(path, number, "eci_ci_high", row.get("eci_ci_high", "")),
            release_date=parse_date(path, number, "date", row["date"]),
            extra={"display_name": row.get("Display name", ""), "accessibility": row.get("Model accessibility", "")}))
    return entries


EPOCH_BENCHMARK_COLUMNS = ["BBH", "GPQA", "MMLU", "HELM MMLU", "SEAL Coding", "SEAL Instruction Following",
                           "SEAL Math", "LMSys Elo"]


def read_epoch_benchmarks(path: Path) -> list[LeaderboardEntry]:
    entries = []
    for number, row in read_rows(path, {"System", "Date", "Open/Closed"}):
        released = parse_date(path, number, "Date", row["Date"])
        open_weights = _epoch_open(row["Open/Closed"])
        for column in EPOCH_BENCHMARK_COLUMNS:
            if column not in row:
                continue
            score = parse_float(path, number, column, row[column])
            if score is None:
                continue
            entries.append(LeaderboardEntry(model_name=_text(row["System"], 300), open_weights=open_weights,
                                            benchmark=column, score=score, release_date=released))
    return entries


def read_epoch_models(path: Path, benchmark: str) -> list[LeaderboardEntry]:
    """Notable / frontier model lists: one row a model, parameters and compute kept in extra."""
    entries = []
    for number, row in read_rows(path, {"Model", "Organization", "Publication date"}):
        entries.append(LeaderboardEntry(
            model_name=_text(row["Model"], 300), organization=_text(row["Organization"], 200),
            country=_text(row.get("Country (of organization)"), 100),
            open_weights=_epoch_open(row.get("Model accessibility", "")), benchmark=benchmark,
            release_date=parse_date(path, number, "Publication date", row["Publication date"]),
            extra={"parameters": parse_float(path, number, "Parameters", row.get("Parameters", "")),
                   "training_compute_flop": parse_float(path, number, "Training compute (FLOP)",
                                                        row.get("Training compute (FLOP)", "")),
                   "accessibility": row.get("Model accessibility", ""), "domain": row.get("Domain", "")[:200]}))
    return entries


def read_open_llm_v1(path: Path) -> list[LeaderboardEntry]:
    entries = []
    for number, row in read_rows(path, {"fullname", "average", "hub_license", "date"}):
        entries.append(LeaderboardEntry(
            model_name=_text(row["fullname"], 300), open_weights=True, licence=_text(row["hub_license"], 200),
            benchmark="average-v1", score=parse_float(path, number, "average", row["average"]),
            snapshot_date=parse_date(path, number, "date", row["date"]),
            extra={"params_b": parse_float(path, number, "params_b", row.get("params_b", ""))}))
    return entries


def read_open_llm_v2(path: Path) -> list[LeaderboardEntry]:
    entries = []
    required = {"model_name", "model_average_score", "metadata_hub_license", "metadata_submission_date"}
    for number, row in read_rows(path, required):
        entries.append(LeaderboardEntry(
            model_name=_text(row["model_name"], 300), open_weights=True,
            licence=_text(row["metadata_hub_license"], 200), benchmark="average-v2",
            score=parse_float(path, number, "model_average_score", row["model_average_score"]),
            snapshot_date=parse_date(path, number, "metadata_submission_date", row["metadata_submission_date"]),
            extra={"params_b": parse_float(path, number, "metadata_params_billions",
                                           row.get("metadata_params_billions", "")),
                   "base_model": row.get("metadata_base_model", "")[:200]}))
    return entries


def read_llm_stats(folder: Path) -> list[LeaderboardEntry]:
    orgs = {}
    org_path = folder / "organizations.csv"
    for _, row in read_rows(org_path, {"organization_id", "name"}):
        orgs[row["organization_id"]] = (row["name"], row.get("country", ""))
    models = {}
    model_path = folder / "models.csv"
    for number, row in read_rows(model_path, {"model_id", "name", "organization_id", "release_date", "license_id"}):
        licence = _text(row["license_id"], 200)
        weights = row.get("source_weights_link", "")
        hub_id = weights.removeprefix("https://huggingface.co/").strip("/") if "huggingface.co/" in weights else ""
        models[row["model_id"]] = {
            "name": hub_id if HUB_ID.match(hub_id or "-") and "/" in hub_id else _text(row["name"], 300),
            "org": orgs.get(row["organization_id"], (row["organization_id"], ""))[0],
            "country": orgs.get(row["organization_id"], ("", ""))[1],
            "open": licence.lower() != "proprietary" if licence else None, "licence": licence,
            "released": parse_date(model_path, number, "release_date", row["release_date"]),
            "params": parse_float(model_path, number, "param_count", row.get("param_count", "")),
        }
    entries = []
    score_path = folder / "model_benchmark_scores.csv"
    for number, row in read_rows(score_path, {"benchmark_id", "model_id", "score"}):
        model = models.get(row["model_id"])
        if model is None:
            raise ImportFileError(score_path, f"unknown model_id {row['model_id'][:80]!r}", row=number, column="model_id")
        entries.append(LeaderboardEntry(
            model_name=model["name"], organization=_text(model["org"], 200), country=_text(model["country"], 100),
            open_weights=model["open"], licence=model["licence"], benchmark=_text(row["benchmark_id"], 120),
            score=parse_float(score_path, number, "score", row["score"]), release_date=model["released"],
            extra={"params": model["params"], "self_reported": row.get("is_self_reported", "")}))
    return entries


def import_leaderboards(root: Path, *, progress_bar: bool = False) -> dict[str, int]:
    """Every leaderboard under `root` (shared/data/leaderboards layout), each source replaced whole."""
    epoch = root / "epoch"
    plan = [
        (Source.LMARENA, lambda: read_lmarena(root / "lmarena" / "arena_text_history.csv")
         + read_lmarena_2023(root / "lmarena_2023" / "leaderboard_tables_2023-06-19_to_2025-05-11.csv")),
        (Source.EPOCH_ECI, lambda: read_epoch_eci(epoch / "eci_scores.csv")),
        (Source.EPOCH_BENCHMARKS, lambda: read_epoch_benchmarks(epoch / "benchmarks_with_model_accessibility.csv")),
        (Source.EPOCH_NOTABLE, lambda: [
            *read_epoch_models(_one(epoch, "notable-ai-models_*.csv"), "notable"),
            *read_epoch_models(_one(epoch, "frontier_ai_models_*.csv"), "frontier")]),
        (Source.OPEN_LLM_LEADERBOARD, lambda: read_open_llm_v1(root / "open_llm_leaderboard" / "open_llm_leaderboard_v1.csv")
         + read_open_llm_v2(_one(root / "open_llm_leaderboard", "open_llm_leaderboard_v2_*.csv"))),
        (Source.LLM_STATS, lambda: read_llm_stats(root / "llm_stats")),
    ]
    # Read and validate everything first, then write in one transaction: all or nothing.
    parsed = [(source, read()) for source, read in progress(plan, desc="leaderboards", enabled=progress_bar)]
    counts = {}
    with transaction.atomic():
        for source, entries in parsed:
            counts[str(source)] = replace_source(source, entries)
    return counts


def _one(folder: Path, pattern: str) -> Path:
    matches = sorted(folder.glob(pattern))
    if not matches:
        return require_file(folder / pattern)
    return matches[-1]


def read_epoch_gaps(path: Path) -> dict:
    """Epoch's published open/closed gaps (data.json, benchmarks.eci.gaps), for cross-checks."""
    require_file(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))["benchmarks"]["eci"]
    except (json.JSONDecodeError, KeyError, UnicodeDecodeError) as exc:
        raise ImportFileError(path, f"not Epoch's data.json: {exc}") from None
