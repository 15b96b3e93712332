"""Rebuild the catalog from the object store alone: the store is the record."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from archive.catalog import Catalog
from archive.store import ObjectStore
from archive.warc import ScannedCapture, scan_captures
from pipelines.neardup import NearDuplicateIndex


@dataclass
class ReindexCounts:
    """What a reindex found in the store."""

    articles: int = 0
    versions: int = 0
    captures: int = 0
    clusters: int = 0


def reindex(store: ObjectStore, catalog: Catalog, index: NearDuplicateIndex) -> ReindexCounts:
    """Rebuild articles, revisions, captures and near-duplicate clusters from the store.

    Captures come from reading every WARC file through; articles from their JSON documents,
    replayed in the order they were first seen, each with its text versions in the order they
    were fetched, so clusters and revisions come out as they were built.
    """
    captures = {row["id"]: row for row in _scan(store)}
    versions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for key in store.keys("articles/"):
        if key.endswith(".json"):
            document = json.loads(store.get(key))
            versions[document["id"]].append(document)
    counts = ReindexCounts(articles=len(versions), captures=len(captures))
    heads = sorted(versions, key=lambda a: (min(d["first_seen"] for d in versions[a]), a))
    for article_id in heads:
        docs = sorted(versions[article_id], key=lambda d: (d["fetched_at"], d["json_key"]))
        first_seen = docs[0]["first_seen"]
        previous = None
        with catalog.db.atomic():
            near = index.assign(article_id, docs[0]["text"], first_seen)
            for document in docs:
                row = document | {
                    "first_seen": first_seen,
                    "cluster_id": near.cluster_id,
                    "similarity": near.similarity,
                }
                catalog.record(
                    row,
                    captures[document["capture_id"]],
                    previous=previous,
                    merged_clusters=near.merged if previous is None else (),
                )
                previous = row
                counts.versions += 1
    with catalog.db.atomic():
        for row in captures.values():  # also revisits, and fetches that brought no new text
            catalog.record_capture(row)
    counts.clusters = catalog.db.execute("select count(*) from clusters").fetchone()[0]
    return counts


def _scan(store: ObjectStore) -> list[dict[str, Any]]:
    """A `captures` row for every capture in the store's WARC files."""
    found: list[tuple[str, ScannedCapture]] = []
    for key in sorted(store.keys("raw/")):
        if key.endswith(".warc.gz"):
            with store.open(key) as stream:
                found.extend((key, capture) for capture in scan_captures(stream))
    lengths = {c.capture_id: c.length for _, c in found if c.record_type == "response"}
    rows = []
    for key, capture in found:
        meta = capture.metadata
        length = capture.length
        if capture.record_type == "revisit":
            length = lengths.get(capture.refers_to or "", 0)
        rows.append(
            {
                "id": capture.capture_id,
                "url": capture.url,
                "input_url": meta.get("input-url") or capture.url,
                "status_code": capture.status_code,
                "content_type": capture.content_type,
                "fetched_at": capture.fetched_at,
                "payload_sha256": meta.get("payload-sha256") or capture.payload_sha256,
                "length": length,
                "record_type": capture.record_type,
                "warc_key": key,
                "warc_offset": capture.warc_offset,
                "warc_length": capture.warc_length,
                "refers_to": capture.refers_to,
                "article_id": meta.get("article-id") or None,
                "source": meta.get("source"),
            }
        )
    return rows
