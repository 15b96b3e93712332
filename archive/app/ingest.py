"""Keep the catalog up to date from the store that many crawling machines upload to.

Each pass indexes the WARC files under `raw/` the catalog has not had yet, with the article
documents their metadata records name (`article-key`), exactly as `wirearchive reindex` builds
a catalog: `reindex` is this code over all of `raw/` into a fresh catalog. Uploads are not
ordered across objects, so a WARC file whose article documents (or the captures they point at)
are not in the store yet is deferred: left out whole, and tried again next pass.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from archive.app.progress import Report
from archive.core.clock import now_iso
from archive.core.records import CaptureRow
from archive.storage.catalog import Catalog, write_transaction
from archive.storage.store import ObjectStore
from archive.storage.warc import ScannedCapture, scan_captures
from pipelines.neardup import NearDuplicateIndex

logger = logging.getLogger(__name__)

DEFAULT_LOOKBACK_DAYS = 2
_DAY_KEY = re.compile(r"raw/(\d{4})/(\d{2})/(\d{2})/")
_DAY_GLOB = "raw/[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/*"


@dataclass
class IngestCounts:
    """What one pass indexed."""

    warcs: int = 0  # WARC files indexed
    captures: int = 0
    articles: int = 0  # articles that got a text version
    versions: int = 0  # text versions recorded
    deferred: int = 0  # WARC files left for a later pass


@dataclass
class Warc:
    """One WARC file read through: its captures and the article documents they bring."""

    key: str
    captures: list[ScannedCapture]

    @property
    def documents(self) -> list[str]:
        """Keys of the article documents this file's captures introduce."""
        return [c.metadata["article-key"] for c in self.captures if "article-key" in c.metadata]


@dataclass
class Batch:
    """What a pass read from the store, ready to record."""

    warcs: list[Warc]  # the files to record (not deferred)
    captures: dict[str, dict[str, Any]]  # their `captures` rows by id
    documents: dict[str, dict[str, Any]]  # article documents to record, by key
    named: set[str]  # documents named by any file read, deferred or not
    deferred: int  # files left for a later pass


def ingest(
    store: ObjectStore,
    catalog: Catalog,
    index: NearDuplicateIndex,
    full: bool = False,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    reading: Report | None = None,
    recording: Report | None = None,
) -> IngestCounts:
    """One pass: index the new WARC files and their articles; `full` lists all of `raw/`,
    else only the day folders from the newest one ingested, less `lookback_days`, through
    tomorrow (UTC). `reading` hears of the WARC files read, `recording` of the articles."""
    keys = new_warc_keys(store, catalog, full, lookback_days)
    batch = read_batch(store, catalog, keys, reading)
    return record_batch(catalog, index, batch, recording)


