"""The domain: organisations, Hub models, their daily history, lineage, leaderboards, runs.

Hub ids and namespaces are stored exactly as the Hub spells them (case-sensitive).
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from observatory import vocab
from observatory.catalog.run_lifecycle import RunQuerySet

# Regions, licence classes and size classes are the vocabulary's (observatory/vocab.py): the
# choices take its values, labels and order, so the migrations see exactly what they recorded.
Region = models.TextChoices("Region", [(value.upper(), (value, label)) for value, label in vocab.REGIONS])
LicenceClass = models.TextChoices(
    "LicenceClass", [(value.upper().replace("-", "_"), (value, label)) for value, label in vocab.LICENCE_CLASSES])


class Relation(models.TextChoices):
    FINETUNE = "finetune", "Fine-tune"
    ADAPTER = "adapter", "Adapter"
    QUANTIZED = "quantized", "Quantized"
    MERGE = "merge", "Merge"


# ATOM's size classes, by total parameters in billions ("<1B" is no identifier: the names are given).
SizeClass = models.TextChoices("SizeClass", list(zip(
    ("LT_1B", "B1_5", "B7_9", "B10_50", "B50_100", "B100_250", "B250_PLUS"), vocab.SIZE_CLASSES, strict=True)))


class Organization(models.Model):
    namespace = models.CharField(max_length=96, unique=True, help_text="Hub namespace, exact and case-sensitive")
    display_name = models.CharField(max_length=200, blank=True)
    region = models.CharField(max_length=16, choices=Region.choices, default=Region.UNKNOWN, db_index=True)
    region_source = models.CharField(
        max_length=32, default="default", help_text="Where the region came from: atom, admin, default"
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["namespace"]

    def __str__(self) -> str:
        return self.namespace


class HubModel(models.Model):
    hub_id = models.CharField(max_length=200, help_text="namespace/name as the Hub spells it")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="models"
    )
    author = models.CharField(max_length=96, blank=True)
    created_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_modified = models.DateTimeField(null=True, blank=True)
    # The commit the Hub's main branch was at when last crawled (the API's `sha`). Hub-stats rows
    # carry none: an import leaves a crawled sha as it was. The release watch pins its runs to it
    # and re-runs the tooling probe when it moves (gpu_workers.watch, gpu_workers.tooling_schedule).
    sha = models.CharField(max_length=40, null=True, blank=True, help_text="the Hub's commit sha, as last crawled")
    release_date = models.DateField(null=True, blank=True, db_index=True, help_text="createdAt unless corrected")
    release_date_source = models.CharField(max_length=32, default="hub")
    pipeline_tag = models.CharField(max_length=64, blank=True)
    library_name = models.CharField(max_length=64, blank=True)
    licence_raw = models.TextField(blank=True, help_text="The licence string(s) exactly as found")
    licence_id = models.CharField(max_length=96, blank=True)
    licence_class = models.CharField(
        max_length=16, choices=LicenceClass.choices, default=LicenceClass.UNKNOWN
    )
    total_params = models.BigIntegerField(null=True, blank=True)
    active_params = models.BigIntegerField(null=True, blank=True)
    is_moe = models.BooleanField(null=True, blank=True)
    params_source = models.CharField(max_length=32, blank=True, help_text="curated, safetensors, name, admin")
    size_class = models.CharField(max_length=10, choices=SizeClass.choices, blank=True)
    gated = models.CharField(max_length=16, blank=True, help_text="'', auto or manual")
    tags = models.JSONField(default=list, blank=True)
    card_data = models.JSONField(default=dict, blank=True)
    # Latest known counts, denormalised from the newest snapshot for fast listing.
    downloads = models.BigIntegerField(null=True, blank=True)
    downloads_all_time = models.BigIntegerField(null=True, blank=True, db_index=True)
    likes = models.IntegerField(null=True, blank=True)
    tracked = models.BooleanField(default=False, db_index=True)
    tracked_reason = models.CharField(max_length=200, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["hub_id"]
        # Text columns are indexed through Meta, not unique=True/db_index=True: on PostgreSQL those
        # add a second varchar_pattern_ops index per column for LIKE 'prefix%', which nothing here
        # asks, and every crawl and import paid to maintain (see bench/import_bench.py).
        constraints = [models.UniqueConstraint(fields=["hub_id"], name="hubmodel_one_per_hub_id")]
        indexes = [models.Index(fields=[name], name=f"hubmodel_{name}") for name in
                   ("author", "pipeline_tag", "licence_id", "licence_class", "size_class")] + [
            # Hub ids resolve case-insensitively: lineage names are matched on lower(hub_id).
            models.Index(Lower("hub_id"), name="hubmodel_hub_id_lower")]

    def __str__(self) -> str:
        return self.hub_id

    @property
    def namespace(self) -> str:
        return self.hub_id.split("/", 1)[0] if "/" in self.hub_id else ""


class ModelAlias(models.Model):
    """An old name of a renamed repo (the Hub answers it with a 307): one model, two names.

    `hub_id` is the current id, kept as text so a rename can be known before the model is
    stored; `model` points at it once it is (ingest.identity links it). Old names match
    case-insensitively, as the Hub resolves them.
    """

    class Source(models.TextChoices):
        REDIRECT = "hub-redirect", "The Hub answered the old name with a redirect"
        RESOLUTION = "hub-resolution", "The Hub resolved a card's base_model to another id"
        ADMIN = "admin", "Curated in the admin"

    old_hub_id = models.CharField(max_length=200, help_text="The old name, as it was spelled")
    hub_id = models.CharField(max_length=200, help_text="The current id it resolves to")
    model = models.ForeignKey(HubModel, null=True, blank=True, on_delete=models.CASCADE, related_name="aliases")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ADMIN)
    evidence = models.CharField(max_length=300, blank=True, help_text="Where the rename was seen")
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "model aliases"
        ordering = ["old_hub_id"]
        constraints = [models.UniqueConstraint(Lower("old_hub_id"), name="modelalias_one_per_old_name")]

    def __str__(self) -> str:
        return f"{self.old_hub_id} → {self.hub_id}"


class CumulativeKind(models.TextChoices):
    """How far a snapshot's cumulative count can be trusted as an all-time count."""

    ALL_TIME = "all-time", "The Hub's own all-time count"
    ESTIMATED = "estimated", "Estimated all-time count (coverage from release)"
    LOWER_BOUND = "lower-bound", "Downloads since coverage began: a lower bound of the all-time count"


