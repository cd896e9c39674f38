"""The feeds, as django.contrib.syndication Feed classes over FeedItem lists.

/feeds/releases.atom and .json: tracked releases; /feeds/orgs/<namespace>/releases.atom and .json:
one organisation's; /feeds/events.atom and .json: thresholds (feeds.event_items).
"""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from observatory import vocab
from observatory.catalog.models import Organization
from observatory.feeds import event_items, release_items
from observatory.feeds.json_feed import JSONFeed
from observatory.feeds.tags import FeedItem, feed_tag

AUTHOR = "Open Model Observatory"


class ItemFeed(Feed):
    """What every feed here shares: entries are FeedItems, ids are their tag: URIs."""

    feed_type = Atom1Feed
    author_name = AUTHOR

    def item_title(self, item: FeedItem) -> str:
        return item.title

    def item_description(self, item: FeedItem) -> str:
        return item.description

    def item_link(self, item: FeedItem) -> str:
        return item.link

    def item_guid(self, item: FeedItem) -> str:
        return item.id

    def item_guid_is_permalink(self, item: FeedItem) -> bool:
        return False

    def item_pubdate(self, item: FeedItem):
        return item.published

    def item_updateddate(self, item: FeedItem):
        return item.updated or item.published

    def item_categories(self, item: FeedItem):
        return item.categories

    def item_extra_kwargs(self, item: FeedItem) -> dict:
        return {"json_extension": item.extra}


class ReleasesFeed(ItemFeed):
    title = "Open Model Observatory: tracked releases"
    subtitle = description = ("New tracked open-model releases with region, licence class, size and, once its probes "
                              "finished, the first profile.")

    def link(self) -> str:
        return reverse("dashboard", args=["releases-by-region"])

    def feed_guid(self) -> str:
        return feed_tag("releases")

    def items(self) -> list[FeedItem]:
        return release_items.releases()


class ReleasesJSONFeed(ReleasesFeed):
    feed_type = JSONFeed


class OrganizationReleasesFeed(ItemFeed):
    def get_object(self, request, namespace: str) -> Organization:
        # A namespace the Hub could not have is no organisation here: 404 before any query.
        if not vocab.HUB_NAMESPACE.match(namespace):
            raise Http404("not a Hub namespace")
        org = Organization.objects.filter(namespace=namespace).first()
        if org is None:
            raise Http404("unknown organisation")
        return org

    def title(self, org: Organization) -> str:
        return f"Open Model Observatory: releases by {org.namespace}"

    def description(self, org: Organization) -> str:
        return f"Tracked releases of {org.namespace} ({org.region}), with the first profile once probed."

    subtitle = description

    def link(self, org: Organization) -> str:
        return reverse("organization", args=[org.namespace])

    def feed_guid(self, org: Organization) -> str:
        return feed_tag(f"orgs/{org.namespace}/releases")

    def items(self, org: Organization) -> list[FeedItem]:
        return release_items.releases(org)


class OrganizationReleasesJSONFeed(OrganizationReleasesFeed):
    feed_type = JSONFeed


class EventsFeed(ItemFeed):
    title = "Open Model Observatory: thresholds"
    subtitle = description = ("Tracked models crossing RAM v2 1.0, new licence conflicts, tooling becoming ready, "
                              "probe profiles finished.")

    def link(self) -> str:
        return reverse("home")

    def feed_guid(self) -> str:
        return feed_tag("events")

    def items(self) -> list[FeedItem]:
        return event_items.events()


class EventsJSONFeed(EventsFeed):
    feed_type = JSONFeed
