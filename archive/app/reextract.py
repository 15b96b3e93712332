"""Re-run extraction on stored raw captures, with no network: a newer extractor's text becomes
a new version of the article, the old text is kept as a revision."""

from __future__ import annotations

from dataclasses import dataclass

from archive.app.progress import Report
from archive.storage.catalog import Catalog
from archive.storage.documents import article_document, article_key
from archive.storage.store import ObjectStore
from archive.storage.warc import read_response
from pipelines.extraction import Agencies, extract_page
from pipelines.identity import content_sha256

# Fields a new extraction replaces; identity, provenance and dedup fields stay.
EXTRACTED = (
    "title", "author", "published", "modified", "sitename", "hostname", "language",
    "description", "categories", "tags", "image", "text", "wire_source", "extractor",
)  # fmt: skip


@dataclass
class ReextractCounts:
    """What a reextract run did."""

    seen: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0


def reextract(
    store: ObjectStore,
    catalog: Catalog,
    agencies: Agencies = None,
    since: str | None = None,
    source: str | None = None,
    progress: Report | None = None,
) -> ReextractCounts:
    """Extract every selected article again from its stored WARC response; `progress`
    hears of each article done."""
    counts = ReextractCounts()
    where, params = ["1 = 1"], []
    if since:
        where.append("fetched_at >= ?")
        params.append(since)
    if source:
        where.append("source = ?")
        params.append(source)
    ids = [r[0] for r in catalog.db.execute(
        f"select id from articles where {' and '.join(where)} order by first_seen", params
    )]  # fmt: skip
    for article_id in ids:
        if progress:
            progress(counts.seen, len(ids))
        counts.seen += 1
        row = catalog.article(article_id)
        assert row is not None
        response = read_response(
            store.get_range(row["raw_key"], row["raw_offset"], row["raw_length"])
        )
        content_type = response.headers.get_header("Content-Type") or ""
        article = extract_page(response.body, content_type, response.url, agencies)
        if article is None:
            counts.failed += 1
            continue
        new_hash = content_sha256(article["text"])
        if new_hash == row["content_sha256"]:
            # The same text: the extractor that produced it first stays on record.
            counts.unchanged += 1
            continue
        new_row = row | {k: article.get(k) for k in EXTRACTED}
        new_row |= {"content_sha256": new_hash, "json_key": article_key(article_id, new_hash)}
        store.put_if_absent(new_row["json_key"], article_document(new_row), "application/json")
        (capture,) = catalog.db.query("select * from captures where id = ?", [row["capture_id"]])
        catalog.record(new_row, capture, previous=row)
        counts.changed += 1
    if progress:
        progress(counts.seen, len(ids))
    return counts
