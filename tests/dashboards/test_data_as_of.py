"""One "data as of": the home page's stamp and each chart's mean the newest day of the data shown,
and where the sources end on different dates the page says which ends when (dashboards.data_dates).

Expected dates come from the raw files (the LMArena CSV, the hub-stats file's name) and raw rows."""

from __future__ import annotations

import csv
import re

import pytest

from observatory.catalog.models import DownloadSnapshot

pytestmark = pytest.mark.django_db


def _source_ends(page: str) -> dict[str, str]:
    line = re.search(r'id="source-ends">[^:]*: (.*?)\.</p>', page)
    assert line, "no source-ends line"
    return {m.group(1): m.group(2) for m in re.finditer(r"([^;]+?) (\d{4}-\d\d-\d\d)(?:; |$)", line.group(1))}


def test_the_home_stamp_is_the_daily_historys_last_day_as_on_its_chart_and_each_source_end_is_named(
        loaded_db, client):
    series_end = max(DownloadSnapshot.objects.filter(source="daily-series").values_list("date", flat=True))
    page = client.get("/").content.decode()
    assert f'<span id="data-as-of">Data as of {series_end}:' in page
    # The chart below it and the chart page say the same date.
    body = client.get("/api/metrics/cumulative-downloads-by-region").json()
    assert body["as_of"] == series_end.isoformat() and f"Data as of {series_end}" in page.split('id="chart-cumul', 1)[1]
    hub_stats = re.search(r"hub_stats_frozen_(\d{4}-\d\d-\d\d)", next((loaded_db / "hub").glob("hub_stats_*")).name)[1]
    with open(loaded_db / "leaderboards" / "lmarena" / "arena_text_history.csv", encoding="utf-8") as handle:
        lmarena = max(row["snapshot_date"] for row in csv.DictReader(handle))
    ends = _source_ends(page)
    assert ends["daily download series"] == series_end.isoformat() == "2025-02-18"
    assert ends["Hub bulk snapshot (hub-stats)"] == hub_stats and ends["LMArena"] == lmarena[:10]
    assert hub_stats > series_end.isoformat()  # why the page must say which source ends when


def test_a_chart_page_says_what_its_stamp_means_and_where_its_sources_end(loaded_db, client):
    body = client.get("/api/metrics/cumulative-downloads-by-region").json()
    page = client.get("/dashboards/cumulative-downloads-by-region").content.decode()
    assert f'id="data-as-of">Data as of {body["as_of"]}: the newest day of the data this chart reads' in page
    ends = _source_ends(page)
    assert ends["daily download series"] == body["as_of"] and "Hub bulk snapshot (hub-stats)" in ends
    assert "LMArena" not in ends  # only the sources this chart reads
    # A chart of one dated source has nothing to reconcile: no such line.
    assert 'id="source-ends"' not in client.get("/dashboards/open-closed-gap?source=lmarena").content.decode()
