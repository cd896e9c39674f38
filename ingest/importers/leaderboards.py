"""Leaderboards and capability indices → LeaderboardEntry.

Each source is replaced whole in one transaction, which makes a re-import idempotent and a
malformed file harmless. `open_weights` is what the source itself says (LMArena: a licence of
"Proprietary" marks a closed model; Epoch: its accessibility group; llm-stats: licence id).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from django.db import transaction

from ingest.importers.csvfiles import parse_date, parse_float, read_rows
from ingest.importing import DataDirMissing, ImportFileError, progress, require_file
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


# LMArena marks closed models with the licence "Proprietary", spelled "Propretary" in some snapshots.
_PROPRIETARY = {"proprietary", "propretary"}


def _arena_open(licence: str) -> bool | None:
    if not licence:
        return None
    return licence.strip().lower() not in _PROPRIETARY


def read_lmarena(path: Path, *, benchmark: str = "arena-text", snapshot_date=None) -> list[LeaderboardEntry]:
    """The LMArena history (one row per model per snapshot), or one dated table without the column."""
    entries = []
    required = {"model", "arena_score", "license"} | (set() if snapshot_date else {"snapshot_date"})
    for number, row in read_rows(path, required):
        score = parse_float(path, number, "arena_score", row["arena_score"])
        if score is None:
            continue
        ci = _CI.match((row.get("95_pct_ci") or "").replace(" ", ""))
        licence = _text(row["license"], 200)
        entries.append(LeaderboardEntry(
            model_name=_text(row["model"], 300), organization=_text(row.get("organization"), 200),
            open_weights=_arena_open(licence), licence=licence, benchmark=benchmark, score=score,
            ci_lower=score - float(ci.group(2)) if ci else None, ci_upper=score + float(ci.group(1)) if ci else None,
            snapshot_date=snapshot_date or parse_date(path, number, "snapshot_date", row["snapshot_date"],
                                                      allow_empty=False),
            extra={"votes": row.get("votes", ""), "rank": row.get("rank", "")}))
    return entries


# The 2023 tables carry three scores per row; each non-empty one becomes an entry.
LMARENA_2023_SCORES = {"Arena Elo rating": "arena-elo-2023", "MT-bench (score)": "mt-bench", "MMLU": "mmlu"}


def read_lmarena_2023(path: Path) -> list[LeaderboardEntry]:
    entries = []
    for number, row in read_rows(path, {"snapshot_date", "Model", "License", *LMARENA_2023_SCORES}):
        licence = _text(row["License"], 200)
        snapshot = parse_date(path, number, "snapshot_date", row["snapshot_date"], allow_empty=False)
        for column, benchmark in LMARENA_2023_SCORES.items():
            score = parse_float(path, number, column, row[column])
            if score is None:
                continue
            entries.append(LeaderboardEntry(
                model_name=_text(row["Model"], 300), organization=_text(row.get("Organization"), 200),
                open_weights=_arena_open(licence), licence=licence, benchmark=benchmark, score=score,
                snapshot_date=snapshot, extra={"key": row.get("key", "")[:200]}))
    return entries


def read_json(path: Path):
    """A JSON file's document, or an ImportFileError naming the file, line and column."""
    require_file(path)
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ImportFileError(path, f"not UTF-8 (byte offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ImportFileError(path, f"not valid JSON: {exc.msg} (column {exc.colno})", row=exc.lineno) from None


def read_lmarena_max_elo(path: Path) -> list[LeaderboardEntry]:
    """The highest Arena Elo per category and day: [{date, category, max_elo, max_model}, …]."""
    document = read_json(path)
    if not isinstance(document, list):
        raise ImportFileError(path, f"expected a list of records, found {type(document).__name__}")
    entries = []
    for index, record in enumerate(document):
        where = f"[{index}]"
        if not isinstance(record, dict):
            raise ImportFileError(path, "expected an object", column=where)
        missing = {"date", "category", "max_elo", "max_model"} - set(record)
        if missing:
            raise ImportFileError(path, f"missing key(s) {sorted(missing)}", column=f"{where}.{sorted(missing)[0]}")
        score = record["max_elo"]
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise ImportFileError(path, f"max_elo is not a number: {str(score)[:40]!r}", column=f"{where}.max_elo")
        entries.append(LeaderboardEntry(
            model_name=_text(str(record["max_model"]), 300), benchmark=_text(f"max-elo:{record['category']}", 120),
            score=float(score),
            snapshot_date=parse_date(path, None, f"{where}.date", str(record["date"]), allow_empty=False)))
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
EPOCH_GSM_COLUMNS = ["GSM8k", "GSM1k"]


def read_epoch_benchmarks(path: Path, columns: list[str] = EPOCH_BENCHMARK_COLUMNS) -> list[LeaderboardEntry]:
    """Epoch's open-model-trends tables: one row a model, one column a benchmark."""
    entries = []
    for number, row in read_rows(path, {"System", "Date", "Open/Closed", columns[0]}):
        released = parse_date(path, number, "Date", row["Date"])
        open_weights = _epoch_open(row["Open/Closed"])
        for column in columns:
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


def read_epoch_gap_benchmarks(path: Path) -> list[LeaderboardEntry]:
    """data.json of Epoch's ECI gap explorer: the benchmarks besides ECI (which eci_scores.csv
    holds), each model with its date, is_open and is_china flags."""
    document = read_json(path)
    benchmarks = document.get("benchmarks") if isinstance(document, dict) else None
    if not isinstance(benchmarks, dict):
        raise ImportFileError(path, "expected an object with a 'benchmarks' mapping", column="benchmarks")
    entries = []
    for benchmark_id, benchmark in benchmarks.items():
        if benchmark_id == "eci":
            continue
        models = benchmark.get("models") if isinstance(benchmark, dict) else None
        if not isinstance(models, list):
            raise ImportFileError(path, "expected a list of models", column=f"benchmarks.{benchmark_id}.models")
        for index, model in enumerate(models):
            where = f"benchmarks.{benchmark_id}.models[{index}]"
            if not isinstance(model, dict) or not isinstance(model.get("model"), str):
                raise ImportFileError(path, "expected an object with a 'model' name", column=where)
            score = model.get("score")
            if isinstance(score, bool) or not isinstance(score, (int, float)):
                raise ImportFileError(path, f"score is not a number: {str(score)[:40]!r}", column=f"{where}.score")
            is_open = model.get("is_open")
            if is_open is not None and not isinstance(is_open, bool):
                raise ImportFileError(path, f"is_open is not a boolean: {str(is_open)[:40]!r}",
                                      column=f"{where}.is_open")
            released = parse_date(path, None, f"{where}.date", str(model.get("date") or ""))
            entries.append(LeaderboardEntry(
                model_name=_text(model["model"], 300), organization=_text(model.get("organization"), 200),
                open_weights=is_open, benchmark=_text(benchmark_id, 120), score=float(score), release_date=released,
                extra={"display_name": model.get("display_name", ""), "is_china": model.get("is_china"),
                       "score_std": model.get("score_std"), "unit": benchmark.get("metadata", {}).get("unit", "")}))
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


# Each source: the files it is read from (relative to the leaderboards folder; a pattern picks the
# newest match) and how. A source whose files are all absent is skipped and keeps its rows; one
# with only some of them is an error, since replacing it would silently drop the missing part.
SOURCES = [
    (Source.LMARENA, ["lmarena/arena_text_history.csv", "lmarena/lmarena_vision_*.csv",
                      "lmarena_2023/leaderboard_tables_*.csv", "lmarena_2023/max_elo_by_category_*.json"],
     lambda text, vision, tables, max_elo: read_lmarena(text) + _dated_table(vision, "arena-vision")
     + read_lmarena_2023(tables) + read_lmarena_max_elo(max_elo)),
    (Source.EPOCH_ECI, ["epoch/eci_scores.csv"], lambda eci: read_epoch_eci(eci)),
    (Source.EPOCH_BENCHMARKS, ["epoch/benchmarks_with_model_accessibility.csv",
                               "epoch/gsm1k_with_model_accessibility.csv", "epoch/data.json"],
     lambda trends, gsm, data: read_epoch_benchmarks(trends) + read_epoch_benchmarks(gsm, EPOCH_GSM_COLUMNS)
     + read_epoch_gap_benchmarks(data)),
    (Source.EPOCH_NOTABLE, ["epoch/notable-ai-models_*.csv", "epoch/frontier_ai_models_*.csv"],
     lambda notable, frontier: read_epoch_models(notable, "notable") + read_epoch_models(frontier, "frontier")),
    (Source.OPEN_LLM_LEADERBOARD, ["open_llm_leaderboard/open_llm_leaderboard_v1.csv",
                                   "open_llm_leaderboard/open_llm_leaderboard_v2_*.csv"],
     lambda v1, v2: read_open_llm_v1(v1) + read_open_llm_v2(v2)),
    (Source.LLM_STATS, ["llm_stats/organizations.csv", "llm_stats/models.csv", "llm_stats/model_benchmark_scores.csv"],
     lambda orgs, models, scores: read_llm_stats(orgs.parent)),
]


def import_leaderboards(path: Path, *, progress_bar: bool = False, run=None) -> dict[str, int | str]:
    """Every leaderboard under `path` (shared/data/leaderboards layout), each source replaced whole."""
    root = Path(path)
    if not root.is_dir():
        raise DataDirMissing(f"{root}: not a directory")
    plan = []
    counts: dict[str, int | str] = {}
    for source, patterns, read in SOURCES:
        paths = [_newest(root, pattern) for pattern in patterns]
        missing = [pattern for pattern, path in zip(patterns, paths) if path is None]
        if len(missing) == len(patterns):
            counts[str(source)] = "skipped (no files)"
        elif missing:
            raise DataDirMissing(f"{root}: {source} needs {missing} as well (found the rest of its files)")
        else:
            plan.append((source, read, paths))
    if not plan:
        raise DataDirMissing(f"{root}: no leaderboard files")
    # Read and validate everything first, then write in one transaction: all or nothing.
    parsed = [(source, read(*paths)) for source, read, paths in progress(plan, desc="leaderboards",
                                                                        enabled=progress_bar)]
    with transaction.atomic():
        for source, entries in parsed:
            counts[str(source)] = replace_source(source, entries)
    return counts


def _newest(root: Path, pattern: str) -> Path | None:
    matches = [path for path in sorted(root.glob(pattern)) if path.is_file()]
    return matches[-1] if matches else None


def _dated_table(path: Path, benchmark: str) -> list[LeaderboardEntry]:
    """A single LMArena table whose snapshot date is in its file name (lmarena_vision_2025-08-04.csv)."""
    match = re.search(r"(\d{4}-\d{2}-\d{2})", path.name)
    if not match:
        raise ImportFileError(path, "no snapshot date (YYYY-MM-DD) in the file name")
    return read_lmarena(path, benchmark=benchmark, snapshot_date=dt.date.fromisoformat(match.group(1)))


def read_epoch_gaps(path: Path) -> dict:
    """Epoch's published open/closed gaps (data.json, benchmarks.eci.gaps), for cross-checks."""
    require_file(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))["benchmarks"]["eci"]
    except (json.JSONDecodeError, KeyError, UnicodeDecodeError) as exc:
        raise ImportFileError(path, f"not Epoch's data.json: {exc}") from None
