"""Renamed repos, as the Hub itself shows them → ModelAlias rows (old name → current id).

Two real sources in the hub/ folder:
- the recorded `GET /api/models/{id}` answers (`model_info/*.json`): a 307 to another name is a
  rename, exactly what the crawler records when it follows one;
- the hub-stats rows: where a card states a single `base_model` and the Hub's own resolution of
  it (`baseModels`) is a single other id, the card's name is an old name of that id (the Hub
  resolves nothing else from the card; its `base_model:` tags show the same). A name that is a
  model of its own in the same rows is never taken for an old name, and a name the rows resolve
  to two different ids is left out as ambiguous.

An alias curated in the admin is never overwritten. Stored edges are re-resolved afterwards.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import polars as pl
from django.db import transaction
from django.db.models.functions import Lower

from ingest.identity import relink_edges
from ingest.importing import ImportFileError
from observatory.catalog.models import ModelAlias
from observatory.vocab import hub_id_key, is_hub_id

REDIRECTS = (301, 302, 307, 308)


def redirects(folder: Path) -> dict[str, tuple[str, str]]:
    """{old id: (current id, evidence)} from recorded /api/models/{id} answers."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            recording = json.loads(path.read_text(encoding="utf-8"))
            request, response = recording["request"], recording["response"]
        except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise ImportFileError(path, f"not a recorded response ({exc.__class__.__name__})") from None
        if response.get("status") not in REDIRECTS:
            continue
        old = urllib.parse.urlsplit(request["uri"]).path.removeprefix("/api/models/")
        location = (response.get("headers") or {}).get("Location") or str(response.get("text") or "").rsplit(" ", 1)[-1]
        current = urllib.parse.urlsplit(location).path.removeprefix("/api/models/")
        if is_hub_id(old, legacy=True) and is_hub_id(current, legacy=True) and hub_id_key(old) != hub_id_key(current):
            found[old] = (current, f"{path.name}: HTTP {response['status']} on {response.get('date', '?')}")
    return found


def _card_names(card: object) -> list[str]:
    if isinstance(card, str):
        try:
            card = json.loads(card)
        except json.JSONDecodeError:
            return []
    value = card.get("base_model") if isinstance(card, dict) else None
    values = value if isinstance(value, list) else [value]
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def resolutions(parquet: Path) -> tuple[dict[str, tuple[str, str]], int]:
    """({old id: (current id, evidence)}, ambiguous count) from the Hub's resolution of cards."""
    frame = pl.read_parquet(parquet, columns=["id", "cardData", "baseModels"])
    own = {hub_id_key(hub_id) for hub_id in frame["id"]}
    seen: dict[str, set[str]] = {}
    found: dict[str, tuple[str, str]] = {}
    for child, card, base_models in frame.iter_rows():
        resolved = [m["id"] for m in (base_models or {}).get("models") or [] if m and m.get("id")]
        stated = _card_names(card)
        if len(resolved) != 1 or len(stated) != 1:
            continue
        old, current = stated[0], resolved[0]
        if hub_id_key(old) == hub_id_key(current) or hub_id_key(old) in own:
            continue
        if not (is_hub_id(old, legacy=True) and is_hub_id(current, legacy=True)):
            continue
        seen.setdefault(hub_id_key(old), set()).add(hub_id_key(current))
        found.setdefault(old, (current, f"{parquet.name}: card of {child} names {old}, the Hub resolves {current}"))
    ambiguous = {old for old, targets in seen.items() if len(targets) > 1}
    return {old: v for old, v in found.items() if hub_id_key(old) not in ambiguous}, len(ambiguous)


def import_aliases(path: Path | str, *, progress_bar: bool = False, run=None) -> dict[str, int]:
    """The hub folder's recorded redirects (model_info/) and the newest hub-stats file's card
    base_model names the Hub resolves elsewhere → ModelAlias; then every edge is relinked."""
    hub_dir = Path(path)
    found: dict[str, tuple[str, str, str]] = {}
    ambiguous = 0
    parquets = sorted(hub_dir.glob("hub_stats_frozen_*.parquet"))
    if parquets:
        inferred, ambiguous = resolutions(parquets[-1])
        found.update({hub_id_key(old): (old, cur, why, ModelAlias.Source.RESOLUTION) for old, (cur, why) in inferred.items()})
    if (hub_dir / "model_info").is_dir():  # a redirect the Hub answered outranks an inference
        found.update({hub_id_key(old): (old, cur, why, ModelAlias.Source.REDIRECT)
                      for old, (cur, why) in redirects(hub_dir / "model_info").items()})
    counts = {"aliases": 0, "redirects": 0, "resolutions": 0, "kept_admin": 0, "ambiguous": ambiguous}
    with transaction.atomic():
        existing = {hub_id_key(a.old_hub_id): a for a in ModelAlias.objects.annotate(k=Lower("old_hub_id"))
                    .filter(k__in=list(found))}
        for k, (old, current, evidence, source) in sorted(found.items()):
            alias = existing.get(k)
            if alias is not None and alias.source == ModelAlias.Source.ADMIN:
                counts["kept_admin"] += 1
                continue
            if alias is None:
                ModelAlias.objects.create(old_hub_id=old, hub_id=current, source=source, evidence=evidence[:300])
            elif (alias.hub_id, alias.source) != (current, source):
                alias.hub_id, alias.source, alias.evidence = current, source, evidence[:300]
                alias.save(update_fields=["hub_id", "source", "evidence"])
            counts["aliases"] += 1
            counts["redirects" if source == ModelAlias.Source.REDIRECT else "resolutions"] += 1
        relinked = relink_edges(run=run)  # self-edges it rejects are recorded against this run
    counts.update({f"edges_{name}": value for name, value in relinked.items()})
    return counts
