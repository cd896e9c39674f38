"""Recount the daily-gain rollup from the raw rows: `python manage.py rebuild_rollups`.

Every import and crawl folds its own changes in (observatory.analytics.rollups.refresh); this is
the full recount, for an operator who wants one (after restoring a backup of the source tables
without their triggers, say). Readers and writers go on meanwhile.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from observatory.analytics import rollups


class Command(BaseCommand):
    help = "Rebuild the daily-gain rollup in full from the raw rows (readers and writers are not blocked)."

    def handle(self, *args, **options):
        seconds = rollups.rebuild()
        if seconds is None:
            raise CommandError("no rollup on this database: the download metrics read the raw rows (SQLite)")
        self.stdout.write(f"rollup {rollups.NAME} rebuilt in {seconds:.1f} s")
