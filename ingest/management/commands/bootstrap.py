"""Load every dataset, in dependency order, and say what was loaded."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ingest.datasets import DATASETS, run_import
from ingest.importing import DataDirMissing, ImportFileError
from observatory.catalog.models import HubModel, Run
from observatory.catalog.runs import recorded_run


def hub_reachable(endpoint: str, timeout: float = 2.0) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}/api/models?limit=1", timeout=timeout):
            return True
    except Exception:
        return False


def no_data_message(data_dir) -> str:
    where = "it is not set" if data_dir is None else f"{data_dir} is not a directory"
    hub = settings.HF_ENDPOINT
    hub_state = (f"The Hub at {hub} is reachable: `python manage.py crawl` fills the observatory from it."
                 if hub_reachable(hub) else f"The Hub at {hub} is not reachable either.")
    return (f"No data directory: set OBSERVATORY_DATA_DIR ({where}) or pass --data-dir, e.g. "
            f"OBSERVATORY_DATA_DIR=../shared/data. Nothing was imported. {hub_state}")


class Command(BaseCommand):
    help = ("Import every dataset from a data directory (the shared/data layout) in dependency order: "
            + " → ".join(d.name for d in DATASETS) + ".")

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=None, help="default: OBSERVATORY_DATA_DIR")
        parser.add_argument("--if-empty", action="store_true",
                            help="do nothing if models are already loaded; never fail for lack of data")
        parser.add_argument("--only", nargs="*", default=None, help="dataset names to import")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, data_dir=None, if_empty=False, only=None, no_progress=False, **options):
        if if_empty and HubModel.objects.exists():
            self.stdout.write(f"The observatory already holds {HubModel.objects.count():,} models: bootstrap skipped.")
            return
        data_dir = data_dir or settings.OBSERVATORY_DATA_DIR
        if data_dir is None or not Path(data_dir).is_dir():
            message = no_data_message(data_dir)
            if if_empty:
                self.stdout.write(self.style.WARNING(message + " Starting with an empty observatory."))
                return
            raise CommandError(message)
        unknown = set(only or []) - {d.name for d in DATASETS}
        if unknown:
            raise CommandError(f"unknown dataset(s) {sorted(unknown)}; known: {[d.name for d in DATASETS]}")
        selected = [d for d in DATASETS if only is None or d.name in only]
        self.stdout.write(f"Bootstrapping from {data_dir}")
        rows: list[tuple[str, str, str]] = []
        with recorded_run(Run.Kind.BOOTSTRAP, "bootstrap", {"data_dir": str(data_dir)}) as bootstrap:
            for dataset in selected:
                started = time.monotonic()
                try:
                    path = dataset.locate(Path(data_dir))
                    counts = run_import(dataset.name, path=path, progress_bar=not no_progress)
                except DataDirMissing as exc:
                    self.stdout.write(self.style.WARNING(f"  warning: {dataset.name} skipped: {exc}"))
                    rows.append((dataset.name, f"skipped: {exc}", ""))
                    continue
                except ImportFileError as exc:
                    raise CommandError(f"{dataset.name}: {exc}") from None
                summary = ", ".join(f"{key}={value:,}" if isinstance(value, int) else f"{key}={value}"
                                    for key, value in counts.items())
                rows.append((dataset.name, summary, f"{time.monotonic() - started:.1f}s"))
            bootstrap.counts = {name: summary for name, summary, _ in rows}
        self._table(rows)
        self.stdout.write(self.style.SUCCESS(f"Bootstrap done: {HubModel.objects.count():,} models."))

    def _table(self, rows: list[tuple[str, str, str]]) -> None:
        width = max(len(name) for name, _, _ in rows) if rows else 7
        self.stdout.write(f"  {'dataset':<{width}}  {'time':>6}  loaded")
        for name, summary, seconds in rows:
            self.stdout.write(f"  {name:<{width}}  {seconds:>6}  {summary}")
