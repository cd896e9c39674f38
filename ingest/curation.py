"""Curated facts that decide a model's size, release date and whether it is tracked.

Pure functions first (testable without a database), then the two that read and apply the curated
tables. The order for parameters is the one the methodology page states (/methodology, "Size
class"): the curated table (ATOM's model_parameters.csv, then the admin), the safetensors total,
a size parsed from the name.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from observatory.vocab import size_class  # ATOM's classes and their bounds: the vocabulary's

CHATGPT_RELEASE = dt.date(2022, 11, 30)


# A size token: optional "8x" expert multiplier, a number (with "." or "_" as the decimal mark,
# as in "1_8b"), then B or M. It must stand alone: not glued to letters or digits before it (so
# the MoE active marker "A3B" and the "7B" inside "A2.7B" are not sizes) nor after it ("7b1").
_SIZE_TOKEN = re.compile(r"(?<![A-Za-z0-9.])(?:(\d+)x)?(\d+(?:[._]\d+)?)([bBmM])(?![A-Za-z0-9])")


def params_from_name(hub_id: str) -> float | None:
    """Total parameters in billions parsed from a model name (`-8B-`, `_0.5B`, `8x7B`, `135M`).

    A "B" size wins over an "M" one (`Infinity-Instruct-7M-…-8B` names a 7M-row data set), and
    the largest B size wins (`OLMoE-1B-7B`: 1B active of 7B total).
    """
    name = hub_id.rsplit("/", 1)[-1]
    billions: list[float] = []
    millions: list[float] = []
    for match in _SIZE_TOKEN.finditer(name):
        experts = int(match.group(1)) if match.group(1) else 1
        value = float(match.group(2).replace("_", ".")) * experts
        (billions if match.group(3) in "bB" else millions).append(value)
    candidates = billions or [value / 1000.0 for value in millions]
    candidates = [value for value in candidates if 0 < value < 10_000]
    return max(candidates) if candidates else None


@dataclass(frozen=True)
class CuratedParams:
    total_params_b: float
    active_params_b: float | None = None
    is_moe: bool | None = None


def resolve_params(
    hub_id: str, safetensors_total: int | None, curated: dict[str, CuratedParams]
) -> tuple[int | None, int | None, bool | None, str]:
    """(total parameter count, active count, is_moe, source) — counts, not billions."""
    entry = curated.get(hub_id)
    if entry is not None:
        active = int(round(entry.active_params_b * 1e9)) if entry.active_params_b else None
        return int(round(entry.total_params_b * 1e9)), active, entry.is_moe, "curated"
    if safetensors_total:
        return int(safetensors_total), None, None, "safetensors"
    from_name = params_from_name(hub_id)
    if from_name is not None:
        return int(round(from_name * 1e9)), None, None, "name"
    return None, None, None, ""


def release_date_for(
    hub_id: str, created_at: dt.datetime | None, corrections: dict[str, dt.date]
) -> tuple[dt.date | None, str]:
    if hub_id in corrections:
        return corrections[hub_id], "correction"
    if created_at is None:
        return None, ""
    return created_at.date(), "hub"


class PolicyError(ValueError):
    """A policy document of the wrong shape; `key` is where in the document (`global.reject_name_patterns`)."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"policy {key}: {message}")


