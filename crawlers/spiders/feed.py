"""The `feed` spider: RSS 2.0, Atom and JSON Feed, with RFC 5005 paging and WordPress's
`?paged=N` feed pages.

A feed with no next page lists only its latest posts (10 by default on WordPress, Hugo and
Pelican): unless it says it is complete (RFC 5005 `fh:complete`), the source is `partial`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import scrapy
from scrapy.http import Response

from crawlers.listings.feeds import Feed, FeedError, parse_feed
from crawlers.listings.platforms import discover
from crawlers.spiders.base import SourceSpider, request_of


def wordpress_feed_page(url: str, page: int) -> str:
    """`url` (a WordPress feed) asking for page `page` with `paged=N`."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "paged"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("paged", str(page))])))


def is_wordpress(feed: Feed) -> bool:
    """Whether WordPress made the feed (its <generator>), which pages with `?paged=N`."""
    return "wordpress.org" in (feed.generator or "").lower()


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
        page = response.meta.get("wa_feed_page", 1)
        if page > 1 and response.status == 404:
            return  # past the last page of a WordPress feed
        try:
            feed = parse_feed(response.body, response.url)
        except FeedError as exc:
            links = discover(response.body, response.url).feeds if _is_html(response) else []
            if links and not response.meta.get("wa_from_page"):
                self.via = f"{self.via} ({links[0][0]})"
                yield from self.feed_start(links[0][0], wa_from_page=True)
                return
            yield from self.listing_problem(request_of(response), str(exc))
            return
        if feed.entries:
            self.crawler.stats.inc_value("wa/listing_pages")
        yield from self.article_requests(feed.entries, via=response.meta["wa_listing"])
        if not feed.entries:
            return
        if feed.next_url:
            yield from self.listing(feed.next_url, self.parse_feed)
        elif is_wordpress(feed):
            yield from self.listing(
                wordpress_feed_page(response.url, page + 1),
                self.parse_feed,
                handle_httpstatus_list=[404],
                wa_feed_page=page + 1,
            )
        elif not feed.complete:
            self.feed_cut(
                f"the feed {response.meta['wa_listing']} lists {len(feed.entries)} posts"
                f"{f' on {page} pages' if page > 1 else ''} and no next page"
            )

    def feed_cut(self, reason: str) -> None:
        """The feed ends before the site's first post may; `auto` tries other listings."""
        self.note_partial(reason)


def _is_html(response: Response) -> bool:
    content_type = (response.headers.get(b"Content-Type") or b"").lower()
    return b"html" in content_type or response.body.lstrip()[:15].lower().startswith(
        (b"<!doctype html", b"<html")
    )