class DownloadSnapshot(models.Model):
    """One model on one day, in the observatory's canonical measures.

    `downloads_all_time` is the canonical cumulative downloads at `date` (see `cumulative_kind`),
    `downloads_day` the canonical downloads on that day, both converted from what the source
    measures by the estimator its source names (ingest.download_measures); `raw_value` keeps the
    source's own number when it measures something else (the daily series' running sum).
    """

    # No index of its own: the unique (model, date) index starts with it.
    model = models.ForeignKey(HubModel, on_delete=models.CASCADE, related_name="snapshots", db_index=False)
    date = models.DateField()
    downloads = models.BigIntegerField(null=True, blank=True, help_text="Rolling 30-day count")
    downloads_all_time = models.BigIntegerField(null=True, blank=True,
                                                help_text="Canonical cumulative downloads at this date")
    downloads_day = models.FloatField(null=True, blank=True,
                                      help_text="Canonical downloads on this day (estimated for the daily series)")
    # A database default too: the crawl's COPY writes the Hub's own all-time counts without naming it.
    cumulative_kind = models.CharField(max_length=16, choices=CumulativeKind.choices, default=CumulativeKind.ALL_TIME,
                                       db_default=CumulativeKind.ALL_TIME)
    raw_value = models.BigIntegerField(null=True, blank=True,
                                       help_text="The source's own number where it is not an all-time count")
    likes = models.IntegerField(null=True, blank=True)
    source = models.CharField(max_length=32, default="crawl")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "date"], name="snapshot_one_per_model_day")]
        indexes = [
            models.Index(fields=["date"]),
            # The crawled history in (model, date) order, what the ledger's crawl gaps read
            # (analytics.quality.crawl_gaps): without it they scan every source's rows.
            models.Index(fields=["model", "date"], condition=models.Q(source="crawl"), name="snapshot_crawl_model_date"),
        ]

    def __str__(self) -> str:
        return f"{self.model_id}@{self.date}"


