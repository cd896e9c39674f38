"""Crawl configuration, editable in the admin: which parts of the Hub the daily crawl lists."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from ingest.lineage import HUB_ID


def _validate_namespaces(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and HUB_ID.match(v) and "/" not in v for v in value):
        raise ValidationError("a list of Hub namespaces, e.g. [\"Qwen\", \"meta-llama\"]")


class CrawlPlan(models.Model):
    """What the scheduled crawl covers. The newest enabled plan wins; with none, the settings decide
    (every organisation of the region table, CRAWL_TOP_N, what is new, tracked ids the lists missed)."""

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    tracked_orgs = models.BooleanField(default=True, help_text="every namespace of the region table (ATOM or admin)")
    extra_orgs = models.JSONField(default=list, blank=True, validators=[_validate_namespaces],
                                  help_text="more namespaces to list in full")
    top_n = models.PositiveIntegerField(default=10_000, help_text="the global top N by downloads (0: none)")
    new_since_last_crawl = models.BooleanField(default=True, help_text="models created since the last crawl")
    lookup_unseen_tracked = models.PositiveIntegerField(
        default=1000, help_text="at most this many ATOM-listed ids no list returned, looked up one by one (0: none)")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"{self.name}{'' if self.enabled else ' (disabled)'}"
