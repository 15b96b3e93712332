"""Bring the store up to date with the spool: recover what a killed run left, upload what
waits, and let the catalog rows whose objects are all stored stop being pending."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from archive.storage.catalog import Catalog
from archive.storage.documents import article_document
from archive.storage.spool import Spool, upload
from archive.storage.store import ObjectStore
from archive.storage.warcfile import truncate_to_committed


@dataclass
class FlushReport:
    """What one flush did, and what is left."""

    recovered: int = 0  # WARC files a killed run left open, closed and queued
    regenerated: int = 0  # article JSON rebuilt from pending rows
    uploaded: int = 0  # objects written to the store
    bytes: int = 0
    settled: int = 0  # articles no longer pending
    waiting: int = 0  # objects still in the spool
    missing: list[str] = field(default_factory=list)  # pending keys found nowhere
    error: str | None = None


def recover(spool: Spool, catalog: Catalog) -> tuple[int, int]:
    """Close WARC files no live process holds, cut back to what the catalog committed; drop
    article JSON that is torn or that no row names; write again the JSON of pending rows that
    a killed run committed but never wrote (the row has it all). (files recovered, documents
    rebuilt). Half-written files under temporary names go."""
    spool.drop_temporaries()
    recovered = 0
    for key, path in spool.abandoned():
        if truncate_to_committed(path, catalog.capture_ids_in(key)):
            os.rename(path, spool.path(key))
            recovered += 1
        else:
            path.unlink()
    for key in [k for k in spool.ready() if k.endswith(".json")]:
        if not _sound_document(spool, key) or not catalog.references(key):
            # Torn by a power loss (documents are written without fsync), or its row was
            # rolled back with it: the catalog decides, below.
            spool.discard([key])
    regenerated = 0
    waiting = catalog.pending_keys()
    for row in catalog.pending_articles():
        key = row["json_key"]
        if key in waiting and not spool.has(key):
            spool.put(key, article_document(row))
            regenerated += 1
    return recovered, regenerated


def _sound_document(spool: Spool, key: str) -> bool:
    try:
        json.loads(spool.path(key).read_bytes())
    except (OSError, ValueError):
        return False
    return True


def settle(spool: Spool, catalog: Catalog, stored: list[str]) -> int:
    """Record that the store has `stored`, then drop them from the spool; articles settled.
    In this order a crash in between only makes the next flush upload them again (a no-op)."""
    settled = catalog.mark_stored(stored)
    spool.discard(stored)
    return settled


def flush(spool: Spool, store: ObjectStore, catalog: Catalog, workers: int = 4) -> FlushReport:
    """Recover, then upload every object waiting in the spool."""
    report = FlushReport()
    report.recovered, report.regenerated = recover(spool, catalog)
    result = upload(spool, store, sorted(spool.ready()), workers)
    if result.written:
        store.sync()
    report.uploaded, report.bytes, report.error = result.written, result.bytes, result.error
    report.settled = settle(spool, catalog, result.stored)
    if result.error is None:
        # Keys no spool file stands for: stored before a crash cut the bookkeeping short.
        elsewhere = [k for k in catalog.pending_keys() if not spool.has(k)]
        found = [k for k in elsewhere if store.exists(k)]
        report.settled += catalog.mark_stored(found)
        report.missing = sorted(set(elsewhere) - set(found))
    report.waiting = sum(1 for _ in spool.ready())
    return report
