"""Each metric against an independent, straightforward computation on the real shared data.

The metrics are polars pipelines over frames read from PostgreSQL; the checks here are plain
loops over the shared CSV files (or the ORM), written without polars.
"""

import collections
import csv
import datetime as dt
import statistics

import polars as pl
import pytest

from observatory.analytics import adoption, derivatives, frames, gap, licences, releases, shares
from observatory.analytics.filters import Filters, filter_models
from observatory.catalog.models import HubModel, LineageEdge, Organization

pytestmark = pytest.mark.django_db


def _daily_series(shared_data):
    """hub_id → {date: all-time count} from the wide CSVs, every non-empty cell."""
    series = {}
    for path in sorted((shared_data / "downloads" / "download").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                for column, value in row.items():
                    if column not in ("model", "created_at") and value and value.strip():
                        series.setdefault(row["model"], {})[dt.date.fromisoformat(column[:10])] = int(float(value))
    return series


def _month(day):
    return dt.date(day.year, day.month, 1)


def test_it_computes_monthly_download_shares_like_a_plain_loop(loaded_db):
    series = _daily_series(loaded_db)
    first = min(d for values in series.values() for d in values)
    gained = collections.Counter()
    for hub_id, values in series.items():
        previous = values.get(first, 0)
        for day in sorted(values):
            gained[(_month(day), hub_id.split("/")[0])] += values[day] - previous
            previous = values[day]
    per_org = collections.Counter()
    for (_, org), n in gained.items():
        per_org[org] += n
    top = {org for org, _ in sorted(per_org.items(), key=lambda kv: (-kv[1], kv[0]))[:5]}
    expected = collections.Counter()
    for (month, org), n in gained.items():
        expected[(month, org if org in top else "other")] += n
    totals = collections.Counter()
    for (month, _), n in expected.items():
        totals[month] += n

    frame = shares.download_share_by_org(frames.snapshots(), filter_models(frames.models(), Filters(scope="all")),
                                         top_n=5)
    got = {(r["month"], r["organization"]): (r["downloads"], r["share"]) for r in frame.to_dicts()}
    assert set(got) == {k for k in expected}
    for key, n in expected.items():
        assert got[key][0] == n, key
        assert got[key][1] == pytest.approx(n / totals[key[0]] if totals[key[0]] else 0.0), key


def test_it_computes_cumulative_downloads_over_a_chosen_range_like_a_plain_loop(loaded_db, client):
    start, end = dt.date(2024, 10, 1), dt.date(2024, 12, 31)
    tracked = set(HubModel.objects.filter(tracked=True).values_list("hub_id", flat=True))
    regions = dict(Organization.objects.values_list("namespace", "region"))
    expected = collections.Counter()
    series = _daily_series(loaded_db)
    dates = sorted({d for values in series.values() for d in values if start <= d <= end})
    for hub_id, values in series.items():
        if hub_id not in tracked:
            continue
        before = [d for d in values if d <= start]
        baseline = values[max(before)] if before else 0
        last = None
        for day in dates:
            if day in values:
                last = values[day]
            if last is not None:
                expected[(day.isoformat(), regions.get(hub_id.split("/")[0], "unknown"))] += last - baseline
    body = client.get("/api/metrics/cumulative-downloads-by-region?start=2024-10-01&end=2024-12-31").json()
    assert set(body["rows"][0]) == {"date", "region", "cumulative_downloads"}
    got = {(r["date"], r["region"]): r["cumulative_downloads"] for r in body["rows"]}
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in expected.items() if v}
    assert min(r["date"] for r in body["rows"]) == "2024-10-01" and body["as_of"] <= "2024-12-31"


def _edges_by_child():
    parents = collections.defaultdict(list)
    for child_id, parent_id, parent_hub_id, relation in LineageEdge.objects.values_list(
            "child_id", "parent_id", "parent_hub_id", "relation"):
        parents[child_id].append((parent_id, parent_hub_id, relation))
    return parents


def test_it_counts_direct_derivatives_by_base_region_like_a_plain_loop(loaded_db):
    regions = dict(Organization.objects.values_list("namespace", "region"))
    created = dict(HubModel.objects.values_list("id", "created_at"))
    expected = collections.Counter()
    for child_id, edges in _edges_by_child().items():
        for _, parent_hub_id, relation in edges:
            day = created[child_id].date()
            expected[(_month(day), regions.get(parent_hub_id.split("/")[0], "unknown"), relation)] += 1
    frame = derivatives.derivatives_by_base(frames.edges(), frames.models(), frames.organizations(), by="region")
    got = {(r["month"], r["base"], r["relation"]): r["new_derivatives"] for r in frame.to_dicts()}
    assert got == dict(expected)


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


def test_it_computes_the_licence_mix_and_conflicts_like_a_plain_loop(loaded_db):
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
    all_models = frames.models()
    scoped = filter_models(all_models, Filters())
    mix = {r["licence_class"]: r for r in licences.licence_mix(scoped, frames.edges()).to_dicts()}
    for cls in mix:
        assert (mix[cls]["models"], mix[cls]["downloads_all_time"], mix[cls]["derivatives"]) == (
            models[cls], downloads[cls], derived[cls]), cls
    got = licences.licence_conflicts(scoped, frames.edges(), all_models)
    assert set(zip(got["derivative"].to_list(), got["base"].to_list())) == conflicts
    assert conflicts  # the real data has some


def _quarter(day):
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def test_it_counts_releases_per_quarter_like_a_plain_loop(loaded_db):
    expected = collections.Counter()
    for m in HubModel.objects.filter(tracked=True, release_date__isnull=False).select_related("organization"):
        expected[(_quarter(m.release_date), m.organization.region if m.organization else "unknown")] += 1
    frame = releases.releases_by_region(filter_models(frames.models(), Filters()))
    assert {(r["quarter"], r["region"]): r["releases"] for r in frame.to_dicts()} == dict(expected)


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


def test_it_computes_relative_adoption_v1_and_v2_like_a_plain_loop(loaded_db):
    series = _daily_series(loaded_db)
    in_class = {m.hub_id: m for m in HubModel.objects.filter(tracked=True, size_class="7-9B")}
    curves = {}
    for hub_id, m in in_class.items():
        if hub_id in series and m.release_date:
            curves[hub_id] = {(d - m.release_date).days: v for d, v in series[hub_id].items() if d >= m.release_date}
    by_t = collections.defaultdict(list)
    for values in curves.values():
        for t, v in values.items():
            by_t[t].append(v)
    top10 = sorted((m.downloads_all_time for m in in_class.values() if m.downloads_all_time is not None),
                   reverse=True)[:10]
    median = statistics.median(top10)

    table = adoption.relative_adoption(frames.snapshots(), filter_models(frames.models(), Filters(size_class="7-9B")))
    rows = {r["hub_id"]: r for r in table.to_dicts()}
    checked = 0
    for hub_id, m in in_class.items():
        assert rows[hub_id]["ram_v1"] == pytest.approx(m.downloads_all_time / median), hub_id
        values = curves.get(hub_id)
        if not values:
            assert rows[hub_id]["ram_v2"] is None
            continue
        t = max(values)
        reference = sorted(by_t[t], reverse=True)[:10][-1]
        assert rows[hub_id]["days_since_release"] == t
        assert rows[hub_id]["ram_v2"] == pytest.approx(values[t] / reference), hub_id
        checked += 1
    assert checked >= 20


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