@dataclass
class Policy:
    """ATOM's model policy: which repos count as tracked releases, and why not."""

    allowed_pipeline_tags: set[str] = field(default_factory=set)
    conditional_pipeline_tags: set[str] = field(default_factory=set)
    reject_pipeline_tags: set[str] = field(default_factory=set)
    reject_name_patterns: list[re.Pattern[str]] = field(default_factory=list)
    reject_format_patterns: list[re.Pattern[str]] = field(default_factory=list)
    min_downloads: int = 0
    org_rules: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def from_yaml(cls, text: str) -> Policy:
        import yaml

        return cls.from_document(yaml.safe_load(text))

    @classmethod
    def from_document(cls, document: dict) -> Policy:
        """Build from the parsed YAML; raises PolicyError naming the offending key."""
        if not isinstance(document, dict):
            raise PolicyError("(document)", f"must be a mapping with 'global' and 'orgs', got {type(document).__name__}")
        glob = document.get("global") or {}
        if not isinstance(glob, dict):
            raise PolicyError("global", "must be a mapping")

        def patterns(values, where):
            if values is not None and not isinstance(values, list):
                raise PolicyError(where, f"must be a list of patterns, got {type(values).__name__}")
            compiled = []
            for value in values or []:
                try:
                    compiled.append(re.compile(str(value)))
                except re.error as exc:
                    raise PolicyError(where, f"bad pattern {value!r}: {exc}") from None
            return compiled

        def tags(key):
            values = glob.get(key)
            if values is not None and not isinstance(values, list):
                raise PolicyError(f"global.{key}", f"must be a list of pipeline tags, got {type(values).__name__}")
            return {str(value) for value in values or []}

        if not isinstance(document.get("orgs") or {}, dict):
            raise PolicyError("orgs", "must be a mapping of namespace to rules")
        orgs = {}
        for org, rules in (document.get("orgs") or {}).items():
            rules = rules or {}
            if not isinstance(rules, dict):
                raise PolicyError(f"orgs.{org}", "must be a mapping")
            orgs[str(org)] = {
                "family": patterns(rules.get("primary_family_patterns"), f"orgs.{org}.primary_family_patterns")
                + patterns(rules.get("extra_family_patterns"), f"orgs.{org}.extra_family_patterns"),
                "reject": patterns(rules.get("reject_name_patterns"), f"orgs.{org}.reject_name_patterns"),
            }
        try:
            min_downloads = int(glob.get("primary_min_downloads") or 0)
        except (TypeError, ValueError):
            raise PolicyError("global.primary_min_downloads", "must be an integer") from None
        return cls(
            allowed_pipeline_tags=tags("primary_allowed_pipeline_tags"),
            conditional_pipeline_tags=tags("conditional_allowed_pipeline_tags"),
            reject_pipeline_tags=tags("reject_pipeline_tags"),
            reject_name_patterns=patterns(glob.get("reject_name_patterns"), "global.reject_name_patterns"),
            reject_format_patterns=patterns(glob.get("reject_format_patterns"), "global.reject_format_patterns"),
            min_downloads=min_downloads,
            org_rules=orgs,
        )

    def decide(
        self,
        record: dict,
        *,
        listed: bool | str | None,
        downloads_all_time: int | None,
        org_known: bool = True,
        release_date: dt.date | None = None,
    ) -> tuple[bool, str]:
        """(tracked, reason). `listed`: the ATOM list holding the id ("models", "extra_models"),
        or just True. ATOM's lists win over every rule: they were curated by hand."""
        if listed:
            return True, "atom-list" if listed is True else f"atom-list:{listed}"
        hub_id = str(record.get("id") or "")
        namespace, _, name = hub_id.partition("/")
        pipeline = record.get("pipeline_tag") or ""
        if pipeline in self.reject_pipeline_tags:
            return False, f"rejected: pipeline tag {pipeline}"
        for pattern in self.reject_name_patterns:
            if pattern.search(name):
                return False, f"rejected: name pattern {pattern.pattern}"
        formats = " ".join([str(record.get("library_name") or ""), *[str(t) for t in record.get("tags") or []]])
        for pattern in self.reject_format_patterns:
            if pattern.search(formats):
                return False, f"rejected: format pattern {pattern.pattern}"
        rules = self.org_rules.get(namespace)
        for pattern in (rules or {}).get("reject", []):
            if pattern.search(name):
                return False, f"rejected: {namespace} name pattern {pattern.pattern}"
        if pipeline not in self.allowed_pipeline_tags | self.conditional_pipeline_tags:
            return False, f"not tracked: pipeline tag {pipeline or 'missing'} not allowed"
        if not org_known:
            return False, "not tracked: organisation not in the region table"
        if rules and rules["family"] and not any(p.search(name) for p in rules["family"]):
            return False, f"not tracked: outside {namespace}'s primary families"
        if release_date is not None and release_date <= CHATGPT_RELEASE:
            return False, "not tracked: released before ChatGPT (2022-11-30)"
        if (downloads_all_time or 0) < self.min_downloads:
            return False, f"not tracked: fewer than {self.min_downloads:,} all-time downloads"
        return True, "policy: meets ATOM's policy"


