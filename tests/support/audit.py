"""Does the catalog agree with the store? The checks the outage and crash tests share."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.storage.store import ObjectStore
from archive.storage.warc import scan_captures


def integrity_ok(db: Path) -> None:
    """SQLite's own check of the catalog file."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"


def audit(db: Path, store: ObjectStore) -> dict[str, int]:
    """Every row's objects exist where it says, every stored object is some row's, nothing
    is stored twice, nothing is pending. Counts of what was checked."""
    integrity_ok(db)
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        articles = [dict(r) for r in conn.execute("select * from articles")]
        captures = {r["id"]: dict(r) for r in conn.execute("select * from captures")}
        documents = {r[0] for r in conn.execute("select json_key from articles")}
        documents |= {r[0] for r in conn.execute("select json_key from revisions")}
        assert conn.execute("select count(*) from pending_objects").fetchone()[0] == 0
    # Records in the store: each capture once, and exactly the catalog's captures.
    stored: list[tuple[str, str, int, int]] = []
    for key in store.keys("raw/"):
        with store.open(key) as stream:
            stored += [
                (c.capture_id, key, c.warc_offset, c.warc_length) for c in scan_captures(stream)
            ]
    ids = [record[0] for record in stored]
    assert len(ids) == len(set(ids)), "a capture record is stored twice"
    assert set(ids) == set(captures), "store and catalog disagree on captures"
    for capture_id, key, offset, length in stored:
        row = captures[capture_id]
        assert (row["warc_key"], row["warc_offset"], row["warc_length"]) == (key, offset, length)
    # One full response per URL and payload: refetches are revisits.
    responses = [
        (c["url"], c["payload_sha256"]) for c in captures.values() if c["record_type"] == "response"
    ]
    assert len(responses) == len(set(responses)), "the same response is stored twice"
    # Article documents: exactly the catalog's.
    assert set(store.keys("articles/")) == documents, "store and catalog disagree on documents"
    # Every article is archived, and its raw span holds the response it was extracted from.
    for article in articles:
        assert article["pending"] == 0
        span = store.get_range(article["raw_key"], article["raw_offset"], article["raw_length"])
        record = next(iter(ArchiveIterator(io.BytesIO(span))))
        assert record.rec_type == "response"
        assert (
            record.rec_headers.get_header("WARC-Record-ID") == f"<urn:uuid:{article['capture_id']}>"
        )
    ids_of_articles = [a["id"] for a in articles]
    assert len(ids_of_articles) == len(set(ids_of_articles))
    return {"articles": len(articles), "captures": len(captures), "documents": len(documents)}
