"""The `sitemap` spider: robots.txt -> sitemap indexes -> (gzipped) sitemaps and news
sitemaps, skipping child sitemaps whose lastmod is older than the last good crawl."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response

from crawlers.sitemaps import SitemapError, parse_sitemap, sitemaps_from_robots
from crawlers.spiders.base import SourceSpider


class SitemapSpider(SourceSpider):
    """Fetch every post a site's sitemaps list (or those changed since the last good crawl)."""

    name = "sitemap"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.sitemap_start(self.source.url):
            yield request

    def sitemap_start(self, url: str) -> Iterable[scrapy.Request]:
        """Read `url` as a sitemap if it looks like one, else find the sitemaps in robots.txt."""
        path = urlsplit(url).path.lower()
        if path.endswith((".xml", ".xml.gz", ".gz")):
            yield from self.listing(url, self.parse_sitemap, entry_point=True)
        else:
            yield from self.listing(
                urljoin(url, "/robots.txt"),
                self.parse_robots,
                entry_point=True,
                dont_obey_robotstxt=True,
            )

    def parse_robots(self, response: Response, **kwargs: Any) -> Iterable[scrapy.Request]:
        """The sitemaps robots.txt names, or /sitemap.xml when it names none."""
        sitemaps = sitemaps_from_robots(response.body, response.url)
        for url in sitemaps or [urljoin(response.url, "/sitemap.xml")]:
            yield from self.listing(url, self.parse_sitemap, entry_point=not sitemaps)

    def parse_sitemap(self, response: Response, **kwargs: Any) -> Iterable[scrapy.Request]:
        """Child sitemaps of an index, or the posts of a urlset."""
        limit = self.settings.getint("DOWNLOAD_MAXSIZE")
        try:
            sitemap = parse_sitemap(response.body, response.url, max_bytes=limit)
        except SitemapError as exc:
            yield from self.listing_problem(response.request, str(exc))
            return
        self.crawler.stats.inc_value("wa/listing_pages")
        if sitemap.kind == "urlset":
            yield from self.article_requests(sitemap.entries)
            return
        for child in sitemap.entries:
            if self.last_success and child.updated and child.updated < self.last_success:
                self.crawler.stats.inc_value("wa/sitemaps_unchanged")
                continue
            yield from self.listing(child.url, self.parse_sitemap)
