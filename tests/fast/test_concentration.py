"""Download concentration (analytics.concentration, download-concentration/v1) on made-up frames.

Expected values come from hand-written tables and from a plain loop over the raw (date, group,
increment) rows below, never from polars.
"""

from __future__ import annotations

import collections
import datetime as dt

import polars as pl
import pytest

from observatory.analytics import concentration

GAINS_SCHEMA = {"date": pl.Date, "group": pl.Utf8, "increment": pl.Float64}
EDGE_SCHEMA = {"child_id": pl.Int64, "parent_id": pl.Int64, "parent_hub_id": pl.Utf8, "relation": pl.Utf8}


def gains(*rows: tuple) -> pl.DataFrame:
    return pl.DataFrame([dict(zip(GAINS_SCHEMA, r)) for r in rows], schema=GAINS_SCHEMA)


def plain_concentration(rows, start=None, end=None) -> list[tuple]:
    """The definition as a loop: sums per (month, group), positive ones only, shares, ranks."""
    sums: dict = collections.defaultdict(float)
    for date, group, increment in rows:
        if (start is None or date >= start) and (end is None or date <= end):
            sums[(date.replace(day=1), group)] += increment
    by_month: dict = collections.defaultdict(list)
    for (month, _), total in sums.items():
        if total > 0:
            by_month[month].append(total)
    out = []
    for month in sorted(by_month):
        totals = sorted(by_month[month], reverse=True)
        shares = [t / sum(totals) for t in totals]
        out.append((month, sum((100 * s) ** 2 for s in shares), sum(shares[:1]), sum(shares[:5]), sum(shares[:10]),
                    len(shares)))
    return out


def assert_rows(frame: pl.DataFrame, expected: list[tuple]):
    assert frame.schema == pl.Schema(concentration.ROW_SCHEMA)
    assert len(frame.rows()) == len(expected)
    for got, want in zip(frame.rows(), expected, strict=True):
        assert got[0] == want[0] and got[5] == want[5]
        assert got[1:5] == pytest.approx(want[1:5], rel=1e-12)


# Twelve groups of different sizes in March (so top 1, 5 and 10 all differ from one group more or
# less), a February split over two days with a group that nets out to nothing and one that nets
# negative, and an April gaining nothing at all.
MANY = [(dt.date(2024, 3, 1 + i), f"g{i:02d}", float(2 ** i)) for i in range(12)] + [
    (dt.date(2024, 2, 1), "acme", 30.0), (dt.date(2024, 2, 29), "acme", 10.0),
    (dt.date(2024, 2, 10), "zeta", 10.0), (dt.date(2024, 2, 11), "flat", 5.0), (dt.date(2024, 2, 12), "flat", -5.0),
    (dt.date(2024, 2, 13), "down", 1.0), (dt.date(2024, 2, 14), "down", -3.0),
    (dt.date(2024, 4, 2), "acme", 0.0),
]


def test_it_measures_each_month_as_a_plain_loop_over_the_raw_gains_does():
    assert_rows(concentration.concentration(gains(*MANY)), plain_concentration(MANY))


def test_a_month_split_80_20_has_an_hhi_of_6800_and_groups_gaining_nothing_do_not_count():
    rows = concentration.concentration(gains(*MANY)).row(0)
    # February: acme 40, zeta 10 (flat nets 0, down nets -2): 80² + 20² = 6,800 over two groups.
    assert rows == (dt.date(2024, 2, 1), pytest.approx(6800.0), pytest.approx(0.8), pytest.approx(1.0),
                    pytest.approx(1.0), 2)


def test_top_n_shares_take_the_n_largest_groups():
    march = concentration.concentration(gains(*MANY)).row(1)
    total = 2 ** 12 - 1  # 1 + 2 + ... + 2048
    assert march[0] == dt.date(2024, 3, 1)
    assert march[2:] == (pytest.approx(2048 / total), pytest.approx((2048 + 1024 + 512 + 256 + 128) / total),
                         pytest.approx((total - 1 - 2) / total), 12)


def test_a_group_gaining_a_fraction_of_a_download_still_counts():
    rows = concentration.concentration(gains((dt.date(2024, 1, 3), "a", 0.5), (dt.date(2024, 1, 4), "b", 1.5)))
    assert rows.rows() == [(dt.date(2024, 1, 1), pytest.approx(25 ** 2 + 75 ** 2), 0.75, 1.0, 1.0, 2)]


def test_the_range_keeps_its_first_and_last_day():
    rows = [(dt.date(2024, 5, 1), "a", 1.0), (dt.date(2024, 5, 2), "b", 1.0), (dt.date(2024, 5, 3), "c", 2.0),
            (dt.date(2024, 5, 4), "d", 8.0)]
    frame = gains(*rows)
    start, end = dt.date(2024, 5, 2), dt.date(2024, 5, 3)
    # b and c only: one third and two thirds.
    assert concentration.concentration(frame, start=start, end=end).rows() == [
        (dt.date(2024, 5, 1), pytest.approx(10_000 * (1 / 9 + 4 / 9)), pytest.approx(2 / 3), 1.0, 1.0, 2)]
    assert_rows(concentration.concentration(frame, start=start), plain_concentration(rows, start=start))
    assert_rows(concentration.concentration(frame, end=end), plain_concentration(rows, end=end))


