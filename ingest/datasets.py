"""The datasets the observatory imports, in dependency order, and how to run one as a recorded run.

Paths are relative to the data directory (the layout of shared/data: hub/, atom/, downloads/,
leaderboards/); the directory itself is a setting (OBSERVATORY_DATA_DIR) or a command option.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.importers import aliases, atom, downloads, hubstats, leaderboards
from ingest.importing import DataDirMissing
from observatory.catalog.runs import recorded_run


@dataclass(frozen=True)
class Dataset:
    name: str
    relative_path: str
    importer: Callable[..., dict]  # importer(path, *, progress_bar=False, run=None), as ingest/importing.py says
    description: str

    def locate(self, data_dir: Path) -> Path:
        if "*" in self.relative_path:
            folder = data_dir / Path(self.relative_path).parent
            matches = sorted(folder.glob(Path(self.relative_path).name))
            if not matches:
                raise DataDirMissing(f"{data_dir / self.relative_path}: no file matches")
            return matches[-1]
        path = data_dir / self.relative_path
        if not path.exists():
            raise DataDirMissing(f"{path}: not found")
        return path


DATASETS: list[Dataset] = [
    Dataset("regions", "atom/metadata/organization_regions.csv", atom.import_regions,
            "ATOM's region table: Hub namespace → us/china/eu/other/unknown"),
    Dataset("policy", "atom/policy/model_policy.yml", atom.import_policy, "ATOM's tracked-model policy"),
    Dataset("parameters", "atom/metadata/model_parameters.csv", atom.import_parameters,
            "curated total/active parameter counts"),
    Dataset("release_corrections", "atom/metadata/release_date_corrections.csv", atom.import_release_corrections,
            "release dates that differ from the Hub's createdAt"),
    Dataset("tracked_lists", "atom", atom.import_tracked_lists, "ATOM's tracked lists (models.csv, extra_models.csv)"),
    # Before hub-stats: its rows then name each renamed base by its current id from the start.
    Dataset("aliases", "hub", aliases.import_aliases,
            "renamed repos: recorded 307s (hub/model_info) and the Hub's resolution of card base_model names"),
    Dataset("hubstats", "hub/hub_stats_frozen_*.parquet", hubstats.import_hubstats, "hub-stats rows (Hub API field names)"),
    Dataset("daily_downloads", "downloads/download", downloads.import_daily_downloads,
            "daily cumulative download series → snapshots"),
    Dataset("finetune_counts", "downloads/finetune", downloads.import_finetune_counts,
            "monthly cumulative fine-tune counts per base model"),
    Dataset("leaderboards", "leaderboards", leaderboards.import_leaderboards,
            "LMArena, Epoch ECI/benchmarks/notable, Open LLM Leaderboard v1+v2, llm-stats"),
]
BY_NAME = {dataset.name: dataset for dataset in DATASETS}


def run_import(name: str, data_dir: Path | None = None, *, path: Path | None = None, progress_bar: bool = False,
               run=None, parent_run_id: int | None = None) -> dict:
    """Import one dataset as a recorded run (kind=import). Raises on a malformed file; the DB is unchanged.

    `parent_run_id`: the bootstrap run this import is part of (the reaper fails such an import
    when its worker dies, and re-sends the bootstrap instead)."""
    dataset = BY_NAME[name]
    if path is None:
        if data_dir is None:
            raise DataDirMissing("no data directory: set OBSERVATORY_DATA_DIR or pass --data-dir")
        path = dataset.locate(Path(data_dir))
    params = {"dataset": name, "path": str(path)}
    if parent_run_id is not None:
        params["bootstrap"] = parent_run_id
    if run is not None:
        run.counts = dataset.importer(path, progress_bar=progress_bar, run=run)
        return run.counts
    with recorded_run("import", f"import:{name}", params) as record:
        record.counts = dataset.importer(path, progress_bar=progress_bar, run=record)
    return record.counts
