"""The `feed` spider: RSS 2.0, Atom and JSON Feed, with RFC 5005 paging."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.feeds import FeedError, parse_feed
from crawlers.platforms import discover
from crawlers.spiders.base import SourceSpider


class FeedSpider(SourceSpider):
    """Read a feed (or a page that links one) and fetch every post it lists."""

    name = "feed"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.feed_start(self.source.url):
            yield request

    def feed_start(self, url: str, **meta: Any) -> Iterable[scrapy.Request]:
        """Requests that read the feed at `url`."""
        yield from self.listing(url, self.parse_feed, entry_point=True, **meta)

    def parse_feed(self, response: Response, **kwargs: Any) -> Iterable[scrapy.Request]:
        """Posts from one feed document, and its next page."""
        try:
            feed = parse_feed(response.body, response.url)
        except FeedError as exc:
            links = discover(response.body, response.url).feeds if _is_html(response) else []
            if links and not response.meta.get("wa_from_page"):
                self.via = f"{self.via} ({links[0][0]})"
                yield from self.feed_start(links[0][0], wa_from_page=True)
                return
            yield from self.listing_problem(response.request, str(exc))
            return
        if feed.entries:
            self.crawler.stats.inc_value("wa/listing_pages")
        yield from self.article_requests(feed.entries)
        if feed.next_url and feed.entries:
            yield from self.listing(feed.next_url, self.parse_feed)


def _is_html(response: Response) -> bool:
    content_type = response.headers.get(b"Content-Type", b"").lower()
    return b"html" in content_type or response.body.lstrip()[:15].lower().startswith(
        (b"<!doctype html", b"<html")
    )
