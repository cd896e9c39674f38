"""`python manage.py watch_releases [--since DATE] [--dry-run] [--offline]`: the release watch's plan,
one line per model (Hub id, revision, probes, why), queued on the gpu queue unless --dry-run."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from gpu_workers import watch


def _date(value: str) -> dt.datetime:
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.UTC)
    except ValueError:
        raise CommandError(f"--since must be a date (YYYY-MM-DD), got {value!r}") from None


class Command(BaseCommand):
    help = "Plan probes for new tracked releases (benchmark, tooling, finetune) and queue them on the gpu queue."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="releases created on or after this date (default: since the last watch)")
        parser.add_argument("--dry-run", action="store_true", help="print the plan, queue nothing")
        parser.add_argument("--offline", action="store_true",
                            help="ask the Hub nothing: revisions stay unresolved (with --dry-run only)")

    def handle(self, *args, since=None, dry_run=False, offline=False, **options):
        if offline and not dry_run:
            raise CommandError("--offline plans without revisions, which cannot be queued: add --dry-run")
        since_at = _date(since) if since else None
        items = watch.plan(since=since_at, resolve=None if offline else watch.hub_sha)
        for item in items:
            self.stdout.write(item.line())
        planned = sum(1 for item in items if item.probes)
        if dry_run:
            self.stdout.write(f"dry run: {len(items)} release(s) considered, {planned} with probes to queue")
            return
        done = watch.queue(items, trigger="command", since=since_at)
        self.stdout.write(f"release watch #{done.pk}: {done.counts['queued']} probe run(s) queued on the gpu queue")