class DataQualityIssue(models.Model):
    """One thing a source got wrong or left out, as found when its data were converted (the ledger)."""

    class Kind(models.TextChoices):
        PLACEHOLDER = "leading-placeholder", "Leading placeholders read as missing"
        NO_SAMPLES = "no-samples", "A series with no sample at all"
        JUMP = "implausible-jump", "Implausible jump"
        CONTRADICTION = "contradiction", "Later all-time count below an earlier cumulative estimate"
        GAP = "gap", "Days without a sample"
        DECREASE = "decrease", "A running sum that falls"

    source = models.CharField(max_length=32, db_index=True)
    model = models.ForeignKey(HubModel, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    hub_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    date = models.DateField(null=True, blank=True, help_text="First day concerned")
    end_date = models.DateField(null=True, blank=True, help_text="Last day concerned")
    days = models.IntegerField(default=1)
    detail = models.TextField()

    class Meta:
        ordering = ["source", "hub_id", "date"]
        indexes = [models.Index(fields=["model", "date"], name="dataquality_model_date")]

    def __str__(self) -> str:
        return f"{self.source}:{self.kind}:{self.hub_id}@{self.date}"


class LineageEdge(models.Model):
    """child derives from parent. The parent may not be known yet: its id is kept and resolved later."""

    # No index of its own: the unique (child, parent_hub_id) index starts with it.
    child = models.ForeignKey(HubModel, on_delete=models.CASCADE, related_name="parent_edges", db_index=False)
    parent = models.ForeignKey(
        HubModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="child_edges"
    )
    parent_hub_id = models.CharField(max_length=200)
    relation = models.CharField(max_length=16, choices=Relation.choices)
    source = models.CharField(max_length=32, help_text="baseModels, cardData, tag, import")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["child", "parent_hub_id"], name="lineage_one_edge_per_pair"),
        ]
        indexes = [models.Index(fields=["parent_hub_id"], name="lineageedge_parent_hub_id")]

    def __str__(self) -> str:
        return f"{self.child_id} -[{self.relation}]-> {self.parent_hub_id}"


class MonthlyFinetuneCount(models.Model):
    """Cumulative fine-tunes of a base model n months after its creation (imported series)."""

    base_hub_id = models.CharField(max_length=200, db_index=True)
    model = models.ForeignKey(HubModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    months_since_creation = models.PositiveSmallIntegerField()
    cumulative_count = models.IntegerField()
    # The source's own creation time of the base, which its month offsets count from. Kept here
    # because most bases have no HubModel row, and a HubModel's created_at may come from another
    # source; null only on rows imported before this field existed (a re-import fills it).
    base_created_at = models.DateTimeField(null=True, blank=True,
                                           help_text="The base's creation time as the series gives it (month 0)")
    source = models.CharField(max_length=64, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["base_hub_id", "months_since_creation"], name="finetune_count_unique")
        ]


class LeaderboardEntry(models.Model):
    class Source(models.TextChoices):
        LMARENA = "lmarena", "LMArena"
        EPOCH_ECI = "epoch-eci", "Epoch Capabilities Index"
        EPOCH_BENCHMARKS = "epoch-benchmarks", "Epoch benchmarks"
        EPOCH_NOTABLE = "epoch-notable", "Epoch notable models"
        OPEN_LLM_LEADERBOARD = "open-llm-leaderboard", "Open LLM Leaderboard"
        LLM_STATS = "llm-stats", "llm-stats"
        PROBE = "probe", "Observatory probes"

    source = models.CharField(max_length=32, choices=Source.choices, db_index=True)
    model_name = models.CharField(max_length=300, db_index=True)
    hub_model = models.ForeignKey(
        HubModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="leaderboard_entries"
    )
    organization = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=100, blank=True)
    open_weights = models.BooleanField(null=True, blank=True)
    licence = models.CharField(max_length=200, blank=True)
    release_date = models.DateField(null=True, blank=True)
    benchmark = models.CharField(max_length=120, db_index=True)
    score = models.FloatField(null=True, blank=True)
    ci_lower = models.FloatField(null=True, blank=True)
    ci_upper = models.FloatField(null=True, blank=True)
    snapshot_date = models.DateField(null=True, blank=True, db_index=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["source", "benchmark", "snapshot_date"])]

    def __str__(self) -> str:
        return f"{self.source}:{self.benchmark}:{self.model_name}"


class Run(models.Model):
    """One row per import, crawl or probe run: what the status pages and the admin show."""

    class Kind(models.TextChoices):
        IMPORT = "import", "Import"
        BOOTSTRAP = "bootstrap", "Bootstrap"
        CRAWL = "crawl", "Crawl"
        PROBE = "probe", "Probe"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    name = models.CharField(max_length=200, help_text="Which importer, crawl plan or probe")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    cursor = models.JSONField(default=dict, blank=True, help_text="Checkpoint a killed run resumes from")
    progress = models.FloatField(default=0.0)
    current_step = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = RunQuerySet.as_manager()  # its status changes: observatory/catalog/run_lifecycle.py

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}#{self.pk} ({self.status})"


