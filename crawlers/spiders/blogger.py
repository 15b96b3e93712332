"""The `blogger` spider: a Blogger blog through its JSON feed, paged to the end (Atom as
fallback), so a whole blog archive can be backfilled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.listings.platforms import PlatformError, blogger_feed_url, parse_blogger_json
from crawlers.spiders.base import request_of
from crawlers.spiders.feed import FeedSpider

PAGE_SIZE = 150  # Blogger serves at most 150 posts a page whatever max-results asks


class BloggerSpider(FeedSpider):
    """Page through `/feeds/posts/default?alt=json&start-index=..&max-results=..`."""

    name = "blogger"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.blogger_start(self.source.url):
            yield request

    def blogger_start(self, blog_url: str) -> Iterable[scrapy.Request]:
        """Requests that read the blog's posts feed from its first page."""
        yield from self.listing(
            blogger_feed_url(blog_url, 1, PAGE_SIZE),
            self.parse_blogger,
            fallback=(blogger_feed_url(blog_url, 1, PAGE_SIZE, alt_json=False), self.parse_feed),
            entry_point=True,
            wa_blog=blog_url,
        )

    def parse_blogger(self, response: Response, **kwargs: Any) -> Iterable[scrapy.Request]:
        """Posts from one JSON feed page, and the request for the next page."""
        try:
            page = parse_blogger_json(response.body)
        except PlatformError as exc:
            yield from self.listing_problem(request_of(response), str(exc))
            return
        if not page.entries:
            return  # past the last post: Blogger leaves out the entry list
        self.crawler.stats.inc_value("wa/listing_pages")
        yield from self.article_requests(page.entries, via=response.meta["wa_listing"])
        start = page.start_index + len(page.entries)
        if page.total is None or start <= page.total:
            blog_url = response.meta["wa_blog"]
            yield from self.listing(
                blogger_feed_url(blog_url, start, PAGE_SIZE),
                self.parse_blogger,
                wa_blog=blog_url,
            )
