"""A batch of records prepared column by column: what `prepare` does one record at a time, at batch speed.

Each field is pulled out of the batch once as a column; validation is a mask over the column, the
curation decision a polars expression over the batch, licences are normalised once per distinct
value. The mask is deliberately stricter than `prepare`: a record it cannot vouch for (any invalid
record, but also one of an unusual shape: a float count, a non-string pipeline tag, a date-time
string in another ISO spelling) is left out, and batches.prepare_batch sends it through `prepare`,
which raises the same InvalidRecord (field, index) it always did or prepares it as before. So the
column path needs to be right only for the records it accepts, and for those it must give exactly
what `prepare` gives (tests/crawler/test_hub_records_columnar.py holds the two side by side).
"""

from __future__ import annotations

import datetime as dt
import re
from itertools import chain

import orjson
import polars as pl

from ingest import licences
from ingest.curation import CHATGPT_RELEASE, Curation, Policy, release_date_for, resolve_params
from ingest.hub_records.prepare import _CARD_KEYS, Prepared, _gated, to_json
from ingest.lineage import HUB_ID, parse_parents
from observatory.vocab import size_class

_NONE = type(None)
_COUNT_TYPES = {int, _NONE}
# Date-time strings in the Hub's own spelling; any other one (which fromisoformat may still read) is prepare's.
_HUB_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z")
_SHA = r"^[0-9a-f]{40}$"  # stricter than prepare's (a trailing newline passes Python's `$`): the rest go to prepare
_RUST_UNSAFE = ("[[", "&&", "--", "~~")  # class syntax the two regex engines read differently


def prepare_columns(records: list, curation: Curation) -> dict[int, Prepared]:
    """{index: Prepared} for the records of the batch the column path vouches for; every other
    index (invalid, or of an unusual shape) is for `prepare`."""
    n = len(records)
    if not n:
        return {}
    rows = [r if type(r) is dict else {} for r in records]
    ok = [type(r) is dict for r in records]
    ids = [r.get("id") or r.get("modelId") for r in rows]
    ok = [good and type(i) is str and HUB_ID.match(i) is not None and ".." not in i for good, i in zip(ok, ids)]
    ids = [i if good else "x/x" for i, good in zip(ids, ok)]

    tags = [r.get("tags") or [] for r in rows]
    ok = _and(ok, _lists_of_strings(tags))
    tags = [t if good else [] for t, good in zip(tags, ok)]
    cards, card_ok = _cards([r.get("cardData") for r in rows])
    ok = _and(ok, card_ok)
    created, created_ok = _times([r.get("createdAt") for r in rows])
    modified, modified_ok = _times([r.get("lastModified") for r in rows])
    ok = _and(ok, created_ok, modified_ok)
    safetensors = [r.get("safetensors") or {} for r in rows]
    ok = _and(ok, [type(s) is dict for s in safetensors])
    totals = [s.get("total") if type(s) is dict else None for s in safetensors]
    downloads = [r.get("downloads") for r in rows]
    all_time = [r.get("downloadsAllTime") for r in rows]
    likes = [r.get("likes") for r in rows]
    ok = _and(ok, _counts(totals), _counts(downloads), _counts(all_time), _counts(likes))
    shas = [r.get("sha") for r in rows]
    shas = [None if v is None or (type(v) is str and v == "") else v for v in shas]
    ok = _and(ok, _matches_or_none(shas, _SHA))
    pipelines = [r.get("pipeline_tag") or "" for r in rows]
    libraries = [r.get("library_name") or "" for r in rows]
    ok = _and(ok, [type(p) is str and type(lib) is str for p, lib in zip(pipelines, libraries)])

    keep = [i for i in range(n) if ok[i]]
    if not keep:
        return {}
    namespaces = [hub_id.split("/", 1)[0] if "/" in hub_id else "" for hub_id in ids]
    lic = _licences([cards[i] for i in keep], [tags[i] for i in keep])
    curated = _curated([ids[i] for i in keep], [totals[i] for i in keep], [created[i] for i in keep],
                       [pipelines[i] for i in keep], [libraries[i] for i in keep], [tags[i] for i in keep],
                       [all_time[i] for i in keep], curation)

    out: dict[int, Prepared] = {}
    written: list[str] = []  # every text the kept records write, to look for NUL once for the batch
    for k, i in enumerate(keep):
        record, hub_id, card, namespace = records[i], ids[i], cards[i], namespaces[i]
        raw_licence, licence_raw, licence_id, licence_class = lic[k]
        normalised = {**record, "id": hub_id, "tags": tags[i], "cardData": card, "createdAt": created[i],
                      "safetensors": {"total": totals[i]}, "downloadsAllTime": all_time[i]}
        fields = {
            "author": str(record.get("author") or namespace)[:96],
            "created_at": created[i],
            "last_modified": modified[i],
            "sha": shas[i],
            "pipeline_tag": pipelines[i][:64],
            "library_name": libraries[i][:64],
            "licence_raw": licence_raw,
            "licence_id": licence_id,
            "licence_class": licence_class,
            "gated": _gated(record.get("gated")),
            "tags": tags[i],
            "card_data": {key: card[key] for key in _CARD_KEYS if key in card},
            "downloads": downloads[i],
            "downloads_all_time": all_time[i],
            "likes": likes[i],
            **curated[k],
        }
        texts = {"tags": to_json(fields["tags"]), "card_data": to_json(fields["card_data"])}
        # A record that may state a parent goes through the lineage parser; the rest (most) state none.
        stated = (record.get("baseModels") or "base_model" in card
                  or "\x1fbase_model:" in "\x1f" + "\x1f".join(tags[i]))
        parents = parse_parents(normalised) if stated else []
        lineage_known = "baseModels" in record or "cardData" in record or "tags" in record
        out[i] = Prepared(normalised, hub_id, namespace, fields, parents, lineage_known, texts)
        written += (fields["author"], fields["gated"], texts["tags"], texts["card_data"])
    written += (text for i in keep for text in (pipelines[i], libraries[i], shas[i] or ""))
    written += (text for done in lic for text in done[1:3])
    written += (c["tracked_reason"] for c in curated)
    joined = "\x1f".join(written)
    if "\x00" in joined or "\\u0000" in joined:  # rare: find the records, which prepare then names
        _drop_nul(out)
    return out


