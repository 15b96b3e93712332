"""The local object store and the SQLite catalog on real files."""

from __future__ import annotations

import sqlite3

import pytest

from archive.storage.catalog import Catalog
from archive.storage.catalog.migrations import MIGRATIONS
from archive.storage.store import LocalStore, StoreError, check_key, open_store


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "/abs/key", "a/../../b", "a//b", "a/./b", "", "a\\b", "raw/x y"]
)
def test_unsafe_keys_are_refused(tmp_path, key):
    with pytest.raises(ValueError, match="unsafe object key"):
        LocalStore(tmp_path).put_if_absent(key, b"x", "text/plain")
    assert list(tmp_path.iterdir()) == []


def test_local_store_never_overwrites(tmp_path):
    store = LocalStore(tmp_path / "objects")
    assert store.put_if_absent("raw/ab/abc.warc.gz", b"first", "application/warc") is True
    assert store.put_if_absent("raw/ab/abc.warc.gz", b"second", "application/warc") is False
    assert store.get("raw/ab/abc.warc.gz") == b"first"
    assert store.exists("raw/ab/abc.warc.gz") and not store.exists("raw/ab/other")
    with pytest.raises(KeyError):
        store.get("raw/ab/other")
    # No temp files left behind.
    assert [p.name for p in (tmp_path / "objects" / "raw" / "ab").iterdir()] == ["abc.warc.gz"]


def test_open_store_rejects_unknown_schemes():
    with pytest.raises(StoreError, match="unsupported store"):
        open_store("ftp://host/x")
    with pytest.raises(StoreError, match="3\\+ characters"):
        open_store("s3://ab/prefix")
    assert check_key("articles/ab/abc/123.json") == "articles/ab/abc/123.json"


def _row(article_id: str, text: str, sha: str, **extra: object) -> dict:
    return {
        "id": article_id,
        "url": f"https://blog.example/{article_id}",
        "canonical_url": f"https://blog.example/{article_id}",
        "title": f"Title {article_id}",
        "text": text,
        "content_sha256": sha,
        "raw_key": "raw/x",
        "json_key": "articles/x",
        "first_seen": "2026-01-01T00:00:00+00:00",
        "source": "on-demand",
        "tags": ["a", "b"],
        **extra,
    }


def _capture(article_id: str) -> dict:
    return {
        "id": f"c{article_id}",
        "url": f"https://blog.example/{article_id}",
        "article_id": article_id,
        "fetched_at": "2026-01-01T00:00:00+00:00",
    }


def test_catalog_schema_is_versioned_and_migrates_once(tmp_path):
    path = tmp_path / "archive.db"
    Catalog(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("pragma user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    assert {"articles", "captures", "articles_fts"} <= tables
    catalog = Catalog(path)  # reopening runs nothing again
    assert catalog.schema_version == len(MIGRATIONS)
    catalog.close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"pragma user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer than this wirearchive"):
        Catalog(path)


def test_catalog_search_ranks_and_filters(tmp_path):
    catalog = Catalog(tmp_path / "archive.db")
    catalog.record(
        _row("a1", "Talks on strategic stability in Geneva. " * 5, "h1", wire_source="Sputnik"),
        _capture("a1"),
    )
    catalog.record(
        _row("a2", "A recipe for okra with onions and tomatoes. " * 5, "h2"), _capture("a2")
    )
    hits = catalog.search("geneva")
    assert [h["id"] for h in hits] == ["a1"]
    assert "[Geneva]" in hits[0]["snippet"]
    assert catalog.search("geneva", wire_source="Reuters") == []
    assert [h["id"] for h in catalog.search("okra onions")] == ["a2"]
    # Query syntax from users never raises: FTS operators are quoted.
    assert catalog.search('"unbalanced AND (') == []
    assert catalog.resolve("https://blog.example/a2")["id"] == "a2"
    assert catalog.article("a1")["tags"] == ["a", "b"]
    assert catalog.original_with_hash("h1")["id"] == "a1"
    stats = catalog.stats()
    assert stats["articles"] == 2 and stats["wire_sources"] == {"Sputnik": 1}


def test_cluster_origin_prefers_the_wire_services_own_site(tmp_path):
    catalog = Catalog(tmp_path / "archive.db")
    copies = [
        ("blog1", "blog-one.example", "2022-01-09", "Sputnik"),
        ("wire", "sputnikglobe.com", "2022-01-10", None),  # published later, but the wire's own
        ("blog2", "www.blog-two.example", "2022-01-11", "Sputnik"),
        ("blog3", "blog-three.example", "2022-01-12", "Reuters"),  # a wrong credit, outvoted
    ]
    for article_id, host, published, wire in copies:
        catalog.record(
            _row(
                article_id,
                "text " * 30,
                f"h-{article_id}",
                hostname=host,
                published=published,
                wire_source=wire,
                cluster_id="blog1",
                fetched_at="2026-01-01T00:00:00+00:00",
            ),
            _capture(article_id),
        )
    story = catalog.cluster("blog1")
    assert story["size"] == 4 and story["origin_id"] == "wire"
    assert story["wire_source"] == "Sputnik" and story["first_published"] == "2022-01-09"
    assert [m["id"] for m in story["members"]] == ["blog1", "wire", "blog2", "blog3"]
    # Without a copy on a wire site: the earliest published copy is the origin.
    for article_id, published in (("late", "2022-02-02"), ("early", "2022-02-01")):
        catalog.record(
            _row(
                article_id,
                "other " * 30,
                f"h-{article_id}",
                hostname=f"{article_id}.example",
                published=published,
                cluster_id="late",
                fetched_at="2026-01-01T00:00:00+00:00",
            ),
            _capture(article_id),
        )
    other = catalog.cluster("late")
    assert other["origin_id"] == "early" and other["wire_source"] is None


def test_search_index_follows_title_and_text_only(tmp_path):
    catalog = Catalog(tmp_path / "archive.db")
    catalog.record(
        _row("a1", "Talks on strategic stability in Geneva. " * 5, "h1", json_key="articles/a1"),
        _capture("a1"),
        waiting=("raw/x", "articles/a1"),
    )
    assert [h["id"] for h in catalog.search("geneva")] == []  # pending: not searchable yet

    def index_writes() -> int:
        return catalog.db.execute("select count(*) from articles_fts_data").fetchone()[0]

    before = index_writes()
    assert catalog.mark_stored(["raw/x", "articles/a1"]) == 1
    assert index_writes() == before  # `pending = 0` left the index alone
    assert [h["id"] for h in catalog.search("geneva")] == ["a1"]
    catalog.db.execute("update articles set text = 'A recipe for okra.' where id = 'a1'")
    assert catalog.search("geneva") == []
    assert [h["id"] for h in catalog.search("okra")] == ["a1"]
