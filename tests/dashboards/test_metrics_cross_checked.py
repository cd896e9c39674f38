"""Each metric against an independent, straightforward computation on the real shared data.

The metrics are polars pipelines over frames read from PostgreSQL; the checks here are plain
loops over the shared CSV files (or the ORM), written without polars. The download metrics
(cumulative by region, shares, RAM) are checked in test_canonical_downloads.py against a plain
reading of the series as what they measure.
"""

import collections
import csv
import datetime as dt

import pytest

from observatory.analytics import counts, derivatives, frames, gap, licences, releases, rollups
from observatory.analytics.filters import Filters, filter_models
from observatory.catalog.models import HubModel, LineageEdge, Organization
from observatory.dashboards.params import ChartParams
from observatory.dashboards.registry import METRICS

pytestmark = pytest.mark.django_db


def _month(day):
    return dt.date(day.year, day.month, 1)


def _edges_by_child():
    parents = collections.defaultdict(list)
    for child_id, parent_id, parent_hub_id, relation in LineageEdge.objects.values_list(
            "child_id", "parent_id", "parent_hub_id", "relation"):
        parents[child_id].append((parent_id, parent_hub_id, relation))
    return parents


def _plain_direct_derivatives():
    """{(month, base region, relation): derivatives} of every edge, by a plain loop."""
    regions = dict(Organization.objects.values_list("namespace", "region"))
    created = dict(HubModel.objects.values_list("id", "created_at"))
    expected = collections.Counter()
    for child_id, edges in _edges_by_child().items():
        for _, parent_hub_id, relation in edges:
            day = created[child_id].date()
            expected[(_month(day), regions.get(parent_hub_id.split("/")[0], "unknown"), relation)] += 1
    return dict(expected)


def test_it_counts_direct_derivatives_by_base_region_like_a_plain_loop(loaded_db):
    frame = derivatives.derivatives_by_base(frames.edges(), frames.models(), frames.organizations(), by="region")
    got = {(r["month"], r["base"], r["relation"]): r["new_derivatives"] for r in frame.to_dicts()}
    assert got == _plain_direct_derivatives()


def test_it_walks_the_whole_tree_below_each_base_like_a_recursive_walk(loaded_db):
    parents = _edges_by_child()
    expected = set()
    for child_id in parents:
        seen, stack = set(), [child_id]
        while stack:
            current = stack.pop()
            for parent_id, parent_hub_id, _ in parents.get(current, []):
                if parent_hub_id in seen:
                    continue
                seen.add(parent_hub_id)
                if parent_id is not None:
                    stack.append(parent_id)
        expected |= {(child_id, base) for base in seen}
    pairs = derivatives.ancestors(frames.edges(), scope="tree")
    got = set(zip(pairs["child_id"].to_list(), pairs["base_hub_id"].to_list()))
    assert got == expected
    assert len(got) > LineageEdge.objects.count()  # the tree really goes deeper than one level


def _plain_licence_mix():
    """({class: (models, downloads, derivatives)}, {(derivative, base)}) of the tracked models."""
    rank = {"permissive": 3, "copyleft": 2, "restricted": 1, "non-commercial": 0}
    in_scope = {m.id: m for m in HubModel.objects.filter(tracked=True)}
    everyone = {m.id: m for m in HubModel.objects.all()}
    models, downloads, derived = collections.Counter(), collections.Counter(), collections.Counter()
    for m in in_scope.values():
        models[m.licence_class] += 1
        downloads[m.licence_class] += m.downloads_all_time or 0
    conflicts = set()
    for edge in LineageEdge.objects.all():
        if edge.parent_id in in_scope:
            derived[in_scope[edge.parent_id].licence_class] += 1
        if edge.child_id in in_scope and edge.parent_id in everyone:
            child, parent = in_scope[edge.child_id], everyone[edge.parent_id]
            if (parent.licence_class != "permissive" and child.licence_class in rank and parent.licence_class in rank
                    and rank[child.licence_class] > rank[parent.licence_class]):
                conflicts.add((child.hub_id, parent.hub_id))
    classes = set(models) | set(derived)
    return {c: (models[c], downloads[c], derived[c]) for c in classes}, conflicts


def test_it_computes_the_licence_mix_and_conflicts_like_a_plain_loop(loaded_db):
    expected, conflicts = _plain_licence_mix()
    all_models = frames.models()
    scoped = filter_models(all_models, Filters())
    mix = {r["licence_class"]: r for r in licences.licence_mix(scoped, frames.edges()).to_dicts()}
    for cls in mix:
        assert (mix[cls]["models"], mix[cls]["downloads_all_time"], mix[cls]["derivatives"]) == (
            expected.get(cls, (0, 0, 0))), cls
    got = licences.licence_conflicts(scoped, frames.edges(), all_models)
    assert set(zip(got["derivative"].to_list(), got["base"].to_list())) == conflicts
    assert conflicts  # the real data has some


def _quarter(day):
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _plain_releases():
    expected = collections.Counter()
    for m in HubModel.objects.filter(tracked=True, release_date__isnull=False).select_related("organization"):
        expected[(_quarter(m.release_date), m.organization.region if m.organization else "unknown")] += 1
    return dict(expected)


