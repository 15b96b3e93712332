"""The archive stage on its own, with a store fault injected (a real folder store otherwise)."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from archive.store import LocalStore, StoreError
from crawlers.items import Capture
from pipelines.archive import ArchivePipeline
from pipelines.dedup import DedupPipeline

TEXT = "The same wire story, reposted word for word by two blogs on the same morning. " * 3


class FailingStore(LocalStore):
    """A folder store that fails every write for one URL (a fault a real disk rarely gives)."""

    def __init__(self, root, fail_for: str) -> None:
        super().__init__(root)
        self.fail_for = fail_for

    def put_if_absent(self, key: str, data: bytes, content_type: str) -> bool:
        if self.fail_for.encode() in data:
            raise StoreError("injected outage")
        return super().put_if_absent(key, data, content_type)


def _capture(url: str) -> Capture:
    return Capture(
        input_url=url,
        url=url,
        status_code=200,
        body=f"<html>{url}</html>".encode(),
        fetched_at="2026-01-01T00:00:00+00:00",
        article={"text": TEXT, "title": "Story", "canonical_hint": None},
    )


@pytest.mark.parametrize("original_fails", [False, True])
def test_duplicate_never_points_at_an_original_that_failed(tmp_path, original_fails):
    db = str(tmp_path / "archive.db")
    dedup, archive = DedupPipeline(db), ArchivePipeline(db, str(tmp_path / "objects"))
    dedup.open_spider()
    archive.open_spider()
    first, second = _capture("https://a.example/story"), _capture("https://b.example/story")
    failing_url = first.url if original_fails else "no such url"
    archive.store = FailingStore(tmp_path / "objects", failing_url)
    dedup.process_item(first)
    dedup.process_item(second)
    assert second.duplicate_of == first.article_id

    async def run() -> list:
        return await asyncio.gather(
            archive.process_item(first), archive.process_item(second), return_exceptions=True
        )

    outcome_first, outcome_second = asyncio.run(run())
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("select id, duplicate_of from articles"))
    if original_fails:
        assert isinstance(outcome_first, StoreError)
        assert outcome_second.status == "archived" and outcome_second.duplicate_of is None
        assert rows == {second.article_id: None}
    else:
        assert outcome_second.status == "duplicate"
        assert rows == {first.article_id: None, second.article_id: first.article_id}
    archive.close_spider()
    dedup.close_spider()
