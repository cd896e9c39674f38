"""The events feed's `forecast-on-track` entries, read by feedparser: a tracked model is announced
on the first crawl day whose adoption forecast as of that day gave P(RAM v2 ≥ 1 at day 90) ≥ 0.5,
the metric's own answer for that as_of agrees, the id is a tag: URI that survives a rebuild, and
data dated later moves nothing.

The catalogue, by hand: eleven "<1B" models released 2025-01-01, each growing by (i + 1)·1000
downloads a day, read every 5 days to day 120, so at day 90 (2025-04-01) the 10th place holds
2·1000·90 = 180,000. Released that day: `riser` reads 10 a day until day 19, then 500,000 on day
20 (2025-04-21), past that 180,000 with day 90 still ahead: from then its forecast is certain, and
before it the forecast needs a jump no residual of these straight lines allows. `laggard` keeps
5 a day; `untracked-riser` is the riser outside the feed's scope.
"""

from __future__ import annotations

import datetime as dt

import feedparser
import pytest
from django.core.cache import cache

from observatory.catalog.models import DownloadSnapshot, HubModel, Organization
from observatory.feeds import on_track_items

pytestmark = pytest.mark.django_db
AUTH = "observatory.invalid"  # the FEED_TAG_AUTHORITY default
HERD_RELEASE = dt.date(2025, 1, 1)
RELEASE = dt.date(2025, 4, 1)
ON_TRACK_DAY = dt.date(2025, 4, 21)
RISER_ID = f"tag:{AUTH},2025-04-21:forecast-on-track/acme/riser"


def _model(org, name, release, tracked=True) -> HubModel:
    return HubModel.objects.create(
        hub_id=f"{org.namespace}/{name}", organization=org, author=org.namespace, tracked=tracked,
        size_class="<1B", total_params=135_000_000, licence_class="permissive", licence_id="apache-2.0",
        release_date=release, created_at=dt.datetime.combine(release, dt.time(9), tzinfo=dt.UTC))


def _snapshots(model, counts: dict[int, int], release) -> list[DownloadSnapshot]:
    return [DownloadSnapshot(model=model, date=release + dt.timedelta(days=day), downloads_all_time=count,
                             cumulative_kind="all-time", source="crawl") for day, count in counts.items()]


def _riser_counts(last_day: int = 30) -> dict[int, int]:
    return {day: 10 * day if day < 20 else 500_000 + 1000 * (day - 20) for day in range(last_day + 1)}


def build() -> None:
    acme = Organization.objects.create(namespace="acme", region="us")
    rows = []
    for i in range(11):
        herd = _model(acme, f"herd-{i}", HERD_RELEASE)
        rows += _snapshots(herd, {day: (i + 1) * 1000 * day for day in range(0, 121, 5)}, HERD_RELEASE)
    rows += _snapshots(_model(acme, "riser", RELEASE), _riser_counts(), RELEASE)
    rows += _snapshots(_model(acme, "untracked-riser", RELEASE, tracked=False), _riser_counts(), RELEASE)
    rows += _snapshots(_model(acme, "laggard", RELEASE), {day: 5 * day for day in range(31)}, RELEASE)
    DownloadSnapshot.objects.bulk_create(rows)


def on_track_entries(client) -> list:
    response = client.get("/feeds/events.atom")
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert parsed.version == "atom10" and not parsed.bozo, parsed.get("bozo_exception")
    return [e for e in parsed.entries if ":forecast-on-track/" in e.id]


def p_on_track(client, hub_id: str, as_of: dt.date) -> float:
    response = client.get(f"/api/metrics/adoption-forecast?as_of={as_of.isoformat()}")
    assert response.status_code == 200, response.content[:300]
    values = {r["p_on_track"] for r in response.json()["rows"] if r["hub_id"] == hub_id and r["measure"] == "downloads"}
    assert len(values) == 1, values
    return values.pop()


def test_a_tracked_model_is_announced_on_the_first_day_its_forecast_put_it_on_track(client):
    build()
    entries = on_track_entries(client)
    assert [e.id for e in entries] == [RISER_ID]  # not the laggard, not the untracked twin
    riser = entries[0]
    assert riser.title == "acme/riser: on track for a top-10 <1B model"
    assert riser.link == "http://testserver/models/acme/riser"
    assert dt.date(*riser.published_parsed[:3]) == ON_TRACK_DAY
    assert "20 days after release with 500,000 downloads" in riser.summary and "180,000" in riser.summary


def test_the_day_is_where_the_metrics_own_forecast_as_of_each_day_crosses_one_half(client):
    build()
    assert p_on_track(client, "acme/riser", ON_TRACK_DAY) >= 0.5
    assert p_on_track(client, "acme/riser", ON_TRACK_DAY - dt.timedelta(days=1)) < 0.5
    assert p_on_track(client, "acme/laggard", ON_TRACK_DAY) < 0.5


def test_the_id_survives_a_rebuild_and_later_data_moves_nothing(client):
    build()
    before = [(e.id, e.published) for e in on_track_entries(client)]
    HubModel.objects.all().delete()
    Organization.objects.all().delete()
    cache.clear()
    build()
    assert [(e.id, e.published) for e in on_track_entries(client)] == before
    # Ten more crawl days of the riser, a jump included: its first day on track stays.
    riser = HubModel.objects.get(hub_id="acme/riser")
    DownloadSnapshot.objects.bulk_create(_snapshots(riser, {day: 2_000_000 + day for day in range(31, 41)}, RELEASE))
    cache.clear()
    assert [(e.id, e.published) for e in on_track_entries(client)] == before


def test_a_crawl_keeps_the_past_days_cache_keys_and_a_changed_past_day_changes_its_own(client):
    from observatory.analytics import frames
    from observatory.analytics.filters import Filters

    build()

    def keys() -> dict[dt.date, str]:
        snaps = frames.snapshots(filters=Filters(scope="all"), since_release=True)
        models = frames.models(("hub_id", "release_date"))
        return {day: on_track_items._day_key(snaps, models, day) for day in (ON_TRACK_DAY, RELEASE + dt.timedelta(30))}

    first = keys()
    laggard = HubModel.objects.get(hub_id="acme/laggard")
    DownloadSnapshot.objects.create(model=laggard, date=RELEASE + dt.timedelta(days=31), downloads_all_time=200,
                                    cumulative_kind="all-time", source="crawl")
    assert keys() == first  # a new crawl day: the days before it read their cached forecasts
    DownloadSnapshot.objects.filter(model=laggard, date=RELEASE + dt.timedelta(days=25)).update(downloads_all_time=140)
    after = keys()
    assert after[ON_TRACK_DAY] == first[ON_TRACK_DAY] and after[RELEASE + dt.timedelta(30)] != first[
        RELEASE + dt.timedelta(30)]