def test_it_counts_releases_per_quarter_like_a_plain_loop(loaded_db):
    frame = releases.releases_by_region(filter_models(frames.models(), Filters()))
    assert {(r["quarter"], r["region"]): r["releases"] for r in frame.to_dicts()} == _plain_releases()


def test_it_serves_the_licence_mix_releases_and_derivatives_from_the_counts_as_plain_loops_count_them(loaded_db):
    # What the chart endpoints serve once the count aggregates are fresh (analytics.counts), not
    # the raw-row functions above: the plain loops hold the aggregates' numbers directly.
    rollups.refresh()
    assert counts.readable(Filters())
    mix = METRICS["licence-mix"].compute(ChartParams(filters=Filters()))
    expected, conflicts = _plain_licence_mix()
    served = {r["licence_class"]: (r["models"], r["downloads_all_time"], r["derivatives"]) for r in mix.rows.to_dicts()}
    assert {c: v for c, v in served.items() if v != (0, 0, 0)} == {c: v for c, v in expected.items() if v != (0, 0, 0)}
    assert set(zip(mix.extra["conflicts"]["derivative"].to_list(), mix.extra["conflicts"]["base"].to_list())) == conflicts
    released = METRICS["releases-by-region"].compute(ChartParams(filters=Filters())).rows  # beside Epoch's panel
    assert {(r["quarter"], r["region"]): r["releases"] for r in released.to_dicts()
            if r["source"] == "observatory"} == _plain_releases()
    derived = METRICS["derivatives-by-base"].compute(ChartParams(filters=Filters(scope="all"), by="region")).rows
    got = {(r["month"], r["base"], r["relation"]): r["new_derivatives"] for r in derived.to_dicts()}
    assert got == _plain_direct_derivatives()
    assert sum(got.values()) == LineageEdge.objects.count() > 1000


def test_it_counts_epochs_notable_models_per_quarter_and_region_like_a_plain_loop(loaded_db):
    eu = set("Austria Belgium Bulgaria Croatia Cyprus Czechia Denmark Estonia Finland France Germany Greece Hungary "
             "Ireland Italy Latvia Lithuania Luxembourg Malta Netherlands Poland Portugal Romania Slovakia Slovenia "
             "Spain Sweden".split()) | {"Czech Republic"}
    path = next((loaded_db / "leaderboards" / "epoch").glob("notable-ai-models_*.csv"))
    expected, seen = collections.Counter(), set()
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["Publication date"] or row["Model"].strip() in seen:
                continue
            seen.add(row["Model"].strip())
            country = row["Country (of organization)"].split(",")[0].strip()
            region = ("unknown" if not country else "us" if country == "United States of America" else
                      "china" if country in ("China", "Hong Kong") else "eu" if country in eu else "other")
            expected[(_quarter(dt.date.fromisoformat(row["Publication date"][:10])), region)] += 1
    frame = releases.notable_releases_by_region(frames.leaderboard("epoch-notable", ["notable"]))
    assert {(r["quarter"], r["region"]): r["releases"] for r in frame.to_dicts()} == dict(expected)


def test_it_finds_lmarena_horizontal_gaps_like_a_plain_loop(loaded_db):
    first, latest = {}, {}
    path = loaded_db / "leaderboards" / "lmarena" / "arena_text_history.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["license"].strip() or not row["arena_score"].strip():
                continue
            name, day, score = row["model"].strip(), dt.date.fromisoformat(row["snapshot_date"]), float(row["arena_score"])
            is_open = row["license"].strip().lower() != "proprietary"
            first[name] = min(first.get(name, day), day)
            if name not in latest or day > latest[name][0] or (day == latest[name][0] and score > latest[name][1]):
                latest[name] = (day, score, is_open)
    models = sorted(((first[n], n, latest[n][1], latest[n][2]) for n in first), key=lambda x: (x[0], -x[2]))
    as_of = max(d for d, *_ in latest.values())
    expected, record = [], None
    for day, name, score, is_open in models:
        if is_open or (record is not None and score <= record):
            continue
        record = score
        match = next(((d, n) for d, n, s, o in models if o and d >= day and s >= score), None)
        expected.append((name, match[1] if match else None, round(((match[0] if match else as_of) - day).days / 30.44, 2)))
    got = gap.horizontal_gaps(gap.snapshot_models(frames.leaderboard("lmarena", ["arena-text"])), as_of=as_of)
    assert list(zip(got["closed_model"], got["open_model"], got["gap_months"])) == expected
    assert any(m for _, m, _ in expected) and any(m is None for _, m, _ in expected)


@pytest.mark.parametrize("loader", ["models", "snapshots", "edges", "organizations"])
def test_it_reads_the_same_frames_through_arrow_as_through_copy(loaded_db, loader, monkeypatch):
    # Outside a transaction the loaders read through ADBC (Arrow); inside one through COPY on
    # Django's connection. The session's bootstrap is committed, so both see the same rows.
    via_copy = getattr(frames, loader)()
    monkeypatch.setattr(frames, "_arrow_allowed", lambda: True)
    via_arrow = getattr(frames, loader)()
    key = via_copy.columns[:2]
    assert via_arrow.schema == via_copy.schema
    assert via_arrow.sort(key).equals(via_copy.sort(key))
