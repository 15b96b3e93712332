"""Story clusters: near-duplicate copies of one story, with its origin and wire service."""

from __future__ import annotations

from collections import Counter
from typing import Any

from archive.core.agencies import agency_of_host
from archive.storage.catalog.connection import Connection


class Clusters(Connection):
    """The `clusters` table."""

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
        """A cluster's summary with its members (id, url, title, published, first seen,
        similarity), in the order they appeared (published, else first seen)."""
        row = next(iter(self.db.query("select * from clusters where id = ?", [cluster_id])), None)
        if row is None:
            return None
        row["members"] = list(
            self.db.query(
                "select id, url, title, sitename, published, first_seen, wire_source, "
                "similarity, duplicate_of from articles where cluster_id = ? "
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