def _and(first: list[bool], *others: list[bool]) -> list[bool]:
    for other in others:
        first = [a and b for a, b in zip(first, other)]
    return first


def _lists_of_strings(values: list) -> list[bool]:
    """Each value a list of strings: one pass over every tag of the batch, row by row only when one is not."""
    if all(type(v) is list for v in values) and set(map(type, chain.from_iterable(values))) <= {str}:
        return [True] * len(values)
    return [type(v) is list and all(type(t) is str for t in v) for v in values]


def _counts(values: list) -> list[bool]:
    """None or a non-negative int (a float, a bool, NaN: prepare's to judge)."""
    if set(map(type, values)) <= _COUNT_TYPES:
        try:
            series = pl.Series(values, dtype=pl.Int64)
        except (OverflowError, TypeError, ValueError, pl.exceptions.PolarsError):
            pass
        else:
            return (series.is_null() | (series >= 0)).to_list()
    return [v is None or (type(v) is int and v >= 0) for v in values]


def _matches_or_none(values: list, pattern: str) -> list[bool]:
    strings = pl.Series([v if type(v) is str else None for v in values], dtype=pl.String)
    matched = strings.str.contains(pattern).fill_null(False).to_list()
    return [v is None or m for v, m in zip(values, matched)]


def _cards(values: list) -> tuple[list[dict], list[bool]]:
    """The card of each record as a dict (JSON text parsed), and whether it was one prepare would accept."""
    cards: list[dict] = []
    ok: list[bool] = []
    loads = orjson.loads
    for value in values:
        if value is None or value == "":
            cards.append({})
            ok.append(True)
            continue
        if type(value) is str:
            try:
                value = loads(value)
            except orjson.JSONDecodeError:  # NaN in a card, or not JSON at all: prepare's to judge
                value = None
        good = type(value) is dict
        cards.append(value if good else {})
        ok.append(good)
    return cards, ok


