"""The `auto` spider: find every way into a site from its homepage, and use them all.

Blogger and WordPress list every post through their feeds and API. Any other site is read
through the union of its listings: its feed, its sitemaps (those robots.txt names, else the
usual locations) and, when neither lists everything, its listing pages (`/page/2/`,
archives, tags). A feed alone usually holds the latest 10 posts only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response

from crawlers.listings.platforms import discover, wordpress_api_from_links
from crawlers.spiders.blogger import BloggerSpider
from crawlers.spiders.site import SiteSpider
from crawlers.spiders.sitemap import SitemapSpider
from crawlers.spiders.wordpress import WordPressSpider

FEED_PREFERENCE = {"atom": 0, "rss": 1, "json": 2}


class AutoSpider(BloggerSpider, WordPressSpider, SitemapSpider, SiteSpider):
    """Blogger's feeds, else WordPress's API, else feed + sitemaps (+ listing pages)."""

    name = "auto"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._home: str | None = None  # set when the listing pages may be needed
        self._cut: list[str] = []
        self._ways: list[str] = []

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.listing(self.source.url, self.parse_home, entry_point=True):
            yield request

    def parse_home(self, response: Response, **kwargs: Any) -> Iterable[scrapy.Request]:
        """Pick the ways in from what the homepage says about itself."""
        found = discover(response.body, response.url)
        api = (
            wordpress_api_from_links(
                [v.decode("latin-1") for v in response.headers.getlist(b"Link")], response.url
            )
            or found.wordpress_api
        )
        if found.blogger:
            yield from self._choose("blogger", self.blogger_start(response.url))
            return
        feed = (
            min(found.feeds, key=lambda f: FEED_PREFERENCE.get(f[1], 9))[0] if found.feeds else None
        )
        if api:
            yield from self._choose(
                f"wordpress ({api})", self.wordpress_start(api, response.url, feed)
            )
            return
        self._home = response.url
        if feed:
            self._ways.append(f"feed ({feed})")
            yield from self.feed_start(feed)
        yield from self.listing(
            urljoin(response.url, "/robots.txt"),
            self.parse_robots,
            dont_obey_robotstxt=True,
            handle_httpstatus_list=[401, 403, 404, 410],
            wa_site=response.url,
            wa_optional=True,
        )
        self._set_via()

    def feed_cut(self, reason: str) -> None:
        """Another listing may make up for it: decided when every listing is read."""
        self._cut.append(reason)

    def when_idle(self) -> Iterator[scrapy.Request]:
        if self._home is not None:
            home, self._home = self._home, None
            if self.sitemaps_read:
                self._ways.append("sitemap")
            elif self._cut or not self._ways:
                # Neither feed nor sitemap lists everything: walk the listing pages too.
                self._ways.append("site")
                self._cut.clear()
                self._set_via()
                yield from self.site_start(home, again=True)
                return
            self._set_via()
        yield from super().when_idle()

    def _set_via(self) -> None:
        self.via = " + ".join(self._ways) or self.name
        self.crawler.stats.set_value("wa/via", self.via)

    def _choose(self, via: str, requests: Iterable[scrapy.Request]) -> Iterable[scrapy.Request]:
        self.via = via
        self.logger.info("%s: auto-detected the way in: %s", self.source.name, via)
        self.crawler.stats.set_value("wa/via", via)
        yield from requests
