"""Download concentration (download-concentration/v1): HHI and top-N shares of the month's downloads.

Expected values come from hand-written tables and from plain loops over the raw daily series
(tests/canonical_reference.py) and the raw lineage rows (the ORM's values_list), never from polars.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import io

import polars as pl
import pytest

from observatory.analytics import concentration
from observatory.catalog.models import HubModel, LineageEdge, Organization
from tests import canonical_reference as ref

pytestmark = pytest.mark.django_db
URL = "/api/metrics/download-concentration"


def test_two_organisations_splitting_75_25_give_an_hhi_of_6250():
    gains = pl.DataFrame({
        "date": [dt.date(2024, 3, 1), dt.date(2024, 3, 20), dt.date(2024, 3, 31), dt.date(2024, 4, 2),
                 dt.date(2024, 5, 9)],
        "group": ["acme", "acme", "zeta", "acme", "zeta"],
        "increment": [50.0, 25.0, 25.0, 10.0, 0.0],
    })
    rows = concentration.concentration(gains)
    # March 75/25: 75² + 25² = 6250. April one group: 10,000. May gained nothing: no row.
    assert rows.rows() == [(dt.date(2024, 3, 1), pytest.approx(6250.0), 0.75, 1.0, 1.0, 2),
                           (dt.date(2024, 4, 1), pytest.approx(10_000.0), 1.0, 1.0, 1.0, 1)]
    # Ten equal groups: HHI 1,000, the top 5 hold half.
    ten = pl.DataFrame({"date": [dt.date(2024, 1, 5)] * 10, "group": [f"g{i}" for i in range(10)],
                        "increment": [3.0] * 10})
    month, hhi, top1, top5, top10, n = concentration.concentration(ten).row(0)
    assert (hhi, top1, top5, top10, n) == (pytest.approx(1000.0), pytest.approx(0.1), pytest.approx(0.5),
                                           pytest.approx(1.0), 10)
    assert concentration.concentration(ten, start=dt.date(2024, 2, 1)).is_empty()


def test_a_family_is_the_root_base_along_lineage():
    models = pl.DataFrame({"model_id": [1, 2, 3, 4, 5, 6], "hub_id": ["org/Base", "a/ft", "b/ft-of-ft", "c/merge",
                                                                       "d/quant-of-gone", "e/Other"]})
    edges = pl.DataFrame({
        "child_id": [2, 3, 4, 4, 5], "parent_id": [1, 2, 6, 3, None],
        "parent_hub_id": ["org/base", "a/ft", "e/Other", "b/ft-of-ft", "gone/Model"],
        "relation": ["finetune", "finetune", "merge", "merge", "quantized"],
    }, schema={"child_id": pl.Int64, "parent_id": pl.Int64, "parent_hub_id": pl.Utf8, "relation": pl.Utf8})
    roots = dict(concentration.family_roots(edges, models).iter_rows())
    # A stored parent is named by its row (org/Base, not the edge's casing); a merge follows the
    # parent sorting first (b/ft-of-ft before e/Other); an unstored parent ends the walk.
    assert roots == {1: "org/Base", 2: "org/Base", 3: "org/Base", 4: "org/Base", 5: "gone/Model", 6: "e/Other"}
    cycle = pl.DataFrame({"child_id": [1, 2], "parent_id": [2, 1], "parent_hub_id": ["a/ft", "org/Base"],
                          "relation": ["finetune"] * 2})
    assert set(dict(concentration.family_roots(cycle, models).iter_rows())) == {1, 2, 3, 4, 5, 6}  # it ends


def _plain_concentration(gained: dict) -> dict:
    """{month: (hhi, top1, top5, top10, groups)} from {(month, group): downloads} with plain loops."""
    by_month = collections.defaultdict(list)
    for (month, _group), n in gained.items():
        if n > 0:
            by_month[month].append(n)
    out = {}
    for month, values in by_month.items():
        total = sum(values)
        shares = sorted((v / total for v in values), reverse=True)
        out[month] = (sum((100 * s) ** 2 for s in shares), shares[0], sum(shares[:5]), sum(shares[:10]), len(shares))
    return out


def _gained(loaded_db, group_of, days=lambda day: True) -> dict:
    raw = ref.raw_series(loaded_db)
    created = ref.created_dates(loaded_db)
    releases = dict(HubModel.objects.values_list("hub_id", "release_date"))
    gained: dict = collections.Counter()
    for hub_id, cells in raw.items():
        for day, (downloads, _) in ref.canonical(cells, releases.get(hub_id) or created.get(hub_id))["points"].items():
            if days(day):
                gained[(dt.date(day.year, day.month, 1).isoformat(), group_of(hub_id))] += downloads
    return gained


def _assert_matches(rows, expected, months=6):
    got = {r["month"]: (r["hhi"], r["top1_share"], r["top5_share"], r["top10_share"], r["organizations"])
           for r in rows}
    assert set(got) == set(expected) and len(got) >= months
    for month, (hhi, top1, top5, top10, n) in expected.items():
        assert got[month][:4] == pytest.approx((hhi, top1, top5, top10), rel=1e-6, abs=1e-6), month
        assert got[month][4] == n, month


def test_it_measures_concentration_by_organisation_as_a_plain_loop_over_the_raw_series_does(loaded_db, client):
    body = client.get(f"{URL}?scope=all&by=organization").json()
    assert body["methodology"]["metric"] == "download-concentration/v1"
    assert set(body["rows"][0]) == {"month", "hhi", "top1_share", "top5_share", "top10_share", "organizations"}
    _assert_matches(body["rows"], _plain_concentration(_gained(loaded_db, lambda hub_id: hub_id.split("/")[0])))
    # The default `by` is the organisation too.
    assert client.get(f"{URL}?scope=all").json()["rows"] == body["rows"]


def test_it_measures_concentration_by_family_from_the_raw_lineage_rows(loaded_db, client):
    names = dict(HubModel.objects.values_list("id", "hub_id"))
    ids = {hub_id: pk for pk, hub_id in names.items()}
    parents = collections.defaultdict(list)
    for child, parent, parent_hub_id in LineageEdge.objects.values_list("child_id", "parent_id", "parent_hub_id"):
        parents[child].append((parent_hub_id.lower(), parent_hub_id, parent))

    def root(hub_id):
        node, name = ids.get(hub_id), hub_id
        for _ in range(32):
            if node is None or not parents[node]:
                return name
            _, edge_name, parent = min(parents[node])
            node, name = parent, names[parent] if parent is not None else edge_name
        return name

    series = ref.raw_series(loaded_db)
    derivatives = {h for h in series if root(h) != h}
    assert len(derivatives) >= 1  # some series are of derivatives: a family is not just the model
    gained = _gained(loaded_db, root)
    body = client.get(f"{URL}?scope=all&by=family").json()
    _assert_matches(body["rows"], _plain_concentration(gained))
    assert client.get(f"{URL}?scope=all&by=base").json()["rows"] == body["rows"]


def test_it_takes_the_same_filters_and_exports_csv_page_and_embed(loaded_db, client):
    regions = dict(Organization.objects.values_list("namespace", "region"))
    start, end = "2024-06-10", "2024-11-20"
    china = {k: v for k, v in _gained(loaded_db, lambda h: h.split("/")[0],
                                      days=lambda day: start <= day.isoformat() <= end).items()
             if regions.get(k[1], "unknown") == "china"}
    body = client.get(f"{URL}?scope=all&region=china&start={start}&end={end}").json()
    # The months cut by the range hold only their days within it.
    _assert_matches(body["rows"], _plain_concentration(china), months=4)
    assert {r["month"] for r in body["rows"]} <= {f"2024-{m:02d}-01" for m in range(6, 12)}
    text = client.get(f"{URL}?scope=all&region=china&start={start}&end={end}&format=csv").content.decode()
    assert "# methodology: metric=download-concentration/v1" in text
    lines = [line for line in text.splitlines(keepends=True) if not line.startswith("#")]
    exported = list(csv.DictReader(io.StringIO("".join(lines))))
    assert [float(r["hhi"]) for r in exported] == pytest.approx([r["hhi"] for r in body["rows"]])
    page = client.get("/dashboards/download-concentration?scope=all&by=family").content.decode()
    assert 'id="chart"' in page and "Download concentration" in page and '<option value="family" selected' in page
    assert client.get("/embed/download-concentration?by=family").status_code == 200
    assert client.get(f"{URL}?by=nonsense").status_code == 400