def test_a_range_with_no_gains_gives_no_rows_in_the_row_schema():
    for empty in (concentration.concentration(gains()),
                  concentration.concentration(gains(*MANY), start=dt.date(2024, 4, 1))):
        assert empty.is_empty() and empty.schema == pl.Schema(concentration.ROW_SCHEMA)


# --- families ----------------------------------------------------------------------------------

def edges(*rows: tuple) -> pl.DataFrame:
    return pl.DataFrame([dict(zip(EDGE_SCHEMA, r)) for r in rows], schema=EDGE_SCHEMA)


def catalogue(*hub_ids: str) -> pl.DataFrame:
    """Models 1, 2, ... named by the Hub ids given."""
    return pl.DataFrame({"model_id": list(range(1, len(hub_ids) + 1)), "hub_id": list(hub_ids)},
                        schema={"model_id": pl.Int64, "hub_id": pl.Utf8})


def families(edge_frame, models, names=None) -> dict[int, str]:
    roots = concentration.family_roots(edge_frame, models, names)
    assert roots.columns == ["model_id", "family"] and roots["model_id"].n_unique() == roots.height
    return dict(roots.iter_rows())


def test_a_family_is_the_stored_root_named_as_the_catalogue_names_it():
    models = catalogue("Org/Base", "a/ft", "b/ft-of-ft", "c/alone")
    lineage = edges((2, 1, "org/base", "finetune"), (3, 2, "A/FT", "finetune"))
    assert families(lineage, models) == {1: "Org/Base", 2: "Org/Base", 3: "Org/Base", 4: "c/alone"}


def test_a_merge_follows_the_parent_whose_hub_id_sorts_first_case_folded():
    # Plain sorting puts "B/second" before "a/first"; case-folded, a/first comes first.
    models = catalogue("a/first", "B/second", "m/merge", "x/Twin", "y/twin", "n/merge-of-twins", "r/root")
    assert families(edges((3, 2, "B/second", "merge"), (3, 1, "a/first", "merge")), models)[3] == "a/first"
    # Only that parent is followed, even when the other one's walk would end sooner.
    longer = edges((3, 2, "B/second", "merge"), (3, 1, "a/first", "merge"), (1, 7, "r/root", "finetune"))
    assert families(longer, models) == {1: "r/root", 2: "B/second", 3: "r/root", 4: "x/Twin", 5: "y/twin",
                                        6: "n/merge-of-twins", 7: "r/root"}
    # Two parents equal case-folded: the plain order decides (upper case first), whatever the row order.
    lineage = edges((6, 5, "org/twin", "merge"), (6, 4, "Org/twin", "merge"))
    assert families(lineage, models)[6] == "x/Twin"


def test_a_parent_the_catalogue_does_not_hold_ends_the_walk_named_as_the_edge_names_it():
    models = catalogue("a/quant", "b/ft-of-quant")
    lineage = edges((1, None, "Gone/Model", "quantized"), (2, 1, "a/quant", "finetune"))
    assert families(lineage, models) == {1: "Gone/Model", 2: "Gone/Model"}


def test_ancestors_outside_a_selection_are_named_by_the_catalogue_passed_as_names():
    models = catalogue("Org/Base", "a/ft", "b/ft-of-ft")
    lineage = edges((2, 1, "org/base", "finetune"), (3, 2, "a/ft", "finetune"))
    chosen = models.filter(pl.col("model_id") == 3)
    assert families(lineage, chosen, names=models) == {3: "Org/Base"}
    # Without the catalogue the walk still climbs through the stored ids, but can only name the
    # root as the edge does.
    assert families(lineage, chosen) == {3: "org/base"}


def test_a_chain_deeper_than_max_depth_ends_max_depth_steps_up():
    depth = concentration.MAX_DEPTH
    assert depth == 32
    n = depth + 2  # model k's parent is model k - 1: model n is n - 1 steps from the root
    models = catalogue(*(f"org/m{k}" for k in range(1, n + 1)))
    lineage = edges(*((k, k - 1, f"org/m{k - 1}", "finetune") for k in range(2, n + 1)))
    roots = families(lineage, models)
    assert roots[n - 1] == "org/m1"  # exactly MAX_DEPTH steps: reaches the root
    assert roots[n] == "org/m2"  # one more: stops MAX_DEPTH steps up
    assert all(roots[k] == "org/m1" for k in range(1, n))


def test_a_cycle_ends_and_every_model_keeps_one_family():
    models = catalogue("a/one", "b/two", "c/three")
    lineage = edges((1, 2, "b/two", "finetune"), (2, 1, "a/one", "finetune"), (3, 2, "b/two", "finetune"))
    roots = families(lineage, models)
    assert set(roots) == {1, 2, 3} and set(roots.values()) <= {"a/one", "b/two"}
