"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1) as a django.utils.feedgenerator generator.

Django ships RSS 2.0 and Atom 1.0 generators only. A subclass of SyndicationFeed is the one
place a format plugs into django.contrib.syndication: the same Feed class (its items, tag: ids,
absolute links and dates) then serves Atom and JSON alike, so the two can never disagree about
what a feed holds. Only the serialisation differs, and that is all this class writes.
"""

from __future__ import annotations

import json

from django.utils.feedgenerator import SyndicationFeed, rfc3339_date

VERSION = "https://jsonfeed.org/version/1.1"


class JSONFeed(SyndicationFeed):
    content_type = "application/feed+json; charset=utf-8"

    def document(self) -> dict:
        feed = self.feed
        doc = {"version": VERSION, "title": feed["title"], "home_page_url": feed["link"],
               "feed_url": feed["feed_url"], "items": [self.item(i) for i in self.items]}
        if feed.get("description"):
            doc["description"] = feed["description"]
        if feed.get("language"):
            doc["language"] = feed["language"]
        if feed.get("author_name"):
            doc["authors"] = [{"name": feed["author_name"], **({"url": feed["author_link"]} if feed.get("author_link")
                                                               else {})}]
        return doc

    @staticmethod
    def item(item: dict) -> dict:
        out = {"id": item["unique_id"] or item["link"], "url": item["link"], "title": item["title"],
               "content_text": item["description"]}
        if item.get("pubdate"):
            out["date_published"] = rfc3339_date(item["pubdate"])
        if item.get("updateddate"):
            out["date_modified"] = rfc3339_date(item["updateddate"])
        if item.get("categories"):
            out["tags"] = list(item["categories"])
        if item.get("json_extension"):
            # JSON Feed's extension rule: keys that start with an underscore are a publisher's own.
            out["_observatory"] = item["json_extension"]
        return out

    def write(self, outfile, encoding):
        outfile.write(json.dumps(self.document(), ensure_ascii=False, indent=1, default=str))
