"""A small hand-made catalogue for the release-watch tests: organisations, tracked releases with
their sizes and licences, a licence conflict, eleven models of one size class with download
counts (so RAM v2 has a 10th place), and finished probe runs (tests.probe_rows)."""

from __future__ import annotations

import datetime as dt

from observatory.catalog.models import DownloadSnapshot, HubModel, LineageEdge, Organization
from tests.probe_rows import at, finished_run, tooling_checks

RELEASE = dt.date(2025, 1, 1)
PRIVATE_ACCURACY = 0.8123  # a lab's private score: it must show in no feed


def model(org: Organization, name: str, **fields) -> HubModel:
    defaults = {"tracked": True, "licence_class": "permissive", "licence_id": "apache-2.0", "size_class": "<1B",
                "total_params": 135_000_000, "release_date": RELEASE,
                "created_at": dt.datetime.combine(fields.get("release_date", RELEASE), dt.time(9), tzinfo=dt.UTC)}
    return HubModel.objects.create(hub_id=f"{org.namespace}/{name}", organization=org, author=org.namespace,
                                   **{**defaults, **fields})


def build() -> dict:
    acme = Organization.objects.create(namespace="acme", region="us")
    zeta = Organization.objects.create(namespace="zeta-ai", region="china")
    # Eleven models of one class, counts at days 5 and 10 after RELEASE (hand table in the tests).
    herd = []
    for i in range(11):
        m = model(acme if i % 2 else zeta, f"herd-{i}")
        day5, day10 = (100, 5000) if i == 0 else (100 * (i + 1), 100 * (i + 1) + 50)
        for days, count in ((5, day5), (10, day10)):
            DownloadSnapshot.objects.create(model=m, date=RELEASE + dt.timedelta(days=days), downloads_all_time=count,
                                            cumulative_kind="all-time", source="crawl")
        herd.append(m)
    base = model(acme, "base-nc", licence_class="non-commercial", licence_id="cc-by-nc-4.0",
                 release_date=dt.date(2025, 1, 20), total_params=1_700_000_000, size_class="1-5B")
    child = model(zeta, "child-open", release_date=dt.date(2025, 2, 1))
    LineageEdge.objects.create(child=child, parent=base, parent_hub_id=base.hub_id, relation="finetune", source="test")
    newest = model(zeta, "newest", release_date=dt.date(2025, 3, 1), licence_class="restricted", licence_id="gemma")
    # Probes of `newest`: a public benchmark, tooling failing on day 0 and ready on day 3; a
    # private benchmark that must stay off every feed.
    finished_run(newest, "benchmark", finished=at(dt.date(2025, 3, 1), 18),
                 metrics={"accuracy": 0.4125, "accuracy_norm": 0.43, "exact_match": 0.2, "items": 40,
                          "item_set_hash": "f" * 64, "mc_tokens_per_second": 2100.0})
    finished_run(newest, "benchmark", finished=at(dt.date(2025, 3, 2)), public=False,
                 metrics={"accuracy": PRIVATE_ACCURACY, "accuracy_norm": 0.8, "items": 40, "item_set_hash": "e" * 64})
    finished_run(newest, "tooling", finished=at(dt.date(2025, 3, 1), 19), checks=tooling_checks(("chat_template_present",
                                                                                              "chat_template_renders")))
    finished_run(newest, "tooling", finished=at(dt.date(2025, 3, 4)), checks=tooling_checks())
    untracked = model(acme, "untracked", tracked=False, release_date=dt.date(2025, 4, 1))
    return {"acme": acme, "zeta": zeta, "herd": herd, "base": base, "child": child, "newest": newest,
            "untracked": untracked}