def new_warc_keys(
    store: ObjectStore,
    catalog: Catalog,
    full: bool = False,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> list[str]:
    """The WARC files in the store the catalog has not ingested, sorted. A catalog that has
    ingested none (or none in day folders) lists all of `raw/`."""
    newest = catalog.db.execute(
        "select key from ingested_warcs where key glob ? order by key desc limit 1", [_DAY_GLOB]
    ).fetchone()
    if full or newest is None:
        floor, listed = "raw/", store.keys("raw/")
    else:
        start = _day_of(newest[0]) - timedelta(days=lookback_days)
        end = max(datetime.now(UTC).date(), _day_of(newest[0])) + timedelta(days=1)
        days = (start + timedelta(days=n) for n in range((end - start).days + 1))
        floor = _day_folder(start)
        listed = (key for day in days for key in store.keys(_day_folder(day)))
    query = "select key from ingested_warcs where key >= ?"
    done = {row[0] for row in catalog.db.execute(query, [floor])}
    return sorted({key for key in listed if key.endswith(".warc.gz") and key not in done})


def read_batch(
    store: ObjectStore, catalog: Catalog, keys: Sequence[str], progress: Report | None = None
) -> Batch:
    """Read the WARC files at `keys` and the article documents they name that the catalog
    lacks; defer each file whose documents, or the captures those documents come from, are
    not in the store yet. Reads the store only: nothing is written. `progress` hears of
    each file read."""
    warcs = []
    for key in keys:
        with store.open(key) as stream:
            warcs.append(Warc(key, list(scan_captures(stream))))
        if progress:
            progress(len(warcs), len(keys))
    documents: dict[str, dict[str, Any]] = {}
    waiting: dict[str, str] = {}  # deferred file -> why
    for warc in warcs:
        for doc_key in warc.documents:
            if doc_key in documents or catalog.references(doc_key):
                continue
            try:
                documents[doc_key] = json.loads(store.get(doc_key))
            except KeyError:
                waiting.setdefault(warc.key, f"article document {doc_key} is not stored yet")
    in_files = {c.capture_id: warc.key for warc in warcs for c in warc.captures}
    outside = {d["capture_id"] for d in documents.values()} - in_files.keys()
    known = {capture_id for capture_id in outside if catalog.capture(capture_id) is not None}

    def available(capture_id: str) -> bool:
        home = in_files.get(capture_id)
        return capture_id in known or (home is not None and home not in waiting)

    changed = True
    while changed:  # a deferred file takes its captures along, which may hold up others
        changed = False
        for warc in warcs:
            if warc.key in waiting:
                continue
            for doc_key in warc.documents:
                document = documents.get(doc_key)  # None: the catalog has it already
                if document is not None and not available(document["capture_id"]):
                    reason = f"capture {document['capture_id']} of {doc_key} is not stored yet"
                    waiting[warc.key], changed = reason, True
                    break
    for key, reason in waiting.items():
        logger.warning("deferred %s: %s", key, reason)
    ready = [warc for warc in warcs if warc.key not in waiting]
    brought = {doc_key for warc in ready for doc_key in warc.documents}
    return Batch(
        warcs=ready,
        captures=_capture_rows(catalog, ready),
        documents={k: d for k, d in documents.items() if k in brought},
        named={doc_key for warc in warcs for doc_key in warc.documents},
        deferred=len(waiting),
    )


def record_batch(
    catalog: Catalog, index: NearDuplicateIndex, batch: Batch, progress: Report | None = None
) -> IngestCounts:
    """Record a batch in one transaction, its WARC files marked ingested with their rows;
    `progress` hears of each article recorded.

    Articles are replayed in the order they were first seen, each with its text versions in
    the order they were fetched, so clusters and revisions come out as they were built. An
    article the catalog has keeps its first_seen and cluster, and a new version becomes its
    current text (the old one a revision), or a revision when it was fetched earlier.
    """
    counts = IngestCounts(
        warcs=len(batch.warcs), captures=len(batch.captures), deferred=batch.deferred
    )
    versions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for document in batch.documents.values():
        versions[document["id"]].append(document)
    heads = sorted(versions, key=lambda a: (min(d["first_seen"] for d in versions[a]), a))
    with write_transaction(catalog.db):
        for article_id in heads:
            docs = sorted(versions[article_id], key=lambda d: (d["fetched_at"], d["json_key"]))
            previous = catalog.article(article_id)
            first_seen = previous["first_seen"] if previous else docs[0]["first_seen"]
            near = index.assign(article_id, docs[0]["text"], first_seen)
            for document in docs:
                capture = batch.captures.get(document["capture_id"]) or catalog.capture(
                    document["capture_id"]
                )
                assert capture is not None, document["json_key"]
                row = document | {
                    "first_seen": first_seen,
                    "cluster_id": near.cluster_id,
                    "similarity": near.similarity,
                }
                if previous is not None and row["fetched_at"] < previous["fetched_at"]:
                    catalog.record_earlier_version(row, capture)
                else:
                    catalog.record(
                        row,
                        capture,
                        previous=previous,
                        merged_clusters=near.merged if previous is None else (),
                    )
                    previous = row
                counts.versions += 1
            counts.articles += 1
            if progress:
                progress(counts.articles, len(heads))
        for row in batch.captures.values():  # also revisits, and fetches with no new text
            catalog.record_capture(row)
        now = now_iso()
        catalog.db.conn.executemany(
            "insert or replace into ingested_warcs (key, captures, ingested_at) values (?, ?, ?)",
            [(warc.key, len(warc.captures), now) for warc in batch.warcs],
        )
    return counts


def _capture_rows(catalog: Catalog, warcs: list[Warc]) -> dict[str, dict[str, Any]]:
    """A `captures` row for every capture in these WARC files, by id."""
    lengths = {
        c.capture_id: c.length for w in warcs for c in w.captures if c.record_type == "response"
    }
    rows = {}
    for warc in warcs:
        for capture in warc.captures:
            meta = capture.metadata
            length = capture.length
            if capture.record_type == "revisit":
                original = capture.refers_to or ""
                if original in lengths:
                    length = lengths[original]
                else:
                    earlier = catalog.capture(original)
                    length = earlier["length"] if earlier else 0
            rows[capture.capture_id] = CaptureRow(
                id=capture.capture_id,
                url=capture.url,
                input_url=meta.get("input-url") or capture.url,
                status_code=capture.status_code,
                content_type=capture.content_type,
                fetched_at=capture.fetched_at,
                payload_sha256=meta.get("payload-sha256") or capture.payload_sha256,
                length=length,
                record_type=capture.record_type,
                warc_key=warc.key,
                warc_offset=capture.warc_offset,
                warc_length=capture.warc_length,
                refers_to=capture.refers_to,
                article_id=meta.get("article-id") or None,
                source=meta.get("source"),
            ).row()
    return rows


def _day_of(key: str) -> date:
    match = _DAY_KEY.match(key)
    assert match, key
    return date(int(match[1]), int(match[2]), int(match[3]))


def _day_folder(day: date) -> str:
    return f"raw/{day:%Y/%m/%d}/"
