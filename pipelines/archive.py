"""Pipeline stage 3: keep the raw capture (WARC records) and the article (JSON), then index.

Every capture is appended to this process's open WARC file in the spool and its catalog rows
are written right after, with no await in between, into the transaction the uploader commits
for a group of captures (archive/storage/uploader.py): a killed run leaves at most records
of captures the catalog never got, at the end of the file, which recovery cuts off. The
article JSON goes to the spool once its row is committed (a row has all it needs to write it
again). Rows stay pending until the uploader has put their objects in the store, so a row
shown as archived never points at an object the store does not have. Every outcome also
updates the URL ledger that incremental crawls read.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from archive.core.clock import now_iso
from archive.core.items import ARCHIVED, DUPLICATE, FAILED, REFUSED, SKIPPED, UNCHANGED, Capture
from archive.core.records import CaptureRow
from archive.core.settings import DEFAULTS
from archive.storage.catalog import Catalog, disk_full, write_transaction
from archive.storage.documents import article_document, article_key
from archive.storage.session import ArchiveSession, session_of
from archive.storage.spool import Spool
from archive.storage.store import open_store
from archive.storage.uploader import Uploader, spool_dir
from archive.storage.warc import (
    CaptureRecords,
    Earlier,
    capture_records,
    payload_sha256,
    stored_payload,
)
from archive.storage.warcfile import DEFAULT_WARC_BYTES, WarcLocation
from pipelines.neardup import (
    DEFAULT_SHINGLE_SIZE,
    DEFAULT_THRESHOLD,
    NearDuplicateIndex,
    near_settings,
)
from pipelines.runstate import run_state
from pipelines.sharedindex import SharedArticles

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# Sent after each upload round (kwarg `upload`: archive.storage.spool.Upload): the rows it
# stored are committed as no longer pending, so a caller can tell those captures archived
# right away.
objects_stored = object()


class ArchivePipeline:
    """Append captures to the WARC file and index them; the uploader stores the objects."""

    def __init__(
        self,
        session: ArchiveSession,
        store_uri: str,
        threshold: float = DEFAULT_THRESHOLD,
        shingle_size: int = DEFAULT_SHINGLE_SIZE,
        spool: str | None = None,
        warc_bytes: int = DEFAULT_WARC_BYTES,
        upload_interval: float = DEFAULTS.upload_interval,
        upload_workers: int = DEFAULTS.upload_workers,
        redis_url: str | None = None,
        warc_seconds: float = 0.0,
        info: dict[str, str | None] | None = None,
    ) -> None:
        self.session = session
        self.info = info or {}  # for the warcinfo records (archive.storage.warc)
        self.db_path = session.db_path
        self.store_uri = store_uri
        self.near = (threshold, shingle_size)
        self.spool_dir = spool_dir(self.db_path, spool)
        self.upload = (warc_bytes, upload_interval, upload_workers, warc_seconds)
        self.neardup: NearDuplicateIndex | None = None
        self.catalog: Catalog | None = None
        self.uploader: Uploader | None = None
        self.state = run_state(session)
        self._in_flight = self.state.in_flight
        self.redis_url = redis_url
        self.shared: SharedArticles | None = self.state.shared_articles(redis_url)
        self.crawler: Crawler | None = None
        self.stopping: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        settings = crawler.settings
        pipeline = cls(
            session_of(crawler),
            settings.get("WIREARCHIVE_STORE"),
            *near_settings(settings),
            spool=settings.get("WIREARCHIVE_SPOOL") or None,
            warc_bytes=settings.getint("WIREARCHIVE_WARC_BYTES"),
            upload_interval=settings.getfloat("WIREARCHIVE_UPLOAD_INTERVAL"),
            upload_workers=settings.getint("WIREARCHIVE_UPLOAD_WORKERS"),
            redis_url=settings.get("WIREARCHIVE_REDIS") or None,
            warc_seconds=settings.getfloat("WIREARCHIVE_WARC_SECONDS", 0.0),
            info={
                "operator": settings.get("WIREARCHIVE_OPERATOR"),
                "description": settings.get("WIREARCHIVE_DESCRIPTION"),
                "http-header-user-agent": settings.get("USER_AGENT"),
            },
        )
        pipeline.crawler = crawler
        return pipeline

    async def open_spider(self) -> None:
        self.catalog = self.session.catalog
        # With many workers the index is shared in Redis: their clusters are the ones a single
        # process makes. The one catalog recomputes them at ingest, so a worker's copy of a
        # cluster in its working catalog is only its view of the moment.
        self.neardup = (
            NearDuplicateIndex.for_redis(self.redis_url, *self.near)
            if self.redis_url
            else NearDuplicateIndex(self.catalog.db, *self.near)
        )
        # One uploader for the run: started by its first crawler's archive stage, stopped
        # by its last.
        self.uploader = self.session.use_uploader(self._uploader)
        self.uploader.listeners.append(self._stored)
        spider = self.crawler.spider if self.crawler is not None else None
        source = getattr(getattr(spider, "source", None), "name", None)
        self.uploader.warc.sources.add(str(source or getattr(spider, "name", "?")))

    def _uploader(self) -> Uploader:
        store = open_store(self.store_uri)
        warc_bytes, interval, workers, warc_seconds = self.upload
        return Uploader(
            self.session.catalog,
            store,
            Spool(self.spool_dir, store.uri, catalog=self.db_path),
            warc_bytes,
            interval,
            workers,
            warc_seconds=warc_seconds,
            info=self.info,
        )

    def _stored(self, upload: Any) -> None:
        if self.crawler is not None:
            self.crawler.signals.send_catch_log(objects_stored, upload=upload)

    async def close_spider(self) -> None:
        # The catalog is the session's, closed with it once every crawler of the run ended.
        if self.uploader is not None:
            self.uploader.listeners.remove(self._stored)
            await self.session.release_uploader()

    async def process_item(self, item: Capture) -> Capture:
        try:
            return await self._process(item)
        except Exception as exc:
            if disk_full(exc):
                self._stop_for_disk_full(exc)
            raise

    def _stop_for_disk_full(self, exc: BaseException) -> None:
        """End the crawl at the first full disk: every page after it would fail the same way.
        What is committed stays pending in the spool for `wirearchive flush` or a rerun."""
        if self.stopping is not None or self.crawler is None or self.crawler.engine is None:
            return
        logger.error(
            "the disk under the catalog %s or the spool %s is full (%s): stopping the crawl; "
            "once there is space, `wirearchive flush` and a rerun finish it",
            self.db_path,
            self.spool_dir,
            exc,
        )
        self.stopping = asyncio.get_running_loop().create_task(
            self.crawler.engine.close_spider_async(reason=f"disk full: {exc}")
        )

    async def _process(self, item: Capture) -> Capture:
        if item.status is None and item.article is not None:
            await self._archive_once(item)
            item.settle(DUPLICATE if item.duplicate_of else ARCHIVED)
        elif item.status == UNCHANGED and item.article_id and item.status_code:
            await self._recapture(item)
            assert self.catalog is not None
            # Live again, and behind a password or not (a 304 says nothing new on that).
            self.catalog.mark_present(
                item.article_id, item.protected if item.status_code != 304 else None
            )
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
            if self.shared is not None and not item.duplicate_of:
                self.shared.release(item.content_sha256 or "", item.article_id)
            done.set_result(False)
            self._remember(item.settle(FAILED, "archiving failed"))
            raise
        finally:
            if self._in_flight.get(item.article_id) is done:
                del self._in_flight[item.article_id]

    def _remember(self, item: Capture) -> None:
        """Keep what this fetch taught about its URL in the ledger, for the next crawl."""
        assert self.catalog is not None
        if (
            item.status == REFUSED
            or not item.remember
            or not item.input_url.startswith(("http://", "https://"))
        ):
            return
        fetched = item.status_code is not None and item.status_code != 304
        ok = item.status in (ARCHIVED, DUPLICATE, UNCHANGED, SKIPPED)
        headers = {k.lower(): v for k, v in item.headers} if fetched and ok else {}
        if self.uploader is not None:
            self.uploader.begin()  # committed with the captures around it
        listing = item.entry or {}
        if listing.get("listed_via"):  # named by the source's listing this run
            seen = {"listed": 1, "listed_via": listing["listed_via"]}
        elif item.input_url and item.status_code is not None and not item.entry:
            seen = {"listed": 0}  # checked once more after it left the listing
        else:
            seen = {}
        if item.status_code in (404, 410):
            self.catalog.mark_gone(item.input_url, item.fetched_at or now_iso())
        self.catalog.record_ledger(
            {
                **seen,
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
        assert self.catalog is not None and self.neardup is not None and self.uploader
        assert item.article_id and item.content_sha256 and item.article
        if item.duplicate_of:
            await self._confirm_original(item)
        payload = payload_sha256(stored_payload(item))
        # From here to the rows, no await: see the module docstring. In the transaction, so
        # that another process given the same page cannot archive its response meanwhile.
        self.uploader.prepare()
        earlier = self.catalog.earlier_capture(item.url, payload)
        assert item.version
        key = article_key(item.article_id, item.version)
        records = self._records(item, payload, earlier, key)
        location = self.uploader.append(records)
        raw = (
            WarcLocation(earlier["warc_key"], earlier["warc_offset"], earlier["warc_length"])
            if earlier
            else location
        )
        existing = self.catalog.article(item.article_id)
        row = article_row(item, raw, earlier["id"] if earlier else records.capture_id, existing)
        try:
            with write_transaction(self.catalog.db):
                near = self.neardup.assign(item.article_id, _signature(item), row["first_seen"])
                row |= {"cluster_id": near.cluster_id, "similarity": near.similarity}
                self.catalog.record(
                    row,
                    capture_row(item, records, location, payload, earlier),
                    previous=existing,
                    merged_clusters=near.merged,
                    waiting=(location.key, row["json_key"]),
                )
        except BaseException:
            self.uploader.undo(location)
            raise
        await self._committed()
        item.objects = (location.key, row["json_key"])
        if self.shared is not None:
            self.shared.archived(item.article_id, item.version or "")
        self.uploader.spool.put(row["json_key"], article_document(row), sync=False)

    async def _recapture(self, item: Capture) -> None:
        """An unchanged page fetched again: a revisit record (a 304, or the same bytes as an
        archived response), else a full response record; no new article version."""
        assert self.catalog is not None and self.uploader is not None
        not_modified = item.status_code == 304
        payload = None if not_modified else payload_sha256(stored_payload(item))
        self.uploader.prepare()  # what it refers to is read in the transaction: see _archive
        earlier = self.catalog.earlier_capture(item.url, payload)
        if not_modified:
            if earlier is None:
                return  # nothing archived to refer to (an archive from before revisits)
            payload = earlier["payload_sha256"]
        assert payload is not None
        records = self._records(item, payload, earlier)
        location = self.uploader.append(records)
        try:
            self.catalog.record_capture(
                capture_row(item, records, location, payload, earlier), waiting=(location.key,)
            )
        except BaseException:
            self.uploader.undo(location)
            raise
        await self._committed()
        item.objects = (location.key,)

    async def _committed(self) -> None:
        """Wait for the commit of the rows written: at once when no page is being extracted
        (none would join the transaction soon: a one-URL `add`, the end of a crawl), else
        with the group the uploader commits."""
        assert self.uploader is not None
        await self.uploader.committed(now=not self.state.extracting)

    def _records(
        self,
        item: Capture,
        payload: str,
        earlier: dict[str, Any] | None,
        json_key: str | None = None,
    ) -> CaptureRecords:
        """The capture's WARC records; `json_key` names the article document a capture with
        a new text version brings (what `wirearchive ingest` fetches with it)."""
        metadata = {
            "article-id": item.article_id or "",
            "source": item.source,
            "input-url": item.input_url,
            "payload-sha256": payload,
            "article-key": json_key,
        }
        refers = Earlier(earlier["id"], earlier["url"], earlier["fetched_at"]) if earlier else None
        assert self.uploader is not None
        return capture_records(item, metadata, refers, self.uploader.warc.warcinfo_id)

    async def _confirm_original(self, item: Capture) -> None:
        """Point `duplicate_of` only at an archived article: if the original of this run failed
        to archive, fall back to another archived copy, or make this copy the original."""
        assert self.catalog is not None and item.duplicate_of and item.content_sha256
        assert item.article_id
        pending = self._in_flight.get(item.duplicate_of)
        if pending is not None and await asyncio.shield(pending):
            return
        if self.shared is not None:
            # Claimed in Redis: archived or being archived by a process that, should it fail,
            # gives the claim up; else the claim passes to this copy.
            owner = self.shared.claim(item.content_sha256, item.article_id)
            item.duplicate_of = owner if owner != item.article_id else None
            return
        if pending is None and self.catalog.article(item.duplicate_of) is not None:
            return
        other = self.catalog.original_with_hash(item.content_sha256)
        item.duplicate_of = other["id"] if other and other["id"] != item.article_id else None


def _signature(item: Capture) -> str | np.ndarray:
    """The MinHash signature the extract stage computed, else the text to compute it from."""
    assert item.article is not None
    blob = item.article.get("minhash")
    return np.frombuffer(blob, dtype=np.uint32) if blob else item.article["text"]


def article_row(
    item: Capture, raw: WarcLocation, capture_id: str, existing: dict[str, Any] | None
) -> dict[str, Any]:
    """The `articles` row (and the stored JSON document) for an extracted capture."""
    article = item.article or {}
    listing = item.entry or {}
    assert item.article_id and item.content_sha256
    return {
        "id": item.article_id,
        "url": item.url,
        "canonical_url": item.canonical_url,
        # Merged with the listing's by pipelines.metadata (the strongest source first).
        "title": article.get("title"),
        "author": article.get("author"),
        "published": article.get("published"),
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
        "capture_id": capture_id,
        "raw_key": raw.key,
        "raw_offset": raw.offset,
        "raw_length": raw.length,
        "json_key": article_key(item.article_id, item.version or item.content_sha256),
        "extractor": article.get("extractor"),
        "guid": listing.get("guid"),
        "listing": listing or None,
        "gone_at": None,
        "protected": 0,
    }


def capture_row(
    item: Capture,
    records: CaptureRecords,
    location: WarcLocation,
    payload: str,
    earlier: dict[str, Any] | None,
) -> dict[str, Any]:
    """The `captures` row for one fetch: where its record is, and what it refers to."""
    content_type = next((v for k, v in item.headers if k.lower() == "content-type"), None)
    return CaptureRow(
        id=records.capture_id,
        url=item.url,
        input_url=item.input_url,
        status_code=item.status_code,
        content_type=content_type,
        fetched_at=item.fetched_at,
        payload_sha256=payload,
        length=earlier["length"]
        if item.status_code == 304 and earlier
        else len(stored_payload(item)),
        record_type=records.record_type,
        warc_key=location.key,
        warc_offset=location.offset,
        warc_length=location.length,
        refers_to=earlier["id"] if earlier else None,
        article_id=item.article_id,
        source=item.source,
    ).row()
