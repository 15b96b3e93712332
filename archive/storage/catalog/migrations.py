"""Versioned schema of the SQLite catalog.

Each migration is idempotent and numbered by its place in MIGRATIONS; `PRAGMA user_version`
records how many have run. Add new migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database


def _v1_articles_and_captures(db: Database) -> None:
    db.table("articles").create(
        {
            "id": str,
            "url": str,
            "canonical_url": str,
            "title": str,
            "author": str,
            "published": str,
            "modified": str,
            "sitename": str,
            "hostname": str,
            "language": str,
            "description": str,
            "categories": str,
            "tags": str,
            "image": str,
            "text": str,
            "wire_source": str,
            "content_sha256": str,
            "cluster_id": str,
            "duplicate_of": str,
            "source": str,
            "first_seen": str,
            "fetched_at": str,
            "raw_key": str,
            "json_key": str,
            "extractor": str,
        },
        pk="id",
        not_null={"url", "canonical_url", "text", "content_sha256", "raw_key", "json_key"},
        if_not_exists=True,
    )
    articles = db.table("articles")
    articles.create_index(["content_sha256"], if_not_exists=True)
    articles.create_index(["canonical_url"], if_not_exists=True)
    articles.create_index(["url"], if_not_exists=True)
    articles.create_index(["published"], if_not_exists=True)
    articles.create_index(["wire_source"], if_not_exists=True)
    if not db.table("articles_fts").exists():
        articles.enable_fts(["title", "text"], create_triggers=True, tokenize="porter")
    db.table("captures").create(
        {
            "id": str,
            "url": str,
            "input_url": str,
            "status_code": int,
            "content_type": str,
            "fetched_at": str,
            "payload_sha256": str,
            "length": int,
            "warc_key": str,
            "article_id": str,
            "source": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
        if_not_exists=True,
    )
    db.table("captures").create_index(["article_id"], if_not_exists=True)
    db.table("captures").create_index(["url"], if_not_exists=True)


def _v2_ledger_revisions_crawls(db: Database) -> None:
    db.table("ledger").create(
        {
            "url": str,
            "source": str,
            "etag": str,
            "last_modified": str,
            "lastmod": str,
            "content_sha256": str,
            "article_id": str,
            "first_seen": str,
            "last_seen": str,
            "last_status": str,
            "http_status": int,
        },
        pk="url",
        if_not_exists=True,
    )
    db.table("ledger").create_index(["source"], if_not_exists=True)
    db.table("revisions").create(
        {
            "id": str,
            "article_id": str,
            "content_sha256": str,
            "title": str,
            "text": str,
            "json_key": str,
            "raw_key": str,
            "fetched_at": str,
            "superseded_at": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
        if_not_exists=True,
    )
    db.table("revisions").create_index(["article_id"], if_not_exists=True)
    db.table("crawls").create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "pid": int,
            "sources_file": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db.table("crawl_sources").create(
        {
            "crawl_id": int,
            "source": str,
            "kind": str,
            "via": str,
            "status": str,
            "reason": str,
            "discovered": int,
            "fetched": int,
            "not_modified": int,
            "skipped": int,
            "new_articles": int,
            "revisions": int,
            "duplicates": int,
            "unchanged": int,
            "failed": int,
            "errors": str,
            "started_at": str,
            "finished_at": str,
        },
        pk=("crawl_id", "source"),
        foreign_keys=[("crawl_id", "crawls", "id")],
        if_not_exists=True,
    )


def _v3_listing_metadata(db: Database) -> None:
    columns = db.table("articles").columns_dict
    if "guid" not in columns:
        db.table("articles").add_column("guid", str)
    if "listing" not in columns:
        db.table("articles").add_column("listing", str)


def _v4_near_duplicates(db: Database) -> None:
    if "similarity" not in db.table("articles").columns_dict:
        db.table("articles").add_column("similarity", float)
    db.table("articles").create_index(["cluster_id"], if_not_exists=True)
    db.table("minhashes").create(
        {"article_id": str, "cluster_id": str, "first_seen": str, "signature": bytes},
        pk="article_id",
        if_not_exists=True,
    )
    db.table("minhashes").create_index(["cluster_id"], if_not_exists=True)
    db.table("lsh_bands").create({"band": int, "hash": int, "article_id": str}, if_not_exists=True)
    db.table("lsh_bands").create_index(["band", "hash"], if_not_exists=True)
    db.table("lsh_bands").create_index(["article_id"], if_not_exists=True)
    db.table("clusters").create(
        {
            "id": str,
            "size": int,
            "origin_id": str,
            "wire_source": str,
            "first_published": str,
            "updated_at": str,
        },
        pk="id",
        if_not_exists=True,
    )


def _v5_warc_files_and_spool(db: Database) -> None:
    """Captures as records inside rotating WARC files (key, offset, length; revisits), and
    rows that stay pending while their objects wait in the local spool."""
    captures = db.table("captures").columns_dict
    for name, kind in (
        ("record_type", str),
        ("warc_offset", int),
        ("warc_length", int),
        ("refers_to", str),
    ):
        if name not in captures:
            db.table("captures").add_column(name, kind)
    articles = db.table("articles").columns_dict
    for name, kind in (("capture_id", str), ("raw_offset", int), ("raw_length", int)):
        if name not in articles:
            db.table("articles").add_column(name, kind)
    if "pending" not in articles:
        db.table("articles").add_column("pending", int, not_null_default=0)
    revisions = db.table("revisions").columns_dict
    for name in ("raw_offset", "raw_length"):
        if name not in revisions:
            db.table("revisions").add_column(name, int)
    db.execute(
        "create index if not exists idx_articles_pending on articles(pending) where pending = 1"
    )
    db.table("articles").create_index(["json_key"], if_not_exists=True)
    db.table("articles").create_index(["first_seen", "id"], if_not_exists=True)  # export order
    db.table("revisions").create_index(["json_key"], if_not_exists=True)
    db.table("captures").create_index(["payload_sha256"], if_not_exists=True)
    db.table("captures").create_index(["warc_key"], if_not_exists=True)
    db.table("pending_objects").create(
        {"key": str, "created_at": str}, pk="key", if_not_exists=True
    )


def _v6_ingested_warcs(db: Database) -> None:
    """WARC files of the store that `wirearchive ingest` has indexed (skipped next time)."""
    db.table("ingested_warcs").create(
        {"key": str, "captures": int, "ingested_at": str}, pk="key", if_not_exists=True
    )


def _v7_fts_follows_text_only(db: Database) -> None:
    """The search index is updated when an article's title or text changes, not when another
    column does (`pending`, `cluster_id`): re-indexing the whole text for those cost twice
    what indexing it did."""
    db.execute("drop trigger if exists [articles_au]")
    db.execute(
        "create trigger [articles_au] after update of [title], [text] on [articles] begin "
        "insert into [articles_fts] ([articles_fts], rowid, [title], [text]) "
        "values ('delete', old.rowid, old.[title], old.[text]); "
        "insert into [articles_fts] (rowid, [title], [text]) "
        "values (new.rowid, new.[title], new.[text]); end"
    )


def _v8_gone_protected_listed(db: Database) -> None:
    """Posts that left their platform (`gone_at`) or went behind a password (`protected`)
    stay in the archive, marked; the ledger remembers which URLs the source's listing named
    last time (`listed`, `listed_via`), so that one that leaves it is checked once more."""
    articles = db.table("articles")
    if "gone_at" not in articles.columns_dict:
        articles.add_column("gone_at", str)
    if "protected" not in articles.columns_dict:
        articles.add_column("protected", int, not_null_default=0)
    ledger = db.table("ledger")
    if "listed" not in ledger.columns_dict:
        ledger.add_column("listed", int)
    if "listed_via" not in ledger.columns_dict:
        ledger.add_column("listed_via", str)
    db.execute(
        "create index if not exists idx_ledger_listed on ledger(source, listed) where listed = 1"
    )


MIGRATIONS: list[Callable[[Database], None]] = [
    _v1_articles_and_captures,
    _v2_ledger_revisions_crawls,
    _v3_listing_metadata,
    _v4_near_duplicates,
    _v5_warc_files_and_spool,
    _v6_ingested_warcs,
    _v7_fts_follows_text_only,
    _v8_gone_protected_listed,
]


def migrate(db: Database) -> int:
    """Run the migrations this catalog has not had yet; return its schema version.

    The version is read again and the migrations run inside one `BEGIN EXCLUSIVE`
    transaction, so that processes opening a fresh or older catalog at the same time migrate
    it once, one after the other (the others wait for the busy timeout, then find it done)."""
    if _version(db) == len(MIGRATIONS):
        return len(MIGRATIONS)
    db.conn.execute("BEGIN EXCLUSIVE")
    try:
        version = _version(db)
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"catalog schema version {version} is newer than this wirearchive "
                f"({len(MIGRATIONS)}): upgrade wirearchive"
            )
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    return len(MIGRATIONS)


def _version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])
