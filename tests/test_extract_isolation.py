"""Extraction isolated in worker processes: a page that hangs, exhausts memory or kills its
worker fails alone, with its reason; the pages around it are extracted; the pool goes on."""

from __future__ import annotations

import asyncio
import time

from crawlers.items import Capture
from pipelines.extract import ExtractPipeline
from tests.faultyworker import misbehave
from tests.site import SEED


def _capture(n: int, body: bytes) -> Capture:
    url = f"https://blog{n}.example/post.html"
    return Capture(
        input_url=url,
        url=url,
        status_code=200,
        headers=[("Content-Type", "text/html; charset=utf-8")],
        body=body,
        fetched_at="2026-01-01T00:00:00+00:00",
    )


class FaultyExtract(ExtractPipeline):
    work = staticmethod(misbehave)


def test_a_bad_page_costs_only_its_worker():
    good = SEED.read_bytes()
    pages = [
        good,
        good + b"<!--HANG-->",
        good,
        good + b"<!--EXPLODE-->",
        good,
        good + b"<!--CRASH-->",
        good,
    ]
    # A limit far above what a good page takes on a loaded machine (a cold worker's first
    # page costs seconds of imports and caches): only the hanging page reaches it.
    pipeline = FaultyExtract(workers=2, agencies=None, timeout=15.0, memory_mb=1024)
    pipeline.open_spider()

    async def run() -> list[Capture]:
        items = [_capture(n, body) for n, body in enumerate(pages)]
        return await asyncio.gather(*(pipeline.process_item(item) for item in items))

    started = time.monotonic()
    try:
        results = asyncio.run(run())
        # The pool still works after all that.
        (after,) = asyncio.run(asyncio.wait_for(_one(pipeline, _capture(99, good)), 60))
    finally:
        pipeline.close_spider()
    assert time.monotonic() - started < 60
    outcomes = [(item.status, item.reason or "") for item in results]
    for n in (0, 2, 4, 6):
        assert outcomes[n] == (None, ""), outcomes[n]
        assert "Russia is not prepared to discuss" in results[n].article["text"]
    assert outcomes[1][0] == "failed" and "longer than 15 s" in outcomes[1][1]
    assert outcomes[3][0] == "failed" and "more than its 1024 MB" in outcomes[3][1]
    assert outcomes[5][0] == "failed" and "worker died" in outcomes[5][1]
    assert after.status is None and after.article is not None


async def _one(pipeline: ExtractPipeline, item: Capture) -> list[Capture]:
    return [await pipeline.process_item(item)]
