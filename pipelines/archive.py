"""Pipeline stage 3: store the raw capture (WARC) and the article (JSON), then index them.

Objects first, catalog row last: a row never points at an object that is not stored, and a
failure in between leaves only objects that a rerun writes again under the same keys. Every
outcome, archived or not, also updates the URL ledger that incremental crawls read.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from archive.catalog import Catalog
from archive.store import open_store
from archive.warc import capture_key, capture_warc, payload_sha256
from crawlers.capture import now_iso
from crawlers.items import ARCHIVED, DUPLICATE, FAILED, REFUSED, UNCHANGED, Capture
from pipelines.neardup import (
    DEFAULT_SHINGLE_SIZE,
    DEFAULT_THRESHOLD,
    NearDuplicateIndex,
    near_settings,
)
from pipelines.runstate import run_state

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from archive.store import ObjectStore


def article_key(article_id: str, content_sha256: str) -> str:
    """The object key of one text version of one article."""
    return f"articles/{article_id[:2]}/{article_id}/{content_sha256[:16]}.json"


class ArchivePipeline:
    """Write objects to the store (in threads), then the catalog rows (one transaction)."""

    def __init__(
        self,
        db_path: str,
        store_uri: str,
        threshold: float = DEFAULT_THRESHOLD,
        shingle_size: int = DEFAULT_SHINGLE_SIZE,
    ) -> None:
        self.db_path = db_path
        self.store_uri = store_uri
        self.near = (threshold, shingle_size)
        self.neardup: NearDuplicateIndex | None = None
        self.catalog: Catalog | None = None
        self.store: ObjectStore | None = None
        self._in_flight = run_state(db_path).in_flight

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        settings = crawler.settings
        return cls(
            settings.get("WIREARCHIVE_DB"),
            settings.get("WIREARCHIVE_STORE"),
            *near_settings(settings),
        )

    def open_spider(self) -> None:
        self.catalog = Catalog(self.db_path)
        self.store = open_store(self.store_uri)
        self.neardup = NearDuplicateIndex(self.catalog.db, *self.near)

    def close_spider(self) -> None:
        if self.catalog is not None:
            self.catalog.close()

    async def process_item(self, item: Capture) -> Capture:
        if item.status is None and item.article is not None:
            await self._archive_once(item)
            item.settle(DUPLICATE if item.duplicate_of else ARCHIVED)
        self._remember(item)
        return item

    async def _archive_once(self, item: Capture) -> None:
        assert item.article_id
        done = asyncio.get_running_loop().create_future()
        self._in_flight[item.article_id] = done
        try:
            await self._archive(item)
            done.set_result(True)
        except BaseException:
            done.set_result(False)
            self._remember(item.settle(FAILED, "archiving failed"))
            raise
        finally:
            if self._in_flight.get(item.article_id) is done:
                del self._in_flight[item.article_id]

    def _remember(self, item: Capture) -> None:
        """Keep what this fetch taught about its URL in the ledger, for the next crawl."""
        assert self.catalog is not None
        if item.status == REFUSED or not item.input_url.startswith(("http://", "https://")):
            return
        fetched = item.status_code is not None and item.status_code != 304
        ok = item.status in (ARCHIVED, DUPLICATE, UNCHANGED)
        headers = {k.lower(): v for k, v in item.headers} if fetched and ok else {}
        self.catalog.record_ledger(
            {
                "url": item.input_url,
                "source": item.source,
                "etag": headers.get("etag"),
                "last_modified": headers.get("last-modified"),
                "lastmod": (item.entry or {}).get("updated") if ok else None,
                "content_sha256": item.content_sha256 if ok else None,
                "article_id": item.article_id,
                "last_seen": item.fetched_at or now_iso(),
                "last_status": item.status,
                "http_status": item.status_code,
            }
        )

    async def _archive(self, item: Capture) -> None:
        assert self.catalog is not None and item.article_id and item.content_sha256
        if item.duplicate_of:
            await self._confirm_original(item)
        raw_key = capture_key(item)
        json_key = article_key(item.article_id, item.content_sha256)
        existing = self.catalog.article(item.article_id)
        row = article_row(item, raw_key, json_key, existing)
        document = article_document(row)
        await asyncio.to_thread(self._put_objects, item, raw_key, json_key, document)
        # The near-duplicate stage runs here, with no await before the row is written, so a
        # cluster only ever names archived articles (see pipelines/dedup.py).
        assert self.neardup is not None
        near = self.neardup.assign(item.article_id, item.article["text"], row["first_seen"])
        row |= {"cluster_id": near.cluster_id, "similarity": near.similarity}
        self.catalog.record(
            row, capture_row(item, raw_key), previous=existing, merged_clusters=near.merged
        )

    async def _confirm_original(self, item: Capture) -> None:
        """Point `duplicate_of` only at an archived article: if the original of this run failed
        to archive, fall back to another archived copy, or make this copy the original."""
        assert self.catalog is not None and item.duplicate_of and item.content_sha256
        pending = self._in_flight.get(item.duplicate_of)
        if pending is not None and await asyncio.shield(pending):
            return
        if pending is None and self.catalog.article(item.duplicate_of) is not None:
            return
        other = self.catalog.original_with_hash(item.content_sha256)
        item.duplicate_of = other["id"] if other and other["id"] != item.article_id else None

    def _put_objects(self, item: Capture, raw_key: str, json_key: str, document: bytes) -> None:
        assert self.store is not None
        self.store.put_if_absent(raw_key, capture_warc(item), "application/warc")
        self.store.put_if_absent(json_key, document, "application/json")


def article_document(row: dict[str, Any]) -> bytes:
    """The stored JSON of one article version: its row without the index-only fields."""
    record = {k: v for k, v in row.items() if k not in ("cluster_id", "similarity")}
    return json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")


def article_row(
    item: Capture, raw_key: str, json_key: str, existing: dict[str, Any] | None
) -> dict[str, Any]:
    """The `articles` row (and the stored JSON document) for an extracted capture."""
    article = item.article or {}
    listing = item.entry or {}
    return {
        "id": item.article_id,
        "url": item.url,
        "canonical_url": item.canonical_url,
        # The page's own metadata first; the feed's, sitemap's or API's where the page has none.
        "title": article.get("title") or listing.get("title"),
        "author": article.get("author") or listing.get("author"),
        "published": article.get("published") or (listing.get("published") or "")[:10] or None,
        "modified": article.get("modified"),
        "sitename": article.get("sitename"),
        "hostname": article.get("hostname"),
        "language": article.get("language"),
        "description": article.get("description"),
        "categories": article.get("categories") or [],
        "tags": article.get("tags") or [],
        "image": article.get("image"),
        "text": article["text"],
        "wire_source": article.get("wire_source"),
        "content_sha256": item.content_sha256,
        "duplicate_of": item.duplicate_of,
        "source": item.source,
        "first_seen": existing["first_seen"] if existing else item.fetched_at,
        "fetched_at": item.fetched_at,
        "raw_key": raw_key,
        "json_key": json_key,
        "extractor": article.get("extractor"),
        "guid": listing.get("guid"),
        "listing": listing or None,
    }


def capture_row(item: Capture, raw_key: str) -> dict[str, Any]:
    """The `captures` row for one fetch."""
    content_type = next((v for k, v in item.headers if k.lower() == "content-type"), None)
    return {
        "id": raw_key.rsplit("/", 1)[-1].removesuffix(".warc.gz"),
        "url": item.url,
        "input_url": item.input_url,
        "status_code": item.status_code,
        "content_type": content_type,
        "fetched_at": item.fetched_at,
        "payload_sha256": payload_sha256(item),
        "length": len(item.body),
        "warc_key": raw_key,
        "article_id": item.article_id,
        "source": item.source,
    }
