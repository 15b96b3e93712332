"""The `auto` spider: discover the best way into a site from its homepage and robots.txt."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response

from crawlers.platforms import discover
from crawlers.sitemaps import sitemaps_from_robots
from crawlers.spiders.blogger import BloggerSpider
from crawlers.spiders.site import SiteSpider
from crawlers.spiders.sitemap import SitemapSpider
from crawlers.spiders.wordpress import WordPressSpider

FEED_PREFERENCE = {"atom": 0, "rss": 1, "json": 2}


class AutoSpider(BloggerSpider, WordPressSpider, SitemapSpider, SiteSpider):
    """Blogger's feeds, else WordPress's API, else a feed, else sitemaps, else the listings."""

    name = "auto"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.listing(self.source.url, self.parse_home, entry_point=True):
            yield request

    def parse_home(self, response: Response, **kwargs: Any) -> Iterable[scrapy.Request]:
        """Pick the way in from what the homepage says about itself."""
        found = discover(response.body, response.url)
        if found.blogger:
            yield from self._choose("blogger", self.blogger_start(response.url))
        elif found.wordpress_api:
            yield from self._choose(
                f"wordpress ({found.wordpress_api})", self.wordpress_start(found.wordpress_api)
            )
        elif found.feeds:
            url = min(found.feeds, key=lambda f: FEED_PREFERENCE.get(f[1], 9))[0]
            yield from self._choose(f"feed ({url})", self.feed_start(url))
        else:
            yield from self.listing(
                urljoin(response.url, "/robots.txt"),
                self.parse_robots_or_listings,
                dont_obey_robotstxt=True,
                handle_httpstatus_list=[401, 403, 404, 410],
                wa_home=response.url,
            )

    def parse_robots_or_listings(
        self, response: Response, **kwargs: Any
    ) -> Iterable[scrapy.Request]:
        """Sitemaps named in robots.txt, or else a walk of the listing pages."""
        sitemaps = (
            sitemaps_from_robots(response.body, response.url) if response.status == 200 else []
        )
        if sitemaps:
            yield from self._choose(f"sitemap ({', '.join(sitemaps)})", self._sitemaps(sitemaps))
        else:
            yield from self._choose("site", self.site_start(response.meta["wa_home"], again=True))

    def _sitemaps(self, urls: list[str]) -> Iterable[scrapy.Request]:
        for url in urls:
            yield from self.listing(url, self.parse_sitemap, entry_point=True)

    def _choose(self, via: str, requests: Iterable[scrapy.Request]) -> Iterable[scrapy.Request]:
        self.via = via
        self.logger.info("%s: auto-detected the way in: %s", self.source.name, via)
        self.crawler.stats.set_value("wa/via", via)
        yield from requests