class QuarantinedRecord(models.Model):
    """A record that failed validation during a crawl or import; kept with its reason, the run goes on."""

    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="quarantined")
    source = models.CharField(max_length=64)
    record_key = models.CharField(max_length=300, blank=True, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


# --- Curated tables (ATOM's metadata, editable in the admin) -------------------------------------
# They outlive any one crawl: a crawl or import consults them when it computes a model's
# release date, size and tracked flag.


class ParameterCount(models.Model):
    hub_id = models.CharField(max_length=200, unique=True)
    total_params_b = models.FloatField()
    active_params_b = models.FloatField(null=True, blank=True)
    is_moe = models.BooleanField(null=True, blank=True)
    notes = models.TextField(blank=True)
    source = models.CharField(max_length=32, default="atom", help_text="atom or admin")

    def __str__(self) -> str:
        return f"{self.hub_id}: {self.total_params_b}B"


class ReleaseDateCorrection(models.Model):
    hub_id = models.CharField(max_length=200, unique=True)
    hf_created_at = models.DateField(null=True, blank=True)
    actual_release_date = models.DateField()
    notes = models.TextField(blank=True)
    source = models.CharField(max_length=32, default="atom")

    def __str__(self) -> str:
        return f"{self.hub_id}: {self.actual_release_date}"


class TrackedListEntry(models.Model):
    """A Hub id on one of ATOM's tracked lists (models.csv, extra_models.csv)."""

    hub_id = models.CharField(max_length=200, unique=True)
    list_name = models.CharField(max_length=64)
    org = models.CharField(max_length=96, blank=True)

    def __str__(self) -> str:
        return f"{self.hub_id} ({self.list_name})"


class TrackingPolicy(models.Model):
    """ATOM's model policy (pipeline tags, reject patterns, per-org rules), kept as imported."""

    name = models.CharField(max_length=64, unique=True, default="atom")
    document = models.JSONField(default=dict)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "tracking policies"

    def __str__(self) -> str:
        return self.name


class DailyGain(models.Model):
    """Rollup: downloads gained per snapshot day by every combination of the dashboard filters.

    One row per (date, tracked, region, organization, size_class, pipeline_tag): the sum over
    those models of their canonical downloads on that day, and how many rows that was. Rebuilt from the daily snapshots
    when the data version bumps (observatory.analytics.rollups); a rollup older than its sources
    is never read, the metrics then read the raw rows.
    """

    date = models.DateField()
    tracked = models.BooleanField()
    region = models.CharField(max_length=16)
    organization = models.CharField(max_length=200)
    size_class = models.CharField(max_length=10, null=True)
    pipeline_tag = models.CharField(max_length=64)
    gain = models.FloatField()
    rows = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["tracked", "date"])]


class RollupChange(models.Model):
    """What a write to a rollup's sources touched, logged by statement-level triggers (migration
    0007) and consumed by the next fold (observatory.analytics.rollups), in the writer's own
    transaction: a rolled-back write leaves nothing, a committed one is seen by the next fold.

    `kind` says which rollup rows the write may have changed: "date" every cell on `date` (a
    snapshot written there; the fold adds the day each such row's successor is on), "cell" one
    filter cell on every date (a model moved between cells, or lost rows), "org" every cell of
    one (organization, region) pair (an organisation renamed, moved or deleted), "full"
    everything (a TRUNCATE), "write" nothing (any other write: the rollup is not fresh until a
    fold has seen it).
    """

    kind = models.CharField(max_length=8)
    date = models.DateField(null=True)
    tracked = models.BooleanField(null=True)
    region = models.CharField(max_length=16, null=True)
    organization = models.CharField(max_length=200, null=True)
    size_class = models.CharField(max_length=10, null=True)
    pipeline_tag = models.CharField(max_length=64, null=True)


class RollupState(models.Model):
    """Which version of the source tables a rollup was built from (see analytics.rollups)."""

    name = models.CharField(max_length=64, primary_key=True)
    source_version = models.BigIntegerField()
    built_at = models.DateTimeField()
    seconds = models.FloatField(default=0.0)


# The aggregates beside the rollup live in their own modules; imported here so Django registers them.
from observatory.catalog.adoption_aggregates import *  # noqa: E402,F403
from observatory.catalog.count_aggregates import *  # noqa: E402,F403
from observatory.catalog.quality_aggregates import *  # noqa: E402,F403
