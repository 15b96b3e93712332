"""Articles and their revisions: the current text of each article, earlier texts kept."""

from __future__ import annotations

from typing import Any

from archive.storage.catalog.captures import Captures
from archive.storage.catalog.clusters import Clusters
from archive.storage.catalog.connection import decoded, write_transaction
from archive.storage.documents import article_version


class Articles(Captures, Clusters):
    """The `articles` and `revisions` tables."""

    def article(self, article_id: str) -> dict[str, Any] | None:
        """The article row with this id, or None."""
        rows = self._rows("select * from articles where id = ?", [article_id])
        return decoded(rows[0] if rows else None)

    def original_with_hash(self, content_sha256: str) -> dict[str, Any] | None:
        """The first-seen article that is not itself a duplicate, with this content hash."""
        rows = self._rows(
            "select * from articles where content_sha256 = ? and duplicate_of is null "
            "order by first_seen, id limit 1",
            [content_sha256],
        )
        return decoded(rows[0] if rows else None)

    def resolve(self, id_or_url: str) -> dict[str, Any] | None:
        """The article named by its id, its URL, or its canonical URL."""
        found = self.article(id_or_url)
        if found:
            return found
        rows = self.db.query(
            "select * from articles where url = ? or canonical_url = ? order by first_seen limit 1",
            [id_or_url, id_or_url],
        )
        return decoded(next(iter(rows), None))

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
            article["pending"] = int(any(k in waiting for k in keys) or self.waiting(*keys))
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

    def revisions_of(self, article_id: str) -> list[dict[str, Any]]:
        """Earlier texts of this article, oldest first."""
        return list(
            self.db.query(
                "select * from revisions where article_id = ? order by fetched_at", [article_id]
            )
        )

    def edited(
        self, since: str | None = None, source: str | None = None, limit: int = -1
    ) -> list[str]:
        """Ids of articles with a version superseded at or after `since` (any time when None),
        of one `source` or all, most recently edited first; at most `limit` (-1: all)."""
        rows = self.db.execute(
            "select r.article_id, max(r.superseded_at) as last from revisions r "
            "join articles a on a.id = r.article_id "
            "where r.superseded_at >= :since and (:source is null or a.source = :source) "
            "group by r.article_id order by last desc limit :limit",
            {"since": since or "", "source": source, "limit": limit},
        )
        return [row[0] for row in rows]

    def references(self, json_key: str) -> bool:
        """Whether an article or a revision names this document."""
        query = (
            "select exists(select 1 from articles where json_key = ?) "
            "or exists(select 1 from revisions where json_key = ?)"
        )
        return bool(self.db.conn.execute(query, [json_key, json_key]).fetchone()[0])


def _version(row: dict[str, Any]) -> str:
    return article_version(row.get("title"), row["content_sha256"])
