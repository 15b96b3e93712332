"""The archive stage on its own, with a disk fault injected (a real spool and store otherwise)."""

from __future__ import annotations

import asyncio
import gzip
import sqlite3

import pytest

from archive.core.items import Capture
from archive.storage.session import ArchiveSession
from archive.storage.warc import CaptureRecords, scan_captures
from archive.storage.warcfile import WarcFile, WarcLocation
from pipelines.archive import ArchivePipeline
from pipelines.dedup import DedupPipeline
from pipelines.runstate import run_state

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
    session = ArchiveSession(tmp_path / "archive.db")
    dedup, archive = DedupPipeline(session), ArchivePipeline(session, str(tmp_path / "objects"))
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
        await session.aclose()
        return outcomes

    outcome_first, outcome_second = asyncio.run(run())
    dedup.close_spider()
    with sqlite3.connect(session.db_path) as conn:
        rows = dict(conn.execute("select id, duplicate_of from articles"))
    if original_fails:
        assert isinstance(outcome_first, OSError)
        assert outcome_second.status == "archived" and outcome_second.duplicate_of is None
        assert rows == {second.article_id: None}
    else:
        assert outcome_second.status == "duplicate"
        assert rows == {first.article_id: None, second.article_id: first.article_id}


class CommitFails:
    """A catalog connection whose COMMIT fails (a disk error, say) while `fail` is set."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.fail = True

    def __getattr__(self, name: str) -> object:
        return getattr(self.conn, name)

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if self.fail and sql.strip().upper() == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error")
        return self.conn.execute(sql, *args)


def test_a_failed_group_commit_fails_its_captures_and_takes_their_records_back(
    tmp_path, monkeypatch
):
    session = ArchiveSession(tmp_path / "archive.db")
    dedup, archive = DedupPipeline(session), ArchivePipeline(session, str(tmp_path / "objects"))
    items = [_capture(f"https://{host}.example/story") for host in ("a", "b", "c", "d")]
    for item in items:
        assert item.article is not None
        item.article["text"] = f"{item.url}: {TEXT}"
    dedup.open_spider()
    for item in items:
        dedup.process_item(item)
    # Pages still being extracted: the captures wait to be committed together.
    monkeypatch.setattr(run_state(session), "extracting", 1)

    async def run() -> tuple[list, int]:
        await archive.open_spider()
        assert archive.uploader is not None and archive.catalog is not None
        connection = CommitFails(archive.catalog.db.conn)
        monkeypatch.setattr(archive.catalog.db, "conn", connection)
        warc = archive.uploader.warc
        failed = await asyncio.gather(*map(archive.process_item, items[:3]), return_exceptions=True)
        assert warc._file is not None
        size_after_failure = warc._file.tell()
        connection.fail = False
        await archive.process_item(items[3])
        await archive.close_spider()
        await session.aclose()
        return failed, size_after_failure

    failed, size_after_failure = asyncio.run(run())
    dedup.close_spider()
    assert all(isinstance(outcome, sqlite3.OperationalError) for outcome in failed)
    assert [item.status for item in items] == ["failed"] * 3 + ["archived"]
    with sqlite3.connect(session.db_path) as conn:
        assert [r[0] for r in conn.execute("select url from articles")] == [items[3].url]
        captured = dict(conn.execute("select id, warc_offset from captures"))
    (warc_file,) = (tmp_path / "objects").glob("raw/**/*.warc.gz")
    with warc_file.open("rb") as stream:
        assert {c.capture_id for c in scan_captures(stream)} == set(captured)
    # The failed captures' records were taken back: the next one starts where they did.
    assert list(captured.values()) == [size_after_failure]
