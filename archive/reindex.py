"""Rebuild the catalog from the object store alone: the store is the record."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from archive.catalog import Catalog
from archive.store import ObjectStore
from archive.warc import read_response
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

    Articles are replayed in the order they were first seen, each with its text versions in
    the order they were fetched, so clusters and revisions come out as they were built.
    """
    versions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for key in store.keys("articles/"):
        if key.endswith(".json"):
            document = json.loads(store.get(key))
            versions[document["id"]].append(document)
    counts = ReindexCounts(articles=len(versions))
    heads = sorted(versions, key=lambda a: (min(d["first_seen"] for d in versions[a]), a))
    for article_id in heads:
        docs = sorted(versions[article_id], key=lambda d: (d["fetched_at"], d["json_key"]))
        first_seen = docs[0]["first_seen"]
        near = index.assign(article_id, docs[0]["text"], first_seen)
        previous = None
        for document in docs:
            row = document | {
                "first_seen": first_seen,
                "cluster_id": near.cluster_id,
                "similarity": near.similarity,
            }
            catalog.record(
                row,
                capture_row_from_warc(store.get(document["raw_key"]), document),
                previous=previous,
                merged_clusters=near.merged if previous is None else (),
            )
            previous = row
            counts.versions += 1
            counts.captures += 1
    counts.clusters = catalog.db.execute("select count(*) from clusters").fetchone()[0]
    return counts


def capture_row_from_warc(warc: bytes, document: dict[str, Any]) -> dict[str, Any]:
    """The `captures` row of a stored WARC, for the article version `document`."""
    response = read_response(warc)
    key = document["raw_key"]
    return {
        "id": key.rsplit("/", 1)[-1].removesuffix(".warc.gz"),
        "url": response.url,
        "input_url": response.url,
        "status_code": int(response.headers.get_statuscode()),
        "content_type": response.headers.get_header("Content-Type"),
        "fetched_at": response.date,
        "payload_sha256": hashlib.sha256(response.body).hexdigest(),
        "length": len(response.body),
        "warc_key": key,
        "article_id": document["id"],
        "source": document.get("source"),
    }
