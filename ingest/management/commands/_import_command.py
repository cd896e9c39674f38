"""One `manage.py import_<dataset>` command per dataset, all built the same way."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ingest.datasets import BY_NAME, run_import
from ingest.importing import DataDirMissing, ImportFileError


def import_command(dataset_name: str) -> type[BaseCommand]:
    dataset = BY_NAME[dataset_name]

    class Command(BaseCommand):
        help = f"Import {dataset.description} (default: <data dir>/{dataset.relative_path})"

        def add_arguments(self, parser):
            parser.add_argument("path", nargs="?", type=Path, help="file or folder to import")
            parser.add_argument("--data-dir", type=Path, default=None,
                                help="data directory (default: OBSERVATORY_DATA_DIR)")
            parser.add_argument("--no-progress", action="store_true")

        def handle(self, *args, path=None, data_dir=None, no_progress=False, **options):
            data_dir = data_dir or settings.OBSERVATORY_DATA_DIR
            try:
                counts = run_import(dataset_name, data_dir, path=path, progress_bar=not no_progress)
            except (ImportFileError, DataDirMissing) as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(self.style.SUCCESS(
                f"{dataset_name}: " + ", ".join(f"{key}={value:,}" if isinstance(value, int) else f"{key}={value}"
                                                for key, value in counts.items())))

    return Command
