"""The URL ledger: what the last crawl learnt about each URL, for incremental crawls."""

from __future__ import annotations

from typing import Any

from archive.storage.catalog.connection import Connection


class Ledger(Connection):
    """The `ledger` table, and the gone/present marks it sets on articles."""

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
