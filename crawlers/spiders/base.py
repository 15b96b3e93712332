"""What every source spider shares: article requests with their listing metadata, captures
of responses and failures, and bounded, fault-tolerant listing requests.

A source's listings are all read before any of its posts is fetched: the posts they list
wait in a buffer, merged per URL (one URL listed by a news sitemap without a date and by a
posts sitemap with one takes the newest date), and go out when the spider first runs out
of work. Only then does the spider know whether its listing was complete, which it needs
to say `partial` instead of `ok`, and to notice posts that left the listing (deleted,
unpublished): those are fetched once more, and a 404 or 410 marks them gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.core.clock import iso_date, now_iso
from archive.core.entries import Entry
from archive.core.items import SKIPPED, UNCHANGED, Capture
from archive.storage.session import session_of
from crawlers.extensions.runstats import TRANSIENT_ERRORS
from crawlers.handlers import WIRE_HEAD
from crawlers.middlewares.capture import (
    capture_failure,
    capture_response,
    classify_failure,
    header_pairs,
)
from crawlers.sources import Source

LISTING_OVERLAP = timedelta(days=1)
Fallbacks = tuple[str, Callable[..., Any]] | list[tuple[str, Callable[..., Any]]] | None


def request_of(response: Response) -> scrapy.Request:
    """The request `response` answers (Scrapy sets it before any callback sees the response)."""
    if response.request is None:
        raise ValueError(f"the response from {response.url} has no request")
    return response.request


class SourceSpider(scrapy.Spider):
    """Base of the per-kind spiders: one configured source per crawler.

    In the checkout: `scrapy crawl KIND -a url=URL [-a source_name=NAME] [-a since=DATE]`.
    """

    def __init__(
        self,
        source: Source | None = None,
        url: str | None = None,
        source_name: str | None = None,
        since: str | None = None,
        max_pages: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if source is None:
            if not url:
                raise ValueError(f"the {self.name} spider needs -a url=URL")
            source = Source(name=source_name or self.name, url=url, kind=self.name)
        self.source = source
        self.since = iso_date(since)
        self.max_pages = int(max_pages) if max_pages not in (None, "") else source.max_pages
        self.via = self.name
        self._discovered: set[str] = set()
        self._listing_pages = 0
        self._listings_requested: set[tuple[str, str]] = set()
        # Posts listed and not yet requested, by URL (see the module docstring).
        self._listed: dict[str, Entry] = {}
        # Every URL this run's listings named, and the listings that were skipped as
        # unchanged (their posts count as listed).
        self._seen_listed: set[str] = set()
        self.unchanged_listings: set[str] = set()
        # Why this run's listing may have missed posts: the run is then `partial`.
        self.partial_reasons: list[str] = []
        self._gone_checked = False

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SourceSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        return spider

    # -- the end of the listings ------------------------------------------------------------

    def spider_idle(self) -> None:
        """Out of work: schedule what comes next (more listings, the buffered posts, the
        posts that left the listing), if anything."""
        requests = list(self.when_idle())
        if not requests:
            return
        for request in requests:
            self.crawler.engine.crawl(request)
        raise DontCloseSpider

    def when_idle(self) -> Iterator[scrapy.Request]:
        """What to fetch once everything requested so far is done: listings a kind reads
        only when the others fell short (overridden), then the posts listed."""
        if self._listed:
            yield from self.release_listed()
        elif not self._gone_checked:
            self._gone_checked = True
            yield from self.left_the_listing()

    def release_listed(self) -> Iterator[scrapy.Request]:
        """Requests for the buffered posts, within --since and max_pages."""
        listed, self._listed = self._listed, {}
        for entry in listed.values():
            request = self.article_request(self.finish_entry(entry))
            if request is not None:
                yield request

    def finish_entry(self, entry: Entry) -> Entry:
        """An entry as it goes out; kinds that learn more after listing fill it in here."""
        return entry

    def note_partial(self, reason: str) -> None:
        """This run's listing may have missed posts, and why."""
        if reason not in self.partial_reasons:
            self.logger.warning("%s: listing incomplete: %s", self.source.name, reason)
            self.partial_reasons.append(reason)

    @property
    def listing_complete(self) -> bool:
        """Whether every listing was read, so that a post missing from it has left it."""
        return not self.partial_reasons

    def left_the_listing(self) -> Iterator[scrapy.Request]:
        """One more fetch of each post a complete listing named last time and not now: a
        404 or 410 then marks it gone."""
        if not self._seen_listed or not self.listing_complete or self.since:
            return
        catalog = session_of(self.crawler).catalog
        dropped = catalog.left_listing(self.source.name, self._seen_listed, self.unchanged_listings)
        for url in dropped:
            self.crawler.stats.inc_value("wa/left_listing")
            yield scrapy.Request(
                url,
                callback=self.parse_article,
                errback=self.article_failed,
                meta={"wa_article": True, "wa_input": url, "wa_recheck": True},
                dont_filter=True,
            )

    # -- articles ---------------------------------------------------------------------------

    def article_requests(self, entries: Iterable[Entry], via: str) -> Iterable[scrapy.Request]:
        """Keep the posts the listing `via` named, merged per URL, until every listing is
        read (see the module docstring); nothing is requested yet."""
        for entry in entries:
            entry = replace(entry, listed_via=via)
            self._seen_listed.add(entry.url)
            if entry.url in self._discovered:
                continue
            known = self._listed.get(entry.url)
            self._listed[entry.url] = entry if known is None else known.merged(entry)
        return ()

    def article_request(self, entry: Entry, **request_args: Any) -> scrapy.Request | None:
        """The request for one listed post, or None when it is out of bounds or listed twice."""
        if entry.url in self._discovered:
            return None
        if self.since and entry.published and entry.published < self.since:
            self._discovered.add(entry.url)  # listed, so discovered; skipped, not fetched
            self.crawler.stats.inc_value("wa/discovered")
            self.crawler.stats.inc_value("wa/older_than_since")
            return None
        if self.max_pages is not None and len(self._discovered) >= self.max_pages:
            self.crawler.stats.inc_value("wa/over_max_pages")
            self.note_partial(f"max_pages ({self.max_pages}) reached")
            return None
        self._discovered.add(entry.url)
        self.crawler.stats.inc_value("wa/discovered")
        return scrapy.Request(
            entry.url,
            callback=self.parse_article,
            errback=self.article_failed,
            meta={
                "wa_article": True,
                "wa_input": entry.url,
                "wa_entry": entry.as_meta(),
                "handle_httpstatus_list": [304],
            },
            **request_args,
        )

    def parse_article(self, response: Response, **kwargs: Any) -> Iterable[Capture]:
        """One Capture per article response (a 304 is settled as unchanged)."""
        if response.status == 304:
            capture = Capture(
                input_url=response.meta.get("wa_input", response.url),
                url=response.url,
                source=self.source.name,
                status_code=304,
                headers=header_pairs(response.headers),
                request_headers=header_pairs(request_of(response).headers),
                wire_head=response.meta.get(WIRE_HEAD),
                fetched_at=now_iso(),
            ).settle(UNCHANGED, "not modified (HTTP 304)")
            capture.article_id = response.meta.get("wa_known_article")
        else:
            capture = capture_response(response, self.source.name)
        capture.entry = response.meta.get("wa_entry")
        yield capture

    def article_failed(self, failure: Failure) -> Iterable[Capture]:
        """One settled Capture per article that could not be fetched."""
        capture = capture_failure(failure, self.source.name)
        request = getattr(failure, "request", None)
        if isinstance(failure.value, HttpError):
            capture.status_code = failure.value.response.status
            if capture.status_code in (404, 410) and request and request.meta.get("wa_recheck"):
                capture.settle(
                    SKIPPED, f"gone: HTTP {capture.status_code} after leaving the listing"
                )
        if request is not None:
            capture.entry = request.meta.get("wa_entry")
            if capture.status == UNCHANGED:
                capture.article_id = request.meta.get("wa_known_article")
        yield capture

    @cached_property
    def last_success(self) -> str | None:
        """last_good_crawl(), read once. A property, not state set by one callback for
        another: with many workers on one frontier, any worker may run any callback."""
        return self.last_good_crawl()

    def last_good_crawl(self) -> str | None:
        """A day before the start of the last crawl that read this source completely, with
        no post failing for a reason that may go away (None: never). The day of overlap
        absorbs clock skew and late-dated listings; the ledger keeps the overlap from being
        fetched twice."""
        started = session_of(self.crawler).catalog.last_success(self.source.name, TRANSIENT_ERRORS)
        if started is None:
            return None
        return (datetime.fromisoformat(started) - LISTING_OVERLAP).isoformat(timespec="seconds")

    # -- listings (feeds, sitemaps, API pages, archive pages) -------------------------------

    def listing(
        self,
        url: str,
        callback: Callable[..., Any],
        fallback: Fallbacks = None,
        entry_point: bool = False,
        dont_filter: bool = False,
        **meta: Any,
    ) -> Iterator[scrapy.Request]:
        """The request for a listing page, unless the per-source listing budget is spent.

        `fallback` is tried when this listing fails (the Atom feed when Blogger's JSON feed
        fails, the feed when WordPress's API does; a list is tried in order, as the usual
        sitemap locations are); `entry_point` marks the request whose failure, with nothing
        discovered, means the whole source failed. Entry points are read again by a resumed
        run (a job dir's seen-set would skip them) so nothing new is missed.
        """
        key = (url, callback.__name__)
        if key in self._listings_requested:
            # A listing that names itself or an ancestor (a sitemap index, a feed's next page)
            # is a loop. The dupe filter cannot tell: entry points are requested with
            # dont_filter, so it never records them.
            self.crawler.stats.inc_value("wa/listings_repeated")
            return
        self._listings_requested.add(key)
        budget = self.settings.getint("WIREARCHIVE_MAX_LISTING_PAGES")
        if self._listing_pages >= budget:
            self.crawler.stats.inc_value("wa/over_listing_budget")
            self.note_partial(f"the listing budget ({budget} pages) was spent")
            return
        self._listing_pages += 1
        meta |= {"wa_entry_point": entry_point, "wa_listing": url}
        if fallback:
            chain = [fallback] if isinstance(fallback, tuple) else fallback
            meta["wa_fallback"] = [(u, cb.__name__) for u, cb in chain]
        yield scrapy.Request(
            url,
            callback=callback,
            errback=self.listing_failed,
            meta=meta,
            dont_filter=dont_filter or entry_point,
        )

    def listing_failed(self, failure: Failure) -> Iterable[scrapy.Request]:
        """Log a failed listing; try its fallback; mark the source failed at its entry point."""
        request = failure.request  # type: ignore[attr-defined]
        _, reason = classify_failure(failure)
        yield from self.listing_problem(request, reason)

    def listing_problem(self, request: scrapy.Request, reason: str) -> Iterable[scrapy.Request]:
        """Handle a listing that failed or could not be parsed."""
        fallbacks = request.meta.get("wa_fallback")
        quiet = fallbacks or request.meta.get("wa_optional")
        log = self.logger.info if quiet else self.logger.warning
        log("%s: listing %s failed: %s", self.source.name, request.url, reason)
        self.crawler.stats.inc_value("wa/listing_errors")
        if fallbacks:
            (url, callback_name), *rest = fallbacks
            self.logger.info("%s: falling back to %s", self.source.name, url)
            self.via = f"{self.via} -> fallback {url}"
            yield from self.listing(
                url,
                getattr(self, callback_name),
                fallback=[(u, getattr(self, cb)) for u, cb in rest],
                entry_point=bool(request.meta.get("wa_entry_point")),
                **{
                    k: v
                    for k, v in request.meta.items()
                    if k in ("handle_httpstatus_list", "wa_optional")
                },
            )
            return
        if request.meta.get("wa_optional"):
            return  # a listing the site may well not have (auto's sitemap probes)
        if request.meta.get("wa_entry_point"):
            self.crawler.stats.set_value("wa/entry_point_failed", f"{request.url}: {reason}")
        self.note_partial(f"listing {request.url} failed: {reason}")
