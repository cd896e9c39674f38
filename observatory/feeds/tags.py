"""Entry ids: tag: URIs (RFC 4151) from the Hub id, the kind of entry and its date.

Nothing in them is a database key, so a rebuilt or re-imported catalogue gives every entry the id
it had, and a feed reader does not show it again as new.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from urllib.parse import quote

from django.conf import settings


def tag_uri(kind: str, hub_id: str, date: dt.date) -> str:
    """`tag:<authority>,<date>:<kind>/<hub id>`: the date is the event's (a release's day, the day
    a threshold was crossed), and the Hub id is kept as the Hub spells it (its characters are all
    allowed in a tag's specific part; anything else is percent-encoded)."""
    return f"tag:{settings.FEED_TAG_AUTHORITY},{date.isoformat()}:{kind}/{quote(hub_id, safe='/._-')}"


def feed_tag(name: str) -> str:
    """A feed's own id (Atom's feed <id>), stable for the deployment's authority."""
    return f"tag:{settings.FEED_TAG_AUTHORITY},2026:feeds/{quote(name, safe='/._-')}"


@dataclasses.dataclass(frozen=True)
class FeedItem:
    """One entry, whatever the feed format: what the syndication Feed classes read."""

    id: str
    title: str
    link: str  # a site path; the Feed makes it absolute
    description: str
    published: dt.datetime
    updated: dt.datetime | None = None
    categories: tuple[str, ...] = ()
    extra: dict = dataclasses.field(default_factory=dict)  # JSON Feed's `_observatory` extension


def day_start(date: dt.date) -> dt.datetime:
    """A date as the instant its UTC day starts (feeds carry times)."""
    return dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC)
