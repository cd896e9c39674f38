"""ATOM's curated metadata: the region table, tracked lists, parameter counts, release-date
corrections and the model policy. Each import replaces what ATOM said before and keeps what an
admin curated by hand."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.db import transaction

from ingest.curation import Policy, PolicyError, reapply_curation
from ingest.importers.csvfiles import parse_bool, parse_date, parse_float, read_rows
from ingest.importing import ImportFileError, progress, require_file
from ingest.lineage import HUB_ID
from observatory.catalog.models import (
    Organization,
    ParameterCount,
    Region,
    ReleaseDateCorrection,
    TrackedListEntry,
    TrackingPolicy,
)

REGIONS = set(Region.values)


def _hub_id(path: Path, row: int, column: str, value: str) -> str:
    value = (value or "").strip()
    if not HUB_ID.match(value) or ".." in value:
        raise ImportFileError(path, f"not a Hub id: {value[:80]!r}", row=row, column=column)
    return value


def import_regions(path: Path, *, progress_bar: bool = False, run=None) -> dict[str, int]:
    """organization_regions.csv (hf_org, region, notes) → Organization rows with an ATOM region."""
    rows = {}
    for number, row in progress(read_rows(path, {"hf_org", "region"}), desc=path.name, enabled=progress_bar):
        namespace = row["hf_org"].strip()
        if not namespace or "/" in namespace or len(namespace) > 96:
            raise ImportFileError(path, f"not a Hub namespace: {namespace[:80]!r}", row=number, column="hf_org")
        region = row["region"].strip().lower()
        if region not in REGIONS:
            raise ImportFileError(path, f"unknown region {region[:40]!r} (expected one of {sorted(REGIONS)})",
                                  row=number, column="region")
        rows[namespace] = (region, (row.get("notes") or "").strip())
    with transaction.atomic():
        admin = set(Organization.objects.filter(region_source="admin").values_list("namespace", flat=True))
        Organization.objects.bulk_create(
            [Organization(namespace=ns, display_name=ns, region=region, region_source="atom", notes=notes)
             for ns, (region, notes) in rows.items() if ns not in admin],
            update_conflicts=True, unique_fields=["namespace"], update_fields=["region", "region_source", "notes"],
        )
        # The set of known organisations feeds the tracking policy.
        updated = reapply_curation(None)
    return {"regions": len(rows), "kept_admin": len(admin & set(rows)), "models_updated": updated}


TRACKED_LISTS = {"models": "models.csv", "extra_models": "extra_models.csv"}  # list name → file in the ATOM folder


def import_tracked_lists(path: Path, *, progress_bar: bool = False, run=None) -> dict[str, int]:
    """The ATOM folder's models.csv / extra_models.csv (org, model, modelId) → TrackedListEntry."""
    entries: dict[str, TrackedListEntry] = {}
    for list_name, file_name in TRACKED_LISTS.items():
        path_of_list = Path(path) / file_name
        for number, row in progress(read_rows(path_of_list, {"modelId"}), desc=file_name, enabled=progress_bar):
            hub_id = _hub_id(path_of_list, number, "modelId", row["modelId"])
            entries.setdefault(hub_id, TrackedListEntry(hub_id=hub_id, list_name=list_name, org=row.get("org", "")))
    with transaction.atomic():
        TrackedListEntry.objects.exclude(hub_id__in=list(entries)).delete()
        TrackedListEntry.objects.bulk_create(list(entries.values()), update_conflicts=True, unique_fields=["hub_id"],
                                             update_fields=["list_name", "org"], batch_size=2000)
        updated = reapply_curation(None)
    return {"tracked_ids": len(entries), "models_updated": updated}


def import_parameters(path: Path, *, progress_bar: bool = False, run=None) -> dict[str, int]:
    """model_parameters.csv (model_id, total_params_b, active_params_b, is_moe, notes) → ParameterCount."""
    entries = {}
    for number, row in progress(read_rows(path, {"model_id", "total_params_b"}), desc=path.name, enabled=progress_bar):
        hub_id = _hub_id(path, number, "model_id", row["model_id"])
        total = parse_float(path, number, "total_params_b", row["total_params_b"], allow_empty=False, minimum=0)
        active = parse_float(path, number, "active_params_b", row.get("active_params_b", ""), minimum=0)
        is_moe = parse_bool(path, number, "is_moe", row.get("is_moe", ""))
        entries[hub_id] = ParameterCount(hub_id=hub_id, total_params_b=total, active_params_b=active, is_moe=is_moe,
                                         notes=row.get("notes", "")[:2000], source="atom")
    updated = _replace_atom_rows(ParameterCount, entries, ["total_params_b", "active_params_b", "is_moe", "notes"])
    return {"parameter_counts": len(entries), "models_updated": updated}


def import_release_corrections(path: Path, *, progress_bar: bool = False, run=None) -> dict[str, int]:
    """release_date_corrections.csv ('#' comments, then model_id, hf_created_at, actual_release_date, notes)."""
    entries = {}
    rows = read_rows(path, {"model_id", "actual_release_date"}, comment_prefix="#")
    for number, row in progress(rows, desc=path.name, enabled=progress_bar):
        hub_id = _hub_id(path, number, "model_id", row["model_id"])
        entries[hub_id] = ReleaseDateCorrection(
            hub_id=hub_id,
            hf_created_at=parse_date(path, number, "hf_created_at", row.get("hf_created_at", "")),
            actual_release_date=parse_date(path, number, "actual_release_date", row["actual_release_date"],
                                           allow_empty=False),
            notes=row.get("notes", "")[:2000], source="atom")
    updated = _replace_atom_rows(ReleaseDateCorrection, entries, ["hf_created_at", "actual_release_date", "notes"])
    return {"release_corrections": len(entries), "models_updated": updated}


def _replace_atom_rows(model, entries: dict, fields: list[str]) -> int:
    """ATOM's rows of a per-model table (keyed by hub_id, with a `source`) replaced by `entries`,
    in one transaction; a row an admin set (source=admin) is kept as it is. Returns the number
    of models whose curation changed."""
    with transaction.atomic():
        admin = set(model.objects.filter(source="admin").values_list("hub_id", flat=True))
        model.objects.filter(source="atom").exclude(hub_id__in=list(entries)).delete()
        model.objects.bulk_create(
            [entry for hub_id, entry in entries.items() if hub_id not in admin], update_conflicts=True,
            unique_fields=["hub_id"], update_fields=[*fields, "source"], batch_size=2000)
        return reapply_curation(None)


def import_policy(path: Path, *, progress_bar: bool = False, run=None) -> dict[str, int]:
    """model_policy.yml → TrackingPolicy (validated by building the Policy from it)."""
    require_file(path)
    try:
        document = yaml.safe_load(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ImportFileError(path, f"not UTF-8 (offset {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ImportFileError(path, f"YAML syntax error: {getattr(exc, 'problem', exc)}",
                              row=mark.line + 1 if mark else None) from None
    if document is None:
        raise ImportFileError(path, "empty file", row=1)
    try:
        policy = Policy.from_document(document)
    except PolicyError as exc:
        raise ImportFileError(path, str(exc), column=exc.key) from None
    with transaction.atomic():
        TrackingPolicy.objects.update_or_create(name="atom", defaults={"document": document})
        updated = reapply_curation(None)
    return {"policy_orgs": len(policy.org_rules), "models_updated": updated}
