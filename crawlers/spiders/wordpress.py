"""The `wordpress` spider: the REST API where the site says it is, else its feed, paged.

Every run lists every published post, 100 to an API page and only the fields that matter
(`_fields=id,link,date_gmt,modified_gmt,...`): a post created with a past date or published
late from a schedule carries an old modified date, so a `modified_after` window would miss
it for ever. The ledger then skips the posts whose modified date it has already archived,
so an unchanged rerun costs the listing pages (1% of the posts) and no post page. Authors,
categories and tags are listed by id; the names come from the users, categories and tags
lists, read in the same run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response

from archive.core.entries import Entry, unique
from crawlers.listings.platforms import (
    PlatformError,
    WordPressRefs,
    discover,
    parse_wordpress_listing,
    parse_wordpress_names,
    parse_wordpress_site,
    wordpress_api_from_links,
    wordpress_posts_url,
    wordpress_route_url,
)
from crawlers.spiders.base import Fallbacks, request_of
from crawlers.spiders.feed import FeedSpider

PAGE_SIZE = 100  # the API's maximum per_page
POST_FIELDS = "id,link,date_gmt,modified_gmt,author,categories,tags,title,content.protected"
LOOKUPS = {"users": "/wp/v2/users", "categories": "/wp/v2/categories", "tags": "/wp/v2/tags"}


def site_root(url: str) -> str:
    """The source URL as a folder, so that relative paths stay under a blog's prefix."""
    return url if url.endswith("/") else url + "/"


class WordPressSpider(FeedSpider):
    """Read every published post (and page, with `pages = true`) from the API."""

    name = "wordpress"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wp_refs: dict[str, WordPressRefs] = {}
        self._wp_names: dict[str, dict[int, str]] = {name: {} for name in LOOKUPS}
        self._wp_sitename: str | None = None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.listing(self.source.url, self.parse_wordpress_home, entry_point=True):
            yield request

    def parse_wordpress_home(self, response: Response, **kwargs: Any) -> Iterable[scrapy.Request]:
        """Find the API root the site advertises (`Link` header or `<link>`), and its feed."""
        found = discover(response.body, response.url) if hasattr(response, "text") else None
        api = wordpress_api_from_links(
            [v.decode("latin-1") for v in response.headers.getlist(b"Link")], response.url
        ) or (found.wordpress_api if found else None)
        feed = found.feeds[0][0] if found and found.feeds else None
        yield from self.wordpress_start(
            api or urljoin(site_root(self.source.url), "wp-json/"), response.url, feed
        )

    def wordpress_start(
        self, api_root: str, home: str, feed: str | None = None
    ) -> Iterable[scrapy.Request]:
        """Requests that read the site's name, its posts (and pages) and the names of its
        authors, categories and tags from the API at `api_root`; the feed if it fails."""
        self.via = f"wordpress ({api_root})"
        fallback: Fallbacks = (feed or urljoin(site_root(home), "feed/"), self.parse_feed)
        routes = ["/wp/v2/posts"] + (["/wp/v2/pages"] if self.source.pages else [])
        for route in routes:
            yield from self.listing(
                wordpress_posts_url(api_root, 1, PAGE_SIZE, route=route, fields=POST_FIELDS),
                self.parse_wordpress,
                fallback=fallback,
                entry_point=True,
                wa_api=api_root,
                wa_route=route,
            )
            fallback = None  # one feed stands in for posts and pages alike
        yield self._lookup(wordpress_route_url(api_root, "/", [("_fields", "name")]), "site")
        for name, route in LOOKUPS.items():
            yield self._lookup(self._names_url(api_root, route, 1), name, wa_api=api_root)

    def parse_wordpress(self, response: Response, **kwargs: Any) -> Iterable[scrapy.Request]:
        """Posts from one API page; the first page schedules all the others."""
        try:
            listed = parse_wordpress_listing(response.body)
        except PlatformError as exc:
            yield from self.listing_problem(request_of(response), str(exc))
            return
        self.crawler.stats.inc_value("wa/listing_pages")
        for entry, refs in listed:
            self._wp_refs[entry.url] = refs
        yield from self.article_requests(
            [entry for entry, _ in listed], via=response.meta["wa_listing"]
        )
        if response.meta.get("wa_page", 1) != 1:
            return
        for page in range(2, _total_pages(response) + 1):
            yield from self.listing(
                wordpress_posts_url(
                    response.meta["wa_api"],
                    page,
                    PAGE_SIZE,
                    route=response.meta["wa_route"],
                    fields=POST_FIELDS,
                ),
                self.parse_wordpress,
                wa_page=page,
                wa_api=response.meta["wa_api"],
                wa_route=response.meta["wa_route"],
            )

    def _lookup(self, url: str, name: str, **meta: Any) -> scrapy.Request:
        """A request for names (metadata only: its failure costs names, not posts)."""
        return scrapy.Request(
            url,
            callback=self.parse_names,
            errback=self.lookup_failed,
            meta={"wa_lookup": name, "handle_httpstatus_list": [401, 403, 404], **meta},
            dont_filter=True,  # read again by a resumed run: the names are not kept
        )

    @staticmethod
    def _names_url(api_root: str, route: str, page: int) -> str:
        params = [("per_page", str(PAGE_SIZE)), ("page", str(page)), ("_fields", "id,name")]
        return wordpress_route_url(api_root, route, params)

    def parse_names(self, response: Response, **kwargs: Any) -> Iterable[scrapy.Request]:
        """The site's name, or one page of user, category or tag names."""
        name = response.meta["wa_lookup"]
        if response.status != 200:
            self.logger.info("%s: no %s from %s (HTTP %s)", self.source.name, name,
                             response.url, response.status)  # fmt: skip
            return
        try:
            if name == "site":
                self._wp_sitename = parse_wordpress_site(response.body)
                return
            self._wp_names[name].update(parse_wordpress_names(response.body))
        except PlatformError as exc:
            self.logger.info("%s: no %s: %s", self.source.name, name, exc)
            return
        if response.meta.get("wa_page", 1) == 1:
            for page in range(2, _total_pages(response) + 1):
                url = self._names_url(response.meta["wa_api"], LOOKUPS[name], page)
                yield self._lookup(url, name, wa_api=response.meta["wa_api"], wa_page=page)

    def lookup_failed(self, failure: Any) -> None:
        self.logger.info("%s: a names lookup failed: %s", self.source.name, failure.value)

    def finish_entry(self, entry: Entry) -> Entry:
        """The listed ids as names, and the site's name."""
        refs = self._wp_refs.get(entry.url)
        if refs is None:
            return super().finish_entry(entry)
        users, categories, tags = (self._wp_names[n] for n in LOOKUPS)
        return replace(
            entry,
            author=entry.author or users.get(refs.author or 0),
            categories=unique([categories[i] for i in refs.categories if i in categories]),
            tags=unique([tags[i] for i in refs.tags if i in tags]),
            sitename=entry.sitename or self._wp_sitename,
        )


def _total_pages(response: Response) -> int:
    try:
        return max(1, int(response.headers.get(b"X-WP-TotalPages") or b"1"))
    except ValueError:
        return 1
