"""Rebuild the catalog from the object store alone: the store is the record."""

from __future__ import annotations

import json
import logging

from archive.app.ingest import Batch, IngestCounts, new_warc_keys, read_batch, record_batch
from archive.app.progress import Report
from archive.storage.catalog import Catalog
from archive.storage.store import ObjectStore
from pipelines.neardup import NearDuplicateIndex

logger = logging.getLogger(__name__)


def reindex(
    store: ObjectStore,
    catalog: Catalog,
    index: NearDuplicateIndex,
    reading: Report | None = None,
    recording: Report | None = None,
) -> IngestCounts:
    """Rebuild articles, revisions, captures and near-duplicate clusters from the store.

    `wirearchive ingest` over all of `raw/`, plus the article documents that no WARC file
    names (archives written before the metadata field `article-key`), found by listing
    `articles/`. `reading` hears of the WARC files read, `recording` of the articles.
    """
    batch = read_batch(store, catalog, new_warc_keys(store, catalog, full=True), reading)
    _add_unnamed_documents(store, catalog, batch)
    return record_batch(catalog, index, batch, recording)


def _add_unnamed_documents(store: ObjectStore, catalog: Catalog, batch: Batch) -> None:
    """Add to `batch` the stored article documents no WARC file read names and the catalog
    lacks, each whose capture is in the batch or the catalog."""
    for key in store.keys("articles/"):
        if not key.endswith(".json") or key in batch.named or catalog.references(key):
            continue
        document = json.loads(store.get(key))
        capture_id = document["capture_id"]
        if capture_id in batch.captures or catalog.capture(capture_id) is not None:
            batch.documents[key] = document
        else:
            logger.warning("left out %s: its capture %s is not in the store", key, capture_id)
