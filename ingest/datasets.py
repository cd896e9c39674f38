"""The datasets the observatory imports, in dependency order, and how to run one as a recorded run.

Paths are relative to the data directory (the layout of shared/data: hub/, atom/, downloads/,
leaderboards/); the directory itself is a setting (OBSERVATORY_DATA_DIR) or a command option.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.importers import aliases, atom, downloads, leaderboards
from ingest.importing import DataDirMissing
from observatory.catalog.runs import recorded_run


@dataclass(frozen=True)
class Dataset:
    name: str
    relative_path: str
    importer: Callable[..., dict]
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


def _tracked_lists(path: Path, **kwargs) -> dict:
    return atom.import_tracked_lists({"models": path / "models.csv", "extra_models": path / "extra_models.csv"}, **kwargs)


class ImporterUnavailable(RuntimeError):
    """An importer whose module is not part of this installation (yet)."""


def _hubstats(path: Path, *, progress_bar: bool = False, run=None) -> dict:
    """hub-stats Parquet, through the Hub-record upsert (ingest/importers/hubstats.py).

    Imported lazily: the module belongs to the crawler side and may be absent; the keyword for
    the progress bar is matched to whichever the module's function takes.
    """
    try:
        from ingest.importers import hubstats
    except ModuleNotFoundError as exc:
        if exc.name != "ingest.importers.hubstats":
            raise
        raise ImporterUnavailable("ingest.importers.hubstats is not installed: hub-stats import skipped") from None
    parameters = inspect.signature(hubstats.import_hubstats).parameters
    kwargs = {}
    for name in ("progress_bar", "progress"):
        if name in parameters:
            kwargs[name] = progress_bar
            break
    if "run" in parameters:
        kwargs["run"] = run
    return hubstats.import_hubstats(path, **kwargs)


DATASETS: list[Dataset] = [
    Dataset("regions", "atom/metadata/organization_regions.csv", atom.import_regions,
            "ATOM's region table: Hub namespace → us/china/eu/other/unknown"),
    Dataset("policy", "atom/policy/model_policy.yml", atom.import_policy, "ATOM's tracked-model policy"),
    Dataset("parameters", "atom/metadata/model_parameters.csv", atom.import_parameters,
            "curated total/active parameter counts"),
    Dataset("release_corrections", "atom/metadata/release_date_corrections.csv", atom.import_release_corrections,
            "release dates that differ from the Hub's createdAt"),
    Dataset("tracked_lists", "atom", _tracked_lists, "ATOM's tracked lists (models.csv, extra_models.csv)"),
    # Before hub-stats: its rows then name each renamed base by its current id from the start.
    Dataset("aliases", "hub", aliases.import_aliases,
            "renamed repos: recorded 307s (hub/model_info) and the Hub's resolution of card base_model names"),
    Dataset("hubstats", "hub/hub_stats_frozen_*.parquet", _hubstats, "hub-stats rows (Hub API field names)"),
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
        counts = _call(dataset, path, progress_bar, run)
        run.counts = counts
        return counts
    with recorded_run("import", f"import:{name}", params) as record:
        record.counts = _call(dataset, path, progress_bar, record)
    return record.counts


def _call(dataset: Dataset, path: Path, progress_bar: bool, run) -> dict:
    if dataset.importer is _hubstats:
        return dataset.importer(path, progress_bar=progress_bar, run=run)
    return dataset.importer(path, progress_bar=progress_bar)
