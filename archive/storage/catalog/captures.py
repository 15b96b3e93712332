"""Captures: one row per fetch of a URL, pointing at its WARC record."""

from __future__ import annotations

from typing import Any

from archive.storage.catalog.connection import write_transaction
from archive.storage.catalog.pending import PendingObjects


class Captures(PendingObjects):
    """The `captures` table."""

    def captures_of(self, article_id: str) -> list[dict[str, Any]]:
        """Every capture of this article, oldest first."""
        return list(
            self.db.query(
                "select * from captures where article_id = ? order by fetched_at", [article_id]
            )
        )

    def record_capture(self, capture: dict[str, Any], waiting: tuple[str, ...] = ()) -> None:
        """Write a capture that made no new article text (a revisit, or a page whose text
        did not change)."""
        with write_transaction(self.db):
            self._wait_for(waiting)
            self._upsert("captures", capture, "id")

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
