"""Pending objects: keys rows point at that are still in the spool, not yet in the store."""

from __future__ import annotations

from typing import Any

from archive.core.clock import now_iso
from archive.storage.catalog.connection import Connection, decoded, write_transaction


class PendingObjects(Connection):
    """The `pending_objects` table and the `pending` flag of articles."""

    def _wait_for(self, keys: tuple[str, ...]) -> None:
        if keys:
            self.db.conn.executemany(
                "insert or ignore into pending_objects (key, created_at) values (?, ?)",
                [(key, now_iso()) for key in keys],
            )

    def waiting(self, *keys: str) -> bool:
        """Whether any of `keys` is an object the store does not have yet."""
        marks = ", ".join("?" for _ in keys)
        query = f"select exists(select 1 from pending_objects where key in ({marks}))"
        return bool(self.db.execute(query, list(keys)).fetchone()[0])

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
        return [row for row in map(decoded, rows) if row is not None]
