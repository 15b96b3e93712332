"""Crawl runs: one `crawls` row per run, one `crawl_sources` row per source it read."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from archive.storage.catalog.connection import Connection, write_transaction

# Per-source outcome counts, as `crawl_sources` columns ("discovered" comes from the spider).
OUTCOME_COUNTS = (
    "fetched", "not_modified", "skipped", "new_articles", "revisions", "duplicates",
    "unchanged", "failed",
)  # fmt: skip

# A source's counts in `crawl_sources`, in the order the crawl summary and the web page show.
COUNT_COLUMNS = ("discovered", *OUTCOME_COUNTS)


class Crawls(Connection):
    """The `crawls` and `crawl_sources` tables."""

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
