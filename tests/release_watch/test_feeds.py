"""The feeds, read by real feed readers: feedparser for Atom 1.0 (and feedparser-rs, which also
reads JSON Feed 1.1, which feedparser 6.0 cannot) parse every feed without complaint; entries
come newest first with what a follower needs; ids are tag: URIs that survive a re-import; a
hostile namespace is a 404; pages link the feeds; a private score shows in none of them."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import feedparser
import feedparser_rs
import pytest
from django.core.cache import cache

from gpu_workers.models import ProbeRun
from observatory.catalog.models import HubModel, Organization, Run
from tests.release_watch.catalogue import PRIVATE_ACCURACY, build

pytestmark = pytest.mark.django_db
AUTH = "observatory.invalid"  # the FEED_TAG_AUTHORITY default

FEEDS = ["/feeds/releases.atom", "/feeds/releases.json", "/feeds/orgs/acme/releases.atom",
         "/feeds/orgs/acme/releases.json", "/feeds/events.atom", "/feeds/events.json"]
# Tracked releases by release date (newest first), then Hub id: written out by hand from catalogue.build.
RELEASE_ORDER = (["zeta-ai/newest", "zeta-ai/child-open", "acme/base-nc"]
                 + [f"acme/herd-{i}" for i in (1, 3, 5, 7, 9)] + [f"zeta-ai/herd-{i}" for i in (0, 10, 2, 4, 6, 8)])
# RAM v2 by hand: day 5 counts 100..1100, the 10th highest 200, so herd-1..10 reach 1.0 there;
# day 10: herd-0 has 5000 against a 10th place of 350 (the others 250..1150 and 5000).
EVENTS = {
    *{(f"ram-v2-crossed-1.0/{org}/herd-{i}", "2025-01-06") for i in range(1, 11)
      for org in ["acme" if i % 2 else "zeta-ai"]},
    ("ram-v2-crossed-1.0/zeta-ai/herd-0", "2025-01-11"),
    ("licence-conflict/zeta-ai/child-open/base/acme/base-nc", "2025-02-01"),
    ("tooling-ready/zeta-ai/newest", "2025-03-04"),
    ("profile-finished-benchmark/zeta-ai/newest", "2025-03-01"),
    ("profile-finished-tooling/zeta-ai/newest", "2025-03-01"),
}


def tag(kind_and_id: str, date: str) -> str:
    return f"tag:{AUTH},{date}:{kind_and_id}"


def read(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    body = response.content
    if path.endswith(".json"):
        assert response["Content-Type"].startswith("application/feed+json")
        parsed = feedparser_rs.parse(body)
        assert parsed.version == "json11" and not parsed.bozo, path
        return parsed
    assert response["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(body)
    assert parsed.version == "atom10" and not parsed.bozo, (path, parsed.get("bozo_exception"))
    other = feedparser_rs.parse(body)  # a second reader agrees on the entries
    assert [e.id for e in other.entries] == [e.id for e in parsed.entries]
    return parsed


def ids(client, path: str) -> list[str]:
    return [e.id for e in read(client, path).entries]


def test_every_feed_parses_in_a_real_reader(client):
    build()
    for path in FEEDS:
        feed = read(client, path)
        assert feed.entries, path
        for entry in feed.entries:
            assert entry.id.startswith(f"tag:{AUTH},") and entry.title and entry.link.startswith("http://testserver/")


def test_the_releases_feed_lists_tracked_releases_newest_first_with_what_a_follower_needs(client):
    build()
    atom = read(client, "/feeds/releases.atom")
    assert [e.title.removesuffix(" released") for e in atom.entries] == RELEASE_ORDER
    newest = atom.entries[0]
    assert newest.id == tag("release/zeta-ai/newest", "2025-03-01")
    text = newest.summary
    assert "Region: china" in text and "Licence class: restricted (gemma)" in text and "135M" not in text
    assert "0.135B parameters (size class <1B)" in text
    assert "First profile" in text and "41.2 %" in text and "Checks passed 6" in text  # the first tooling check: 6 of 8
    assert "not yet" in atom.entries[1].summary
    assert newest.link == "http://testserver/models/zeta-ai/newest"
    json_feed = read(client, "/feeds/releases.json")
    assert [e.id for e in json_feed.entries] == [e.id for e in atom.entries]


def test_an_organisations_feed_holds_only_its_tracked_releases(client):
    build()
    titles = [e.title.removesuffix(" released") for e in read(client, "/feeds/orgs/acme/releases.atom").entries]
    assert titles == [h for h in RELEASE_ORDER if h.startswith("acme/")]
    assert "acme/untracked" not in titles


def test_the_events_feed_dates_each_threshold_from_the_data(client):
    build()
    expected = {tag(kind_and_id, date) for kind_and_id, date in EVENTS}
    found = ids(client, "/feeds/events.atom")
    assert set(found) == expected and len(found) == len(expected)
    published = [e.published_parsed for e in read(client, "/feeds/events.atom").entries]
    assert published == sorted(published, reverse=True)  # newest first
    assert ids(client, "/feeds/events.json") == found


def test_ids_survive_a_re_import(client):
    build()
    before = {path: ids(client, path) for path in FEEDS}
    # Per table: a model's pk and a run's pk can be the same number without either being reused.
    def pks():
        return {table: set(table.objects.values_list("pk", flat=True)) for table in (HubModel, ProbeRun)}

    old_pks = pks()
    ProbeRun.objects.all().delete()
    Run.objects.all().delete()
    HubModel.objects.all().delete()
    Organization.objects.all().delete()
    cache.clear()
    build()
    new_pks = pks()
    assert all(new_pks[table] and not old_pks[table] & new_pks[table] for table in old_pks)  # really new rows
    assert {path: ids(client, path) for path in FEEDS} == before


def test_a_private_score_is_in_no_feed(client):
    build()
    for path in FEEDS:
        body = client.get(path).content.decode()
        assert str(PRIVATE_ACCURACY) not in body and "81.2 %" not in body, path


@pytest.mark.parametrize("namespace", ["..", "a--b", "-lead", "x" * 97, "%3Cscript%3E", "a%00b", "acme.git", "nobody"])
def test_a_hostile_or_unknown_namespace_is_a_404(client, namespace):
    build()
    for suffix in ("atom", "json"):
        response = client.get(f"/feeds/orgs/{namespace}/releases.{suffix}")
        assert response.status_code == 404, (namespace, response.status_code)


class Alternates(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "alternate":
            self.links.append((a["type"], a["href"]))


def alternates(client, path: str) -> list[tuple[str, str]]:
    parser = Alternates()
    parser.feed(client.get(path).content.decode())
    return parser.links


def test_pages_link_the_feeds_and_each_link_is_a_feed(client):
    build()
    home = alternates(client, "/")
    assert ("application/atom+xml", "/feeds/releases.atom") in home
    assert ("application/feed+json", "/feeds/releases.json") in home
    assert ("application/atom+xml", "/feeds/events.atom") in home
    org = alternates(client, "/orgs/acme")
    assert ("application/atom+xml", "/feeds/orgs/acme/releases.atom") in org
    for _type, href in {*home, *org}:
        assert read(client, href).entries


def test_the_feed_ids_are_tag_uris_of_the_rfc_form(client):
    build()
    form = re.compile(r"^tag:[a-z0-9.-]+,\d{4}(-\d{2}(-\d{2})?)?:[\w./%-]+$")
    for path in FEEDS:
        for entry_id in ids(client, path):
            assert form.match(entry_id), entry_id
    assert dt.date.fromisoformat(ids(client, "/feeds/releases.atom")[0].split(",")[1].split(":")[0])
