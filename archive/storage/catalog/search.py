"""Finding articles: full-text search, the latest articles, the archive's counts."""

from __future__ import annotations

from typing import Any

from archive.storage.catalog.connection import Connection


class Search(Connection):
    """Reads over `articles` and its full-text index `articles_fts`."""

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
        quoted = query.strip() if fts else quote_words(query)
        if not quoted:  # nothing to match: no words
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


def quote_words(query: str) -> str:
    """Each whitespace-separated word of `query` as an FTS5 string, its quotes doubled, so that
    no character has a meaning of FTS5 syntax (sqlite-utils' quote_fts keeps a word that starts
    with a quote as a phrase, and an unbalanced one is then a syntax error)."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in query.split())
