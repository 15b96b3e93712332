"""The `wordpress` spider: the REST API (`/wp-json/wp/v2/posts`, paged by X-WP-TotalPages,
`modified_after` on incremental runs), the RSS feed as fallback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response

from crawlers.platforms import PlatformError, parse_wordpress_posts, wordpress_posts_url
from crawlers.spiders.feed import FeedSpider

PAGE_SIZE = 100  # the API's maximum per_page


class WordPressSpider(FeedSpider):
    """Read every post (or every post modified since the last good crawl) from the API."""

    name = "wordpress"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.wordpress_start(urljoin(self.source.url, "/wp-json/")):
            yield request

    def wordpress_start(self, api_root: str) -> Iterable[scrapy.Request]:
        """Requests that read the API's first page of posts."""
        since = self.last_good_crawl()
        yield from self.listing(
            wordpress_posts_url(api_root, 1, PAGE_SIZE, modified_after=since),
            self.parse_wordpress,
            fallback=(urljoin(self.source.url, "/feed/"), self.parse_feed),
            entry_point=True,
            wa_api=api_root,
            wa_since=since,
        )

    def parse_wordpress(self, response: Response, **kwargs: Any) -> Iterable[scrapy.Request]:
        """Posts from one API page; the first page schedules all the others."""
        try:
            entries = parse_wordpress_posts(response.body)
        except PlatformError as exc:
            yield from self.listing_problem(response.request, str(exc))
            return
        self.crawler.stats.inc_value("wa/listing_pages")
        yield from self.article_requests(entries)
        if response.meta.get("wa_page", 1) != 1:
            return
        try:
            pages = int(response.headers.get(b"X-WP-TotalPages", b"1"))
        except ValueError:
            pages = 1
        for page in range(2, pages + 1):
            yield from self.listing(
                wordpress_posts_url(
                    response.meta["wa_api"],
                    page,
                    PAGE_SIZE,
                    modified_after=response.meta["wa_since"],
                ),
                self.parse_wordpress,
                wa_page=page,
                wa_api=response.meta["wa_api"],
                wa_since=response.meta["wa_since"],
            )