def _times(values: list) -> tuple[list[dt.datetime | None], list[bool]]:
    """Aware datetimes (a naive one read as UTC, as prepare does), and whether each was of a known spelling."""
    out: list[dt.datetime | None] = []
    ok: list[bool] = []
    utc = dt.UTC
    for value in values:
        if value is None or value == "":
            out.append(None)
            ok.append(True)
        elif type(value) is dt.datetime:
            out.append(value if value.utcoffset() is not None else value.replace(tzinfo=utc))
            ok.append(True)
        elif type(value) is str and _HUB_TIME.fullmatch(value):
            out.append(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
            ok.append(True)
        else:
            out.append(None)
            ok.append(False)
    return out, ok


def _licences(cards: list[dict], tags: list[list[str]]) -> list[tuple]:
    """(raw licence, licence_raw, licence_id, licence_class) per record, normalised once per distinct value."""
    seen: dict[tuple, tuple] = {}
    out = []
    for card, record_tags in zip(cards, tags):
        raw = card.get("license")
        if raw is None:
            tag_licences = [t.split(":", 1)[1] for t in record_tags if t.startswith("license:")]
            raw = tag_licences[0] if len(tag_licences) == 1 else (tag_licences or None)
        name, link = card.get("license_name"), card.get("license_link")
        try:
            key = (_frozen(raw), _frozen(name), _frozen(link))
            done = seen.get(key)
        except TypeError:  # a dict or another unhashable value: normalised on its own
            key, done = None, None
        if done is None:
            licence_id, licence_class = licences.normalise_licence(raw, license_name=name, license_link=link)
            done = (raw, licences.licence_raw_text(raw, name), licence_id, licence_class)
            if key is not None:
                seen[key] = done
        out.append(done)
    return out


def _frozen(value: object) -> object:
    # The type is part of the key: 1, 1.0 and True are equal as keys but not as licences.
    if type(value) is list:
        return (list, tuple(_frozen(v) for v in value))
    hash(value)
    return (type(value), value)


def _curated(ids: list[str], totals: list, created: list, pipelines: list[str], libraries: list[str],
             tags: list[list[str]], all_time: list, curation: Curation) -> list[dict]:
    """curation.curated_fields for each record; the tracking decision as one polars expression over the batch."""
    params = [resolve_params(hub_id, total, curation.params) for hub_id, total in zip(ids, totals)]
    releases = [release_date_for(hub_id, created_at, curation.corrections) for hub_id, created_at in zip(ids, created)]
    listed = [curation.listed.get(hub_id) for hub_id in ids]
    if curation.policy is None:
        decided = [(True, f"atom-list:{name}") if name else (False, "no policy imported yet") for name in listed]
    else:
        decided = _decide(curation.policy, ids, pipelines, libraries, tags, all_time, listed,
                          [release for release, _ in releases], curation.known_orgs)
    return [
        {"total_params": total, "active_params": active, "is_moe": is_moe, "params_source": source,
         "size_class": size_class(total / 1e9 if total else None), "release_date": release,
         "release_date_source": release_source, "tracked": tracked, "tracked_reason": reason[:200]}
        for (total, active, is_moe, source), (release, release_source), (tracked, reason)
        in zip(params, releases, decided)
    ]


def _decide(policy: Policy, ids, pipelines, libraries, tags, all_time, listed, releases, known_orgs
            ) -> list[tuple[bool, str]]:
    """Policy.decide for a batch: each rule a column, the first rule that applies gives the reason."""
    parts = [hub_id.partition("/") for hub_id in ids]
    frame = pl.DataFrame({
        "namespace": [p[0] for p in parts],
        "name": [p[2] for p in parts],
        "pipeline": pipelines,
        "formats": [" ".join([library, *record_tags]) for library, record_tags in zip(libraries, tags)],
        "listed": ["atom-list" if name is True else f"atom-list:{name}" if name else None for name in listed],
        "downloads": pl.Series(all_time, dtype=pl.Int64),
        "org_known": [p[0] in known_orgs for p in parts],
        "release": pl.Series(releases, dtype=pl.Date),
    }, schema_overrides={"listed": pl.String})
    names, formats, namespaces = frame["name"], frame["formats"], frame["namespace"]
    org_reject = [None] * len(ids)
    outside_family = [False] * len(ids)
    namespace_list = namespaces.to_list()
    for namespace in set(namespace_list) & policy.org_rules.keys():
        rules = policy.org_rules[namespace]
        if not rules:
            continue
        rows = [i for i, ns in enumerate(namespace_list) if ns == namespace]
        ruled = names.gather(rows)
        reasons = [None] * len(rows)
        for pattern in rules.get("reject", []):
            for j, hit in enumerate(_search(ruled, pattern)):
                if hit and reasons[j] is None:
                    reasons[j] = f"rejected: {namespace} name pattern {pattern.pattern}"
        family = rules.get("family") or []
        in_family = [False] * len(rows)
        for pattern in family:
            in_family = [a or b for a, b in zip(in_family, _search(ruled, pattern))]
        for j, i in enumerate(rows):
            org_reject[i] = reasons[j]
            outside_family[i] = bool(family) and not in_family[j]
    frame = frame.with_columns(org_reject=pl.Series(org_reject, dtype=pl.String),
                               outside_family=pl.Series(outside_family, dtype=pl.Boolean))

    pipeline = pl.col("pipeline")
    rules: list[tuple[pl.Expr, pl.Expr]] = [
        (pl.col("listed").is_not_null(), pl.col("listed")),
        (pipeline.is_in(_strings(policy.reject_pipeline_tags)), pl.concat_str(pl.lit("rejected: pipeline tag "), pipeline)),
    ]
    rules += [(pl.Series(_search(names, p)), pl.lit(f"rejected: name pattern {p.pattern}"))
              for p in policy.reject_name_patterns]
    rules += [(pl.Series(_search(formats, p)), pl.lit(f"rejected: format pattern {p.pattern}"))
              for p in policy.reject_format_patterns]
    rules += [
        (pl.col("org_reject").is_not_null(), pl.col("org_reject")),
        (~pipeline.is_in(_strings(policy.allowed_pipeline_tags | policy.conditional_pipeline_tags)),
         pl.concat_str(pl.lit("not tracked: pipeline tag "),
                       pl.when(pipeline == "").then(pl.lit("missing")).otherwise(pipeline), pl.lit(" not allowed"))),
        (~pl.col("org_known"), pl.lit("not tracked: organisation not in the region table")),
        (pl.col("outside_family"), pl.concat_str(pl.lit("not tracked: outside "), pl.col("namespace"),
                                                 pl.lit("'s primary families"))),
        (pl.col("release").is_not_null() & (pl.col("release") <= CHATGPT_RELEASE),
         pl.lit("not tracked: released before ChatGPT (2022-11-30)")),
        (pl.col("downloads").fill_null(0) < policy.min_downloads,
         pl.lit(f"not tracked: fewer than {policy.min_downloads:,} all-time downloads")),
    ]
    reason = pl.lit("policy: meets ATOM's policy")
    for condition, text in reversed(rules):
        reason = pl.when(condition).then(text).otherwise(reason)
    reasons = frame.select(reason.alias("reason"))["reason"].to_list()
    tracked = [r == "atom-list" or r.startswith("atom-list:") or r == "policy: meets ATOM's policy" for r in reasons]
    return list(zip(tracked, reasons))


def _strings(values: set[str]) -> pl.Series:
    return pl.Series(sorted(values), dtype=pl.String).implode()


def _search(values: pl.Series, pattern: re.Pattern) -> list[bool]:
    """pattern.search over a string column: polars' regex engine where it reads the pattern as Python's
    `re` does, else `re` itself once per distinct value."""
    source = pattern.pattern
    if not any(token in source for token in _RUST_UNSAFE):
        try:
            return values.str.contains(source).fill_null(False).to_list()
        except pl.exceptions.PolarsError:  # lookaround, backreferences, \Z …: Python's own engine
            pass
    seen: dict[str, bool] = {}
    return [seen[v] if v in seen else seen.setdefault(v, pattern.search(v) is not None) for v in values.to_list()]


def _drop_nul(out: dict[int, Prepared]) -> None:
    """Records with a NUL anywhere in what is written are left to prepare, which names the field."""
    if not out:
        return
    items = list(out.items())
    texts = "\x1f".join(chain.from_iterable(
        [v for v in p.fields.values() if type(v) is str] + list(p.json.values()) for _, p in items))
    if "\x00" not in texts and "\\u0000" not in texts:
        return
    for index, p in items:
        if any("\x00" in v for v in p.fields.values() if type(v) is str) or any(
                "\\u0000" in text for text in p.json.values()):
            del out[index]
