"""Pipeline stage 2: one identity per article, and duplicates found before anything is stored.

Stages, in order: identity (canonical URL -> article id); unchanged (same article, same text
and headline: nothing to store; a new text or headline of a known article is a revision);
exact (same normalised text under another id -> `duplicate_of`); near-duplicate (MinHash
LSH clusters of reposts, pipelines/neardup.py). The near-duplicate assignment runs in the
archive stage, right before
the catalog row is written and with no await in between: a cluster may then only name
articles that are archived, and two copies of one story in flight at once cannot both found
a cluster.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from archive.core.items import SKIPPED, UNCHANGED, Capture
from archive.storage.catalog import Catalog
from archive.storage.documents import article_version
from archive.storage.session import ArchiveSession, session_of
from pipelines.identity import article_id, canonical_url, content_sha256
from pipelines.runstate import run_state
from pipelines.sharedindex import SharedArticles

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class DedupPipeline:
    """Give each capture its article id and content hash; settle unchanged re-captures."""

    def __init__(
        self,
        session: ArchiveSession,
        redis_url: str | None = None,
        crawler: Crawler | None = None,
    ) -> None:
        self.session = session
        self.crawler = crawler
        self.since: str | None = None  # the spider's --since, read when it opens
        self.catalog: Catalog | None = None
        self.state = run_state(session)
        # With many crawler processes, what other processes archived is asked of Redis.
        self.shared: SharedArticles | None = self.state.shared_articles(redis_url)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        settings = crawler.settings
        return cls(session_of(crawler), settings.get("WIREARCHIVE_REDIS") or None, crawler)

    def open_spider(self) -> None:
        self.catalog = self.session.catalog
        spider = self.crawler.spider if self.crawler is not None else None
        self.since = getattr(spider, "since", None)

    def close_spider(self) -> None:
        self.catalog = None  # the session's: closed with it, at the end of the run

    def process_item(self, item: Capture) -> Capture:
        if item.status is not None or item.article is None:
            return item
        published = item.article.get("published")
        if self.since and published_before(published, self.since):
            # Listings without dates (sitemaps, archive pages) cannot tell before the fetch.
            item.remember = False
            return item.settle(SKIPPED, f"published {published}, before --since {self.since[:10]}")
        self._identify(item)
        known = self._known_version(item)
        if item.article.get("protected"):
            # The page is a password form: the last public text stays the current version.
            if known is None:
                return item.settle(SKIPPED, "password protected: no public text to archive")
            item.protected = True
            return item.settle(UNCHANGED, "password protected: the archived text stays current")
        if known == item.version:
            return item.settle(UNCHANGED)
        item.revision_of = known
        self._exact(item)
        assert item.article_id and item.content_sha256 and item.version
        self.state.version_of_id[item.article_id] = item.version
        self.state.id_of_hash.setdefault(item.content_sha256, item.article_id)
        return item

    def _identify(self, item: Capture) -> None:
        assert item.article is not None
        item.canonical_url = canonical_url(item.url, item.article.get("canonical_hint"))
        item.article_id = article_id(item.canonical_url)
        item.content_sha256 = item.article.get("content_sha256") or content_sha256(
            item.article["text"]
        )
        item.version = article_version(item.article.get("title"), item.content_sha256)

    def _known_version(self, item: Capture) -> str | None:
        """The version this article has in the archive (None for a new article)."""
        assert self.catalog is not None and item.article_id
        known = self.state.version_of_id.get(item.article_id)
        if known is None and self.shared is not None:
            known = self.shared.known_version(item.article_id)
        if known is None:
            row = self.catalog.article(item.article_id)
            known = article_version(row["title"], row["content_sha256"]) if row else None
        return known

    def _exact(self, item: Capture) -> None:
        assert self.catalog is not None and item.content_sha256 and item.article_id
        original = self.state.id_of_hash.get(item.content_sha256)
        if original is None and self.shared is not None:
            original = self.shared.claim(item.content_sha256, item.article_id)
        if original is None:
            row = self.catalog.original_with_hash(item.content_sha256)
            original = row["id"] if row else None
        if original is not None and original != item.article_id:
            item.duplicate_of = original


def published_before(published: str | None, since: str) -> bool:
    """Whether an article's `published` (an ISO UTC datetime or a YYYY-MM-DD day) is before
    `since` (an ISO UTC datetime); False when it is unknown or unreadable."""
    if not published:
        return False
    try:
        when = datetime.fromisoformat(published.replace("Z", "+00:00"))
    except ValueError:
        return False
    start = datetime.fromisoformat(since)
    if len(published) == 10:  # a day: kept when it is the day of `since`
        return when.date() < start.astimezone(UTC).date()
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when < start
