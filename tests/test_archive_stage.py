"""The archive stage on its own, with a disk fault injected (a real spool and store otherwise)."""

from __future__ import annotations

import asyncio
import gzip
import sqlite3

import pytest

from archive.warc import CaptureRecords
from archive.warcfile import WarcFile, WarcLocation
from crawlers.items import Capture
from pipelines.archive import ArchivePipeline
from pipelines.dedup import DedupPipeline

TEXT = "The same wire story, reposted word for word by two blogs on the same morning. " * 3


class FailingWarc(WarcFile):
    """A WARC file that cannot take the records of one URL (a full disk, say)."""

    fail_for = ""

    def append(self, records: CaptureRecords) -> WarcLocation:
        if self.fail_for.encode() in gzip.decompress(records.data):
            raise OSError(28, "No space left on device")
        return super().append(records)


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
    first, second = _capture("https://a.example/story"), _capture("https://b.example/story")
    dedup.open_spider()
    dedup.process_item(first)
    dedup.process_item(second)
    assert second.duplicate_of == first.article_id

    async def run() -> list:
        await archive.open_spider()
        assert archive.uploader is not None
        failing = FailingWarc(archive.uploader.spool)
        failing.fail_for = first.url if original_fails else "no such url"
        archive.uploader.warc = failing
        outcomes = await asyncio.gather(
            archive.process_item(first), archive.process_item(second), return_exceptions=True
        )
        await archive.close_spider()
        return outcomes

    outcome_first, outcome_second = asyncio.run(run())
    dedup.close_spider()
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("select id, duplicate_of from articles"))
    if original_fails:
        assert isinstance(outcome_first, OSError)
        assert outcome_second.status == "archived" and outcome_second.duplicate_of is None
        assert rows == {second.article_id: None}
    else:
        assert outcome_second.status == "duplicate"
        assert rows == {first.article_id: None, second.article_id: first.article_id}
