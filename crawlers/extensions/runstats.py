"""Per-source counts of a crawl, kept in the catalog's `crawl_sources` table."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections import Counter
from typing import TYPE_CHECKING, Any

from scrapy import signals

from archive.core.clock import now_iso
from archive.core.items import ARCHIVED, DUPLICATE, FAILED, REFUSED, SKIPPED, UNCHANGED, Capture
from archive.storage.catalog import OUTCOME_COUNTS
from archive.storage.session import session_of

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

# The outcomes of a post that the archive now holds, or knows it need not fetch.
SETTLED_COUNTS = (
    "not_modified", "skipped", "new_articles", "revisions", "duplicates", "unchanged",
)  # fmt: skip

# Reason prefixes -> error kinds, first match wins.
ERROR_KINDS = (
    ("HTTP 4", "http_4xx"),
    ("HTTP 5", "http_5xx"),
    ("DNS", "dns"),
    ("timed out", "timeout"),
    ("connection", "connection"),
    ("broken response", "connection"),
    ("truncated", "connection"),
    ("disallowed by robots.txt", "robots"),
    ("not HTML", "not_html"),
    ("body over the size limit", "too_large"),
    ("no extractable", "no_text"),
    ("crawl trap", "trap"),
    ("extraction", "extraction"),
    ("archiving", "archive"),
)

# Error kinds that may go away on their own: a post that failed so is tried again, so no
# listing window (Catalog.last_success) moves past it.
TRANSIENT_ERRORS = ("http_5xx", "dns", "timeout", "connection", "extraction", "archive", "other")


def error_kind(status: str, reason: str | None) -> str:
    """The kind of error a failed or refused outcome is, for the per-source counts."""
    if status == REFUSED:
        return "refused"
    for prefix, kind in ERROR_KINDS:
        if (reason or "").startswith(prefix):
            return kind
    return "other"


class CrawlRecorder:
    """Count each source's outcomes and write them when its crawler closes."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.started_at = now_iso()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRecorder:
        recorder = cls(crawler)
        crawler.signals.connect(recorder.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(recorder.item_error, signal=signals.item_error)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def item_scraped(self, item: Any, **_: Any) -> None:
        if not isinstance(item, Capture):
            return
        fetched = item.status_code is not None and item.status_code != 304
        if item.status_code == 304:
            self.counts["not_modified"] += 1
        elif fetched:
            self.counts["fetched"] += 1
        if item.status in (FAILED, REFUSED):
            self.counts["failed"] += 1
            self.errors[error_kind(item.status, item.reason)] += 1
        elif item.status == SKIPPED:
            self.counts["skipped"] += 1  # not an article, or gone after leaving the listing
        elif item.status == UNCHANGED:
            if fetched:
                self.counts["unchanged"] += 1  # fetched, same text (304s are counted above)
            elif item.status_code is None:
                self.counts["skipped"] += 1  # not fetched at all: the listing said unchanged
        elif item.revision_of:
            self.counts["revisions"] += 1
        elif item.status == DUPLICATE:
            self.counts["duplicates"] += 1
        elif item.status == ARCHIVED:
            self.counts["new_articles"] += 1

    def item_error(self, item: Any, failure: Failure, **_: Any) -> None:
        self.counts["failed"] += 1
        self.errors["archive"] += 1

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Record how the source ended in `crawl_sources`; the row is also kept in the stats
        (`wa/source_row`), for the summary of a run whose catalog cannot be written (a full
        disk)."""
        stats = self.crawler.stats
        # Listed posts older than --since were skipped without a fetch.
        self.counts["skipped"] += stats.get_value("wa/older_than_since", 0)
        status, why = self._verdict(reason)
        row = {
            "source": spider.source.name,  # type: ignore[attr-defined]
            "kind": spider.name,
            "via": getattr(spider, "via", spider.name),
            "status": status,
            "reason": why,
            "discovered": stats.get_value("wa/discovered", 0),
            **{k: self.counts[k] for k in OUTCOME_COUNTS},
            "errors": dict(self.errors),
            "started_at": self.started_at,
            "finished_at": now_iso(),
        }
        stats.set_value("wa/source_row", row)
        catalog = session_of(self.crawler).catalog
        try:
            given_id = self.crawler.settings.getint("WIREARCHIVE_CRAWL_ID")
            own_crawl = not given_id  # run by `scrapy crawl`, not `wirearchive crawl`
            crawl_id = given_id or catalog.start_crawl(self.started_at, os.getpid(), None)
            catalog.record_crawl_source({"crawl_id": crawl_id, **row})
            if own_crawl:
                catalog.finish_crawl(crawl_id, now_iso(), status)
        except sqlite3.Error as exc:
            logger.error("could not record how source %s ended: %s", row["source"], exc)

    def _verdict(self, reason: str) -> tuple[str, str | None]:
        """ok, partial (its listing is cut), failed (the source as a whole) or interrupted,
        with why."""
        if reason != "finished":
            return "interrupted", reason
        entry_failed = self.crawler.stats.get_value("wa/entry_point_failed")
        discovered = self.crawler.stats.get_value("wa/discovered", 0)
        if entry_failed and not discovered:
            return "failed", entry_failed
        settled = sum(self.counts[k] for k in SETTLED_COUNTS)
        if (discovered or self.counts["failed"]) and not settled:
            # An HTTP error counts as fetched: what matters is that nothing got archived.
            if self.counts["failed"]:
                return "failed", "every page failed"
            return "failed", f"none of the {discovered} posts discovered was archived"
        partial = getattr(self.crawler.spider, "partial_reasons", None)
        if partial:
            return "partial", "; ".join(partial)
        return "ok", None
