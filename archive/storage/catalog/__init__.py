"""The SQLite catalog: an index of the object store that can be rebuilt from it."""

from __future__ import annotations

import contextlib
import errno
import json
import sqlite3
from collections import Counter
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any, ClassVar

from sqlite_utils import Database

from archive.core.agencies import agency_of_host
from archive.core.clock import now_iso
from archive.storage.documents import article_version
from archive.storage.migrations import migrate

BUSY_TIMEOUT_MS = 30_000

# Per-source outcome counts, as `crawl_sources` columns ("discovered" comes from the spider).
OUTCOME_COUNTS = (
    "fetched", "not_modified", "skipped", "new_articles", "revisions", "duplicates",
    "unchanged", "failed",
)  # fmt: skip

# A source's counts in `crawl_sources`, in the order the crawl summary and the web page show.
COUNT_COLUMNS = ("discovered", *OUTCOME_COUNTS)


def disk_full(exc: BaseException) -> bool:
    """Whether `exc` says the disk under the catalog or the spool is full: SQLite's
    SQLITE_FULL, or ENOSPC (EDQUOT: a quota, as full) from a file write."""
    if isinstance(exc, sqlite3.OperationalError):
        return "database or disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A transaction that will write: `BEGIN IMMEDIATE`, which takes the write lock at once
    (waiting for other writers up to the busy timeout), so that what it reads cannot change
    before it writes; a savepoint inside an open transaction. (sqlite-utils' `atomic()` says
    `BEGIN`: its first write after a read fails at once with "database is locked" when another
    process wrote in between, whatever the busy timeout.)"""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


class CatalogError(Exception):
    """The catalog file cannot be opened: not a SQLite file, a folder, unreadable."""


class Catalog:
    """Articles, captures and search over one SQLite file (WAL mode, versioned schema)."""

    # One connection per file for all of a crawling process's components (pipelines, the
    # URL ledger, the uploader, the run's counts): one writer, one page cache that the
    # others' commits do not invalidate. Counted: the last release closes it.
    _shared: ClassVar[dict[Path, list[Any]]] = {}

    @classmethod
    def shared(cls, path: str | Path) -> Catalog:
        """This process's shared catalog for `path`; give it back with `release()`."""
        key = Path(path).resolve()
        entry = cls._shared.get(key)
        if entry is None:
            entry = cls._shared[key] = [cls(path), 0]
        entry[1] += 1
        return entry[0]

    def release(self) -> None:
        """Give back a catalog from `shared()` (closes it after its last user)."""
        entry = self._shared.get(self.path.resolve())
        if entry is None or entry[0] is not self:
            self.close()
            return
        entry[1] -= 1
        if entry[1] == 0:
            del self._shared[self.path.resolve()]
            self.close()

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if path.is_dir():
            raise CatalogError(f"cannot open the catalog {path}: it is a folder, not a file")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self.db = Database(path)
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.db.enable_wal()
            self.db.execute("PRAGMA synchronous = NORMAL")
            # Statements that open a transaction of their own take the write lock first too.
            self.db.conn.isolation_level = "IMMEDIATE"
            self.schema_version = migrate(self.db)
        except sqlite3.DatabaseError as exc:  # not a SQLite file, unreadable, ...
            raise CatalogError(f"cannot open the catalog {path}: {exc}") from None

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def _rows(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Rows as dicts, straight from the connection: the pipelines' hot path, without
        sqlite-utils' savepoint around every read."""
        cursor = self.db.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def _upsert(self, table: str, row: dict[str, Any], pk: str) -> None:
        """Insert or update one row by its primary key; lists and dicts stored as JSON."""
        names = list(row)
        values = [json.dumps(v) if isinstance(v, list | dict) else v for v in row.values()]
        updates = ", ".join(f"[{n}] = excluded.[{n}]" for n in names if n != pk)
        self.db.conn.execute(
            f"insert into [{table}] ({', '.join(f'[{n}]' for n in names)}) "
            f"values ({', '.join('?' for _ in names)}) on conflict([{pk}]) do update set {updates}",
            values,
        )

    def article(self, article_id: str) -> dict[str, Any] | None:
        """The article row with this id, or None."""
        rows = self._rows("select * from articles where id = ?", [article_id])
        return _decoded(rows[0] if rows else None)

    def original_with_hash(self, content_sha256: str) -> dict[str, Any] | None:
        """The first-seen article that is not itself a duplicate, with this content hash."""
        rows = self._rows(
            "select * from articles where content_sha256 = ? and duplicate_of is null "
            "order by first_seen, id limit 1",
            [content_sha256],
        )
        return _decoded(rows[0] if rows else None)

    def resolve(self, id_or_url: str) -> dict[str, Any] | None:
        """The article named by its id, its URL, or its canonical URL."""
        found = self.article(id_or_url)
        if found:
            return found
        rows = self.db.query(
            "select * from articles where url = ? or canonical_url = ? order by first_seen limit 1",
            [id_or_url, id_or_url],
        )
        return _decoded(next(iter(rows), None))

    def captures_of(self, article_id: str) -> list[dict[str, Any]]:
        """Every capture of this article, oldest first."""
        return list(
            self.db.query(
                "select * from captures where article_id = ? order by fetched_at", [article_id]
            )
        )

    def record(
        self,
        article: dict[str, Any],
        capture: dict[str, Any],
        previous: dict[str, Any] | None = None,
        merged_clusters: tuple[str, ...] = (),
        waiting: tuple[str, ...] = (),
    ) -> None:
        """Write one article row and the capture behind it, in one transaction; `previous`
        (the article's row before an edit) is kept as a revision; articles of
        `merged_clusters` move into the article's cluster, whose summary is refreshed.
        `waiting` are the keys of objects still in the spool: the row stays pending until
        the store has them all."""
        with write_transaction(self.db):
            self._wait_for(waiting)
            keys = (article["raw_key"], article["json_key"])
            article["pending"] = int(any(k in waiting for k in keys) or self._waiting(*keys))
            for other in merged_clusters:
                self.db.execute(
                    "update articles set cluster_id = ? where cluster_id = ?",
                    [article["cluster_id"], other],
                )
                self.db.execute("delete from clusters where id = ?", [other])
            if previous is not None and _version(previous) != _version(article):
                self._keep_revision(previous, article["fetched_at"])
            self._upsert("articles", article, "id")
            self._upsert("captures", capture, "id")
            if article.get("cluster_id"):
                self._refresh_cluster(article["cluster_id"], article["fetched_at"])

    def record_earlier_version(self, article: dict[str, Any], capture: dict[str, Any]) -> None:
        """Keep a text version fetched before the article's current one, which reached the
        catalog late (`wirearchive ingest`), as a revision between the versions around it."""
        with write_transaction(self.db):
            later = self.db.execute(
                "select min(fetched_at) from (select fetched_at from articles where id = :id "
                "union all select fetched_at from revisions where article_id = :id) "
                "where fetched_at > :at",
                {"id": article["id"], "at": article["fetched_at"]},
            ).fetchone()[0]
            self.db.execute(  # the version before it was superseded by it, not by `later`
                "update revisions set superseded_at = ? where article_id = ? "
                "and fetched_at < ? and superseded_at = ?",
                [article["fetched_at"], article["id"], article["fetched_at"], later],
            )
            self._keep_revision(article, later)
            self._upsert("captures", capture, "id")

    def _keep_revision(self, version: dict[str, Any], superseded_at: str) -> None:
        """An article version that is no longer its current text, as a `revisions` row."""
        self.db.table("revisions").insert(
            {
                "id": f"{version['id']}:{_version(version)[:16]}",
                "article_id": version["id"],
                "content_sha256": version["content_sha256"],
                "title": version["title"],
                "text": version["text"],
                "json_key": version["json_key"],
                "raw_key": version["raw_key"],
                "raw_offset": version.get("raw_offset"),
                "raw_length": version.get("raw_length"),
                "fetched_at": version["fetched_at"],
                "superseded_at": superseded_at,
            },
            pk="id",
            ignore=True,
        )

    def record_capture(self, capture: dict[str, Any], waiting: tuple[str, ...] = ()) -> None:
        """Write a capture that made no new article text (a revisit, or a page whose text
        did not change)."""
        with write_transaction(self.db):
            self._wait_for(waiting)
            self._upsert("captures", capture, "id")

    def _wait_for(self, keys: tuple[str, ...]) -> None:
        if keys:
            self.db.conn.executemany(
                "insert or ignore into pending_objects (key, created_at) values (?, ?)",
                [(key, now_iso()) for key in keys],
            )

    def _waiting(self, *keys: str) -> int:
        marks = ", ".join("?" for _ in keys)
        query = f"select exists(select 1 from pending_objects where key in ({marks}))"
        return int(self.db.execute(query, list(keys)).fetchone()[0])

    def pending_keys(self) -> set[str]:
        """Keys of objects rows point at that the store does not have yet."""
        return {row[0] for row in self.db.execute("select key from pending_objects")}

    def mark_stored(self, keys: list[str]) -> int:
        """The store has these objects now: rows whose objects are all stored stop being
        pending. The number of articles that did."""
        if not keys:
            return 0
        with write_transaction(self.db):
            self.db.table("pending_objects").delete_where(
                f"key in ({', '.join('?' for _ in keys)})", list(keys)
            )
            cursor = self.db.execute(
                "update articles set pending = 0 where pending = 1 "
                "and raw_key not in (select key from pending_objects) "
                "and json_key not in (select key from pending_objects)"
            )
            return cursor.rowcount

    def pending_articles(self) -> list[dict[str, Any]]:
        """Articles whose objects are not all in the store yet."""
        rows = self.db.query("select * from articles where pending = 1 order by first_seen")
        return [row for row in map(_decoded, rows) if row is not None]

    def references(self, json_key: str) -> bool:
        """Whether an article or a revision names this document."""
        query = (
            "select exists(select 1 from articles where json_key = ?) "
            "or exists(select 1 from revisions where json_key = ?)"
        )
        return bool(self.db.conn.execute(query, [json_key, json_key]).fetchone()[0])

    def capture(self, capture_id: str) -> dict[str, Any] | None:
        """The capture row with this id, or None."""
        rows = self._rows("select * from captures where id = ?", [capture_id])
        return rows[0] if rows else None

    def capture_ids_in(self, warc_key: str) -> set[str]:
        """Ids of the captures the catalog has in one WARC file."""
        rows = self.db.execute("select id from captures where warc_key = ?", [warc_key])
        return {row[0] for row in rows}

    def earlier_capture(self, url: str, payload: str | None = None) -> dict[str, Any] | None:
        """The latest full response archived for `url`, or with payload hash `payload` (of
        this URL first, else of any): what a revisit record refers to."""
        where, order, params = (
            ("payload_sha256 = ?", "url = ? desc, fetched_at desc", [payload, url])
            if payload
            else ("url = ?", "fetched_at desc", [url])
        )
        rows = self._rows(
            f"select * from captures where {where} and warc_offset is not null "
            f"and coalesce(record_type, 'response') = 'response' order by {order} limit 1",
            params,
        )
        return rows[0] if rows else None

    def _refresh_cluster(self, cluster_id: str, now: str) -> None:
        """The cluster's size, origin (the copy on a wire service's own site, else the
        earliest published) and wire attribution (what most attributed members agree on)."""
        members = self._rows(
            "select id, hostname, published, first_seen, wire_source from articles "
            "where cluster_id = ? order by coalesce(published, '9999'), first_seen, id",
            [cluster_id],
        )
        on_wire = [m for m in members if agency_of_host(m["hostname"])]
        origin = (on_wire or members)[0]
        votes = Counter(m["wire_source"] for m in members if m["wire_source"])
        wire = agency_of_host(origin["hostname"]) or (votes.most_common(1)[0][0] if votes else None)
        self._upsert(
            "clusters",
            {
                "id": cluster_id,
                "size": len(members),
                "origin_id": origin["id"],
                "wire_source": wire,
                "first_published": min(
                    (m["published"] for m in members if m["published"]), default=None
                ),
                "updated_at": now,
            },
            "id",
        )

    def cluster(self, cluster_id: str) -> dict[str, Any] | None:
        """A cluster's summary with its members (id, url, title, published, similarity)."""
        row = next(iter(self.db.query("select * from clusters where id = ?", [cluster_id])), None)
        if row is None:
            return None
        row["members"] = list(
            self.db.query(
                "select id, url, title, sitename, published, wire_source, similarity, "
                "duplicate_of from articles where cluster_id = ? "
                "order by coalesce(published, '9999'), first_seen, id",
                [cluster_id],
            )
        )
        return row

    def clusters(self, min_size: int = 2, limit: int = 100) -> list[dict[str, Any]]:
        """The biggest stories first, each with its members."""
        ids = [
            r["id"]
            for r in self.db.query(
                "select id from clusters where size >= ? order by size desc, first_published "
                "desc limit ?",
                [min_size, limit],
            )
        ]
        return [c for c in map(self.cluster, ids) if c is not None]

    def revisions_of(self, article_id: str) -> list[dict[str, Any]]:
        """Earlier texts of this article, oldest first."""
        return list(
            self.db.query(
                "select * from revisions where article_id = ? order by fetched_at", [article_id]
            )
        )

    def ledger_entry(self, url: str) -> dict[str, Any] | None:
        """What the last crawl learnt about `url` (validators, lastmod, outcome)."""
        rows = self._rows("select * from ledger where url = ?", [url])
        return rows[0] if rows else None

    def record_ledger(self, row: dict[str, Any]) -> None:
        """Upsert a ledger row (first seen: its `last_seen`); fields left out or None keep
        their stored values, and the listing date only moves forward (a feed and a sitemap
        may date one post differently). One statement, in the open transaction if any."""
        names = [n for n in row if n != "first_seen"]
        updates = ", ".join(
            f"[{n}] = coalesce(max(excluded.[{n}], [{n}]), excluded.[{n}], [{n}])"
            if n == "lastmod"
            else f"[{n}] = coalesce(excluded.[{n}], [{n}])"
            for n in names
            if n != "url"
        )
        self.db.execute(
            f"insert into ledger ({', '.join(f'[{n}]' for n in names)}, [first_seen]) "
            f"values ({', '.join('?' for _ in names)}, ?) on conflict([url]) do update set "
            + updates,
            [*(row[n] for n in names), row["last_seen"]],
        )

    def left_listing(
        self, source: str, listed: set[str], unchanged_listings: set[str]
    ) -> list[str]:
        """The URLs `source`'s listing named last time and not now (`listed`), except those
        of listings skipped this time as unchanged. (Their next fetch records them as no
        longer listed.)"""
        rows = self._rows(
            "select url, listed_via from ledger where source = ? and listed = 1", [source]
        )
        return [
            r["url"]
            for r in rows
            if r["url"] not in listed and r["listed_via"] not in unchanged_listings
        ]

    def mark_gone(self, url: str, at: str) -> None:
        """The article behind ledger URL `url` answered 404 or 410: gone since `at` (kept)."""
        self.db.execute(
            "update articles set gone_at = coalesce(gone_at, ?) "
            "where id = (select article_id from ledger where url = ?)",
            [at, url],
        )

    def mark_present(self, article_id: str, protected: bool | None = None) -> None:
        """The article was seen live again (not gone); and behind a password or not."""
        sets = ["gone_at = null"] + (["protected = ?"] if protected is not None else [])
        params: list[Any] = [int(protected)] if protected is not None else []
        self.db.execute(
            f"update articles set {', '.join(sets)} where id = ?", [*params, article_id]
        )

    def start_crawl(self, started_at: str, pid: int, sources_file: str | None) -> int:
        """A new `crawls` row, status running; its id."""
        with write_transaction(self.db):
            table = self.db.table("crawls").insert(
                {
                    "started_at": started_at,
                    "status": "running",
                    "pid": pid,
                    "sources_file": sources_file,
                }
            )
        if table.last_pk is None:
            raise RuntimeError("the new crawls row has no id")
        return int(table.last_pk)

    def finish_crawl(self, crawl_id: int, finished_at: str, status: str) -> None:
        """Close a `crawls` row with its final status."""
        with write_transaction(self.db):
            self.db.table("crawls").update(crawl_id, {"finished_at": finished_at, "status": status})

    def record_crawl_source(self, row: dict[str, Any]) -> None:
        """The per-source counts of one crawl."""
        with write_transaction(self.db):
            self.db.table("crawl_sources").upsert(row, pk=("crawl_id", "source"))

    def crawl_sources(self, crawl_id: int) -> list[dict[str, Any]]:
        """Per-source rows of one crawl; `errors` as a dict of counts by kind."""
        rows = list(
            self.db.query(
                "select * from crawl_sources where crawl_id = ? order by source", [crawl_id]
            )
        )
        for row in rows:
            row["errors"] = json.loads(row["errors"] or "{}")
        return rows

    def crawl_source_status(self, crawl_id: int, source: str) -> str | None:
        """How `source` ended in crawl `crawl_id` (None: it never recorded an end)."""
        row = next(
            iter(
                self.db.query(
                    "select status from crawl_sources where crawl_id = ? and source = ?",
                    [crawl_id, source],
                )
            ),
            None,
        )
        return row["status"] if row else None

    def recent_crawls(self, limit: int = 10) -> list[dict[str, Any]]:
        """The latest crawls, newest first, each with its per-source rows."""
        crawls = list(self.db.query("select * from crawls order by id desc limit ?", [limit]))
        for crawl in crawls:
            crawl["sources"] = self.crawl_sources(crawl["id"])
        return crawls

    def last_success(self, source: str, retried_errors: Collection[str] = ()) -> str | None:
        """When the last crawl that read `source` completely started, leaving out crawls
        with errors of a kind in `retried_errors`: a listing window never passes a post
        that failed for a reason that may go away."""
        kinds = list(retried_errors)
        row = next(
            iter(
                self.db.query(
                    "select max(crawls.started_at) as at from crawl_sources join crawls "
                    "on crawls.id = crawl_sources.crawl_id "
                    "where crawl_sources.source = ? and crawl_sources.status = 'ok' "
                    "and not exists (select 1 from json_each(coalesce(crawl_sources.errors, "
                    f"'{{}}')) where key in ({', '.join('?' * len(kinds))}))",
                    [source, *kinds],
                )
            ),
            None,
        )
        return row["at"] if row else None

    def search(
        self,
        query: str,
        limit: int = 20,
        source: str | None = None,
        wire_source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        cluster_id: str | None = None,
        offset: int = 0,
        fts: bool = False,
    ) -> list[dict[str, Any]]:
        """Full-text search over title and text, best match first, with a snippet;
        `since`/`until` (YYYY-MM-DD) bound `published`, inclusive. The query's words are
        matched as given, unless `fts`: then it is FTS5 syntax (OR, NOT, "phrases", prefix*),
        and a bad one raises sqlite3.OperationalError."""
        query = query.replace("\x00", " ")
        quoted = query.strip() if fts else self.db.quote_fts(query)
        if not quoted:  # nothing to match: no words, or only quotes
            return []
        where, params = _filters(source, wire_source, since, until, cluster_id)
        where.append("articles_fts match :q")
        params |= {"q": quoted, "limit": limit, "offset": offset}
        sql = f"""
            select articles.id, articles.url, articles.title, articles.published,
                   articles.sitename, articles.wire_source, articles.duplicate_of,
                   articles.cluster_id,
                   snippet(articles_fts, 1, '[', ']', '…', 16) as snippet,
                   articles_fts.rank as rank
            from articles_fts join articles on articles.rowid = articles_fts.rowid
            where {" and ".join(where)}
            order by articles_fts.rank limit :limit offset :offset
        """
        return list(self.db.query(sql, params))

    def latest(
        self,
        limit: int = 20,
        offset: int = 0,
        source: str | None = None,
        wire_source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        cluster_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Articles in the store, most recently first seen first; filters as in search."""
        where, params = _filters(source, wire_source, since, until, cluster_id)
        params |= {"limit": limit, "offset": offset}
        sql = f"""
            select id, url, title, published, sitename, wire_source, duplicate_of,
                   cluster_id, first_seen
            from articles where {" and ".join(where)}
            order by first_seen desc, id limit :limit offset :offset
        """
        return list(self.db.query(sql, params))

    def stats(self) -> dict[str, Any]:
        """Counts that tell what the archive holds."""
        one = self.db.execute
        return {
            "articles": one("select count(*) from articles").fetchone()[0],
            "duplicates": one(
                "select count(*) from articles where duplicate_of is not null"
            ).fetchone()[0],
            "captures": one("select count(*) from captures").fetchone()[0],
            "pending": one("select count(*) from articles where pending = 1").fetchone()[0],
            "sites": one("select count(distinct hostname) from articles").fetchone()[0],
            "wire_sources": dict(
                one(
                    "select wire_source, count(*) from articles where wire_source is not null "
                    "group by wire_source order by count(*) desc"
                ).fetchall()
            ),
            "latest_fetch": one("select max(fetched_at) from captures").fetchone()[0],
            "schema_version": self.schema_version,
        }


def _filters(
    source: str | None,
    wire_source: str | None,
    since: str | None,
    until: str | None,
    cluster_id: str | None,
) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions on `articles` (never pending rows) and their parameters."""
    where = ["articles.pending = 0"]
    params: dict[str, Any] = {}
    if source:
        where.append("articles.source = :source")
        params["source"] = source
    if wire_source:
        where.append("articles.wire_source = :wire collate nocase")
        params["wire"] = wire_source
    if since:
        where.append("articles.published >= :since")
        params["since"] = since
    if until:  # a published value with a time of day still counts for its day
        where.append("articles.published < date(:until, '+1 day')")
        params["until"] = until
    if cluster_id:
        where.append("articles.cluster_id = :cluster")
        params["cluster"] = cluster_id
    return where, params


def _version(row: dict[str, Any]) -> str:
    return article_version(row.get("title"), row["content_sha256"])


def _decoded(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    for key in ("categories", "tags", "listing"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    return row