@dataclass
class Curation:
    params: dict[str, CuratedParams]
    corrections: dict[str, dt.date]
    listed: dict[str, str]
    policy: Policy | None
    known_orgs: set[str]


def load_curation() -> Curation:
    """Read the curated tables once; a crawl or import passes the result to every record."""
    from observatory.catalog.models import (
        Organization,
        ParameterCount,
        ReleaseDateCorrection,
        TrackedListEntry,
        TrackingPolicy,
    )

    params = {
        hub_id: CuratedParams(total, active, moe)
        for hub_id, total, active, moe in ParameterCount.objects.values_list(
            "hub_id", "total_params_b", "active_params_b", "is_moe"
        )
    }
    corrections = dict(ReleaseDateCorrection.objects.values_list("hub_id", "actual_release_date"))
    listed = dict(TrackedListEntry.objects.values_list("hub_id", "list_name"))
    document = TrackingPolicy.objects.filter(name="atom").values_list("document", flat=True).first()
    policy = Policy.from_document(document) if document else None
    known_orgs = set(Organization.objects.exclude(region_source="default").values_list("namespace", flat=True))
    return Curation(params, corrections, listed, policy, known_orgs)


def curated_fields(record: dict, curation: Curation) -> dict:
    """The HubModel fields that curation decides, for one Hub-API-shaped record."""
    hub_id = record["id"]
    safetensors = record.get("safetensors") or {}
    total, active, is_moe, params_source = resolve_params(hub_id, safetensors.get("total"), curation.params)
    release_date, release_source = release_date_for(hub_id, record.get("createdAt"), curation.corrections)
    listed = curation.listed.get(hub_id)
    if curation.policy is not None:
        tracked, reason = curation.policy.decide(
            record,
            listed=listed,
            downloads_all_time=record.get("downloadsAllTime"),
            org_known=hub_id.partition("/")[0] in curation.known_orgs,
            release_date=release_date,
        )
    else:
        tracked, reason = (True, f"atom-list:{listed}") if listed else (False, "no policy imported yet")
    return {
        "total_params": total,
        "active_params": active,
        "is_moe": is_moe,
        "params_source": params_source,
        "size_class": size_class(total / 1e9 if total else None),
        "release_date": release_date,
        "release_date_source": release_source,
        "tracked": tracked,
        "tracked_reason": reason[:200],
    }


def reapply_curation(hub_ids: list[str] | None = None, *, batch_size: int = 2000) -> int:
    """Recompute curated fields for stored models (all, or the given ids), in bulk.

    Values an admin set by hand (source 'admin') are kept.
    """
    from observatory.catalog.models import HubModel

    curation = load_curation()
    queryset = HubModel.objects.all()
    if hub_ids is not None:
        queryset = queryset.filter(hub_id__in=hub_ids)
    fields = ["total_params", "active_params", "is_moe", "params_source", "size_class", "release_date",
              "release_date_source", "tracked", "tracked_reason"]
    changed: list[HubModel] = []
    count = 0
    for model in queryset.only("id", "hub_id", "created_at", "pipeline_tag", "library_name", "tags",
                               "downloads_all_time", "total_params", "params_source", *fields).iterator(chunk_size=batch_size):
        record = {
            "id": model.hub_id,
            "createdAt": model.created_at,
            "pipeline_tag": model.pipeline_tag,
            "library_name": model.library_name,
            "tags": model.tags,
            "downloadsAllTime": model.downloads_all_time,
            "safetensors": {"total": model.total_params if model.params_source == "safetensors" else None},
        }
        values = curated_fields(record, curation)
        if model.params_source == "admin":
            for key in ("total_params", "active_params", "is_moe", "params_source", "size_class"):
                values.pop(key)
        if model.release_date_source == "admin":
            values.pop("release_date")
            values.pop("release_date_source")
        if any(getattr(model, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(model, key, value)
            changed.append(model)
        if len(changed) >= batch_size:
            HubModel.objects.bulk_update(changed, fields, batch_size=batch_size)
            count += len(changed)
            changed = []
    if changed:
        HubModel.objects.bulk_update(changed, fields, batch_size=batch_size)
        count += len(changed)
    return count
