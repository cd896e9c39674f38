"""Crawl the Hub (HF_ENDPOINT): `python manage.py crawl [--org ORG ...] [--top N] [--all]`."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from ingest.hub.crawl import default_plan, start_crawl
from observatory.catalog.models import Run


class Command(BaseCommand):
    help = "Start a crawl of the Hub and follow it until it ends (in-process in embedded mode, else on workers)."

    def add_arguments(self, parser):
        parser.add_argument("--org", action="append", default=[], help="crawl this namespace (repeatable)")
        parser.add_argument("--top", type=int, default=None, help="the global top N by downloads")
        parser.add_argument("--all", action="store_true", help="list every model the endpoint has")
        parser.add_argument("--no-wait", action="store_true", help="queue the crawl and return")

    def handle(self, *args, org=(), top=None, all=False, no_wait=False, **options):
        if top is not None and top <= 0:
            raise CommandError("--top must be positive")
        segments = [{"kind": "org", "author": o} for o in org]
        if top:
            segments.append({"kind": "top", "limit": top})
        if all:
            segments.append({"kind": "all"})
        segments = segments or default_plan()
        if not segments:
            raise CommandError("nothing to crawl: no tracked organisations yet; pass --org, --top or --all")
        self.stdout.write(f"Crawling {settings.HF_ENDPOINT}: {len(segments)} segment(s)")
        with transaction.atomic():
            run = start_crawl(segments, name="crawl (command line)")
        if no_wait:
            self.stdout.write(f"crawl run {run.pk} queued")
            return
        bar = tqdm(total=len(segments), unit="segment", desc="crawl", disable=None)
        done = 0
        while True:
            run.refresh_from_db()
            segment = min(run.cursor.get("segment", 0), len(segments))
            bar.update(segment - done)
            done = segment
            bar.set_postfix(models=run.counts.get("models", 0), pages=run.counts.get("pages", 0))
            if run.status in (Run.Status.SUCCEEDED, Run.Status.FAILED, Run.Status.CANCELLED):
                break
            time.sleep(0.5)
        bar.close()
        if run.status != Run.Status.SUCCEEDED:
            raise CommandError(f"crawl {run.pk} {run.status}: {run.error}")
        self.stdout.write(self.style.SUCCESS(
            f"crawl {run.pk}: " + ", ".join(f"{k}={v:,}" for k, v in run.counts.items())))
