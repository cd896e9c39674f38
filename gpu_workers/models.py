"""Probe runs: one row per (model, revision, probe, config) run on the `gpu` queue.

Lifecycle and progress live on the linked catalog Run row (status, progress, current step,
heartbeat, error), so every import, crawl and probe shows up in one place.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from gpu_workers import watch_policy
from observatory.catalog.models import HubModel, Run
from probes import registry

# The probes are listed once, in probes.registry; a new one there changes these choices (and
# makemigrations writes the migration for them).
ProbeKind = models.TextChoices("ProbeKind", [(p.name.upper(), (p.name, p.label)) for p in registry.PROBES],
                               module=__name__)


class ProbeRun(models.Model):
    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="probe_run")
    hub_id = models.CharField(max_length=200, db_index=True, help_text="Hub id, or a local path for CLI runs")
    revision = models.CharField(max_length=200, blank=True, help_text="As asked: branch, tag or commit")
    resolved_revision = models.CharField(max_length=64, blank=True, help_text="Commit the run was pinned to")
    model = models.ForeignKey(HubModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="probe_runs")
    probe = models.CharField(max_length=registry.MAX_NAME, choices=ProbeKind.choices)
    config = models.JSONField(default=dict, blank=True)
    config_hash = models.CharField(max_length=64, db_index=True)
    budget_seconds = models.PositiveIntegerField(default=1800)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When its task was last sent to the broker")
    resends = models.PositiveSmallIntegerField(
        default=0, help_text="Times it was re-sent because its broker message was lost (PROBE_MAX_RESENDS)")
    result = models.JSONField(null=True, blank=True, help_text="The probe's result record (one schema)")
    public = models.BooleanField(default=True, help_text="Shown on public pages (model card, queue)")

    class Meta:
        indexes = [models.Index(fields=["hub_id", "resolved_revision", "probe", "config_hash"])]

    def __str__(self) -> str:
        return f"{self.probe}:{self.hub_id}@{self.resolved_revision or self.revision or 'main'}"


class ReleaseWatch(models.Model):
    """One pass of the release watch (gpu_workers.watch): when, why, and what it queued. The
    newest one's start is "the last watch" the next pass looks for new releases since."""

    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    trigger = models.CharField(max_length=32, help_text="data changed (a crawl or import), command, beat")
    since = models.DateTimeField(null=True, blank=True, help_text="An explicit --since; else since the last watch")
    counts = models.JSONField(default=dict, blank=True, help_text="considered, queued, probe_runs, unresolved")
    plan = models.JSONField(default=list, blank=True, help_text="One line per model: Hub id, revision, probes, why")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"release watch #{self.pk} {self.started_at:%Y-%m-%d %H:%M} ({self.trigger})"


def _refuse(check, value) -> None:
    try:
        check(value)
    except ValueError as exc:  # the policy's checks say why; the admin shows it beside the field
        raise ValidationError(str(exc)) from None


# Module-level functions, not closures: migrations name a field's validators by import path.
def validate_watch_probes(value) -> None:
    _refuse(watch_policy.check_probes, value)


def validate_probe_config(value) -> None:
    _refuse(watch_policy.check_probe_config, value)


def validate_public_sets(value) -> None:
    _refuse(watch_policy.check_public_sets, value)


def validate_positive(value: float) -> None:
    if value is None or not value > 0:
        raise ValidationError(f"must be more than 0 (billions of parameters), got {value}")


class WatchPolicy(models.Model):
    """The release watch's policy, as set in the admin: one row at most (saved as pk 1). With no
    row the WATCH_* settings decide (gpu_workers.watch_policy.effective); deleting it goes back to them."""

    probes = models.JSONField(validators=[validate_watch_probes],
                              help_text='the probes a new tracked release gets, e.g. ["benchmark", "tooling", "finetune"]')
    max_per_day = models.PositiveIntegerField(help_text="at most this many new models planned a day (0: none)")
    max_params_b = models.FloatField(validators=[validate_positive], help_text=(
        "size cap in billions of parameters (more than 0; the probes' PROBE_MAX_PARAMS_B caps it too)"))
    max_age_days = models.PositiveIntegerField(help_text="a release older than this many days is not new")
    priority = models.CharField(max_length=16, choices=[(p, p.replace("_", " ")) for p in watch_policy.PRIORITIES],
                                help_text="which models first when the daily cap bites: downloads, RAM or size class")
    probe_config = models.JSONField(default=dict, blank=True, validators=[validate_probe_config],
                                    help_text='overrides of the probes\' configs, e.g. {"benchmark": {"limit": 20}}')
    public_sets = models.JSONField(default=dict, blank=True, validators=[validate_public_sets],
                                   help_text='the benchmark once more per public set on a subset of this many items, '
                                             'e.g. {"hellaswag": 100, "gsm8k": 10} (null: the whole set; '
                                             'WATCH_GPU_HOSTS runs every set whole)')
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "release watch policy"

    def __str__(self) -> str:
        return f"release watch policy ({', '.join(self.probes)}; {self.max_per_day}/day, ≤{self.max_params_b:g}B)"

    def save(self, *args, **kwargs):
        self.pk = 1  # one policy: saving another replaces it
        super().save(*args, **kwargs)
