"""The `sitemap` spider: robots.txt -> sitemap indexes -> (gzipped) sitemaps and news
sitemaps, skipping child sitemaps whose lastmod is older than the last good crawl."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response

from crawlers.listings.sitemaps import SitemapError, parse_sitemap, sitemaps_from_robots
from crawlers.spiders.base import SourceSpider, request_of
from crawlers.spiders.site import page_kind

USUAL_SITEMAPS = ("sitemap.xml", "sitemap_index.xml", "wp-sitemap.xml", "sitemap-index.xml")
# Child sitemaps of platforms that list no posts: WordPress core's and Yoast's sitemaps of
# categories, tags and authors (and of pages, read only with `pages = true`).
TERM_SITEMAPS = re.compile(
    r"(wp-sitemap-(taxonomies|users)-|(^|/)(category|post_tag|author)-sitemap\d*\.xml"
    r"|sitemap=(taxonomies|users)\b)"
)
PAGE_SITEMAPS = re.compile(
    r"(wp-sitemap-posts-page-|(^|/)page-sitemap\d*\.xml|sitemap=posts&sitemap-subtype=page)"
)


def usual_sitemap_urls(site: str) -> list[str]:
    """Where sitemaps usually are when robots.txt names none (Hugo publishes no robots.txt;
    WordPress's own sitemap is wp-sitemap.xml, or ?sitemap=index without pretty permalinks):
    under the site's path, then the host's root."""
    folder = site if site.endswith("/") else site.rsplit("/", 1)[0] + "/"
    urls = [urljoin(folder, name) for name in USUAL_SITEMAPS]
    urls += [urljoin(site, "/" + name) for name in USUAL_SITEMAPS]
    return [*urls, urljoin(folder, "?sitemap=index")]


def looks_like_sitemap(url: str) -> bool:
    """A URL to read as a sitemap itself rather than the site's home."""
    parts = urlsplit(url)
    return parts.path.lower().endswith((".xml", ".xml.gz", ".gz")) or "sitemap=" in parts.query


class SitemapSpider(SourceSpider):
    """Fetch every post a site's sitemaps list (or those changed since the last good crawl)."""

    name = "sitemap"
    sitemaps_read = 0  # sitemap documents parsed in this run

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.sitemap_start(self.source.url):
            yield request

    def sitemap_start(self, url: str) -> Iterable[scrapy.Request]:
        """Read `url` as a sitemap if it looks like one, else find the sitemaps in robots.txt."""
        if looks_like_sitemap(url):
            yield from self.listing(url, self.parse_sitemap, entry_point=True)
        else:
            yield from self.listing(
                urljoin(url, "/robots.txt"),
                self.parse_robots,
                entry_point=True,
                dont_obey_robotstxt=True,
                handle_httpstatus_list=[401, 403, 404, 410],
                wa_site=url,
            )

    def parse_robots(self, response: Response, **kwargs: Any) -> Iterable[scrapy.Request]:
        """The sitemaps robots.txt names, or else the first of the usual locations."""
        sitemaps = (
            sitemaps_from_robots(response.body, response.url) if response.status == 200 else []
        )
        optional = response.meta.get("wa_optional", False)
        if sitemaps:
            for url in sitemaps:
                yield from self.listing(url, self.parse_sitemap, wa_optional=optional)
            return
        first, *rest = dict.fromkeys(usual_sitemap_urls(response.meta["wa_site"]))
        yield from self.listing(
            first,
            self.parse_sitemap,
            fallback=[(url, self.parse_sitemap) for url in rest],
            entry_point=not optional,
            handle_httpstatus_list=[404],
            wa_optional=optional,
        )

    def parse_sitemap(self, response: Response, **kwargs: Any) -> Iterable[scrapy.Request]:
        """Child sitemaps of an index, or the posts of a urlset."""
        if response.status == 404:
            yield from self.listing_problem(request_of(response), "HTTP 404")
            return
        limit = self.settings.getint("DOWNLOAD_MAXSIZE")
        try:
            sitemap = parse_sitemap(response.body, response.url, max_bytes=limit)
        except SitemapError as exc:
            yield from self.listing_problem(request_of(response), str(exc))
            return
        self.crawler.stats.inc_value("wa/listing_pages")
        self.sitemaps_read += 1
        if sitemap.kind == "urlset":
            # Sitemaps of Hugo, Pelican and WordPress list the home page, term, author and
            # pagination pages too: listings by their URL, never fetched as articles.
            posts = [e for e in sitemap.entries if page_kind(e.url) != "listing"]
            self.crawler.stats.inc_value(
                "wa/listing_urls_skipped", len(sitemap.entries) - len(posts)
            )
            yield from self.article_requests(posts, via=response.meta["wa_listing"])
            return
        for child in sitemap.entries:
            if TERM_SITEMAPS.search(child.url) or (
                PAGE_SITEMAPS.search(child.url) and not self.source.pages
            ):
                self.crawler.stats.inc_value("wa/sitemaps_of_terms")
                self.unchanged_listings.add(child.url)  # its URLs are not gone, only unread
                continue
            if self.last_success and child.updated and child.updated < self.last_success:
                self.crawler.stats.inc_value("wa/sitemaps_unchanged")
                self.unchanged_listings.add(child.url)
                continue
            yield from self.listing(child.url, self.parse_sitemap)
