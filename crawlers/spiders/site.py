"""The `site` spider: follow a site's archive and listing pages (monthly archives, ?page=N,
/page/N/, categories and labels) within its host to a bounded depth, fetching the posts they
link."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor

from archive.core.entries import Entry
from crawlers.spiders.base import SourceSpider

LISTING = re.compile(
    r"(^/$|/\d{4}/(\d{2}/)?$|/\d{4}/\d{2}/\d{2}/$|[?&](page|paged|start|offset)=\d+"
    r"|/page/\d+/?$|/(category|categories|tag|tags|label|archive|archives|calendar|author"
    r"|authors)(/|$)|/search/label/|/(posts|blog|news|articles)/$|/index\d*\.html?$"
    r"|/(archives|tags|categories|authors)\.html?$)"
)
POST = re.compile(
    r"(\.html?$|/\d{4}/\d{2}/(\d{2}/)?[^/]+/?$|/(posts?|news|articles?|blog)/[^/]+/?$)"
)


def page_kind(url: str) -> str | None:
    """'listing', 'post', or None for a link that is neither (about pages, login...)."""
    parts = urlsplit(url)
    path_query = parts.path + (f"?{parts.query}" if parts.query else "")
    if LISTING.search(path_query):
        return "listing"
    if POST.search(parts.path):
        return "post"
    return None


class SiteSpider(SourceSpider):
    """Crawl listing pages from the source URL, at most `depth` links deep."""

    name = "site"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.site_start(self.source.url):
            yield request

    def site_start(self, url: str, again: bool = False) -> Iterable[scrapy.Request]:
        """Requests that start the walk of the site's listings at `url` (`again`: that page
        was already fetched once in this run, for discovery)."""
        yield from self.listing(
            url, self.parse_listing, entry_point=True, dont_filter=again, wa_depth=0
        )

    def parse_listing(self, response: Response, **kwargs: Any) -> Iterable[scrapy.Request]:
        """Posts linked from a listing page, and deeper listing pages."""
        if not isinstance(response, TextResponse):
            return
        self.crawler.stats.inc_value("wa/listing_pages")
        depth = response.meta.get("wa_depth", 0)
        max_depth = self.source.depth
        if max_depth is None:
            max_depth = self.settings.getint("WIREARCHIVE_SITE_DEPTH")
        site = urlsplit(response.url).netloc
        for link in LinkExtractor().extract_links(response):
            if urlsplit(link.url).netloc != site:
                continue
            kind = page_kind(link.url)
            if kind == "post":
                yield from self.article_requests(
                    [Entry(url=link.url)], via=response.meta["wa_listing"]
                )
            elif kind == "listing" and depth < max_depth:
                yield from self.listing(link.url, self.parse_listing, wa_depth=depth + 1)
