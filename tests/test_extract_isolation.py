"""Extraction isolated in worker processes: a page that hangs, exhausts memory or kills its
worker fails alone, with its reason; the pages around it are extracted; the pool goes on."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import time

import pytest

from archive.core.items import Capture
from pipelines.extract import ExtractPipeline
from tests.support.faultyworker import hold, misbehave
from tests.support.helpers import wait_for
from tests.support.site import SEED


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


@pytest.mark.slow
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


class HoldingExtract(ExtractPipeline):
    work = staticmethod(hold)


def _worker_pids(pipeline: ExtractPipeline) -> set[int]:
    """The pids of the pool's workers (each runs os.getpid until all have answered)."""
    pids: set[int] = set()
    deadline = time.monotonic() + 120
    while len(pids) < pipeline.workers and time.monotonic() < deadline:
        futures = [pipeline._pool.schedule(os.getpid) for _ in range(4 * pipeline.workers)]
        pids |= {f.result(timeout=60) for f in futures}
    return pids


def test_a_worker_killed_while_idle_does_not_fail_the_pages_after_it():
    # pebble breaks the whole pool when a worker dies with no task running, and schedule()
    # then raised: every later page failed.
    good = SEED.read_bytes()
    pipeline = ExtractPipeline(workers=2, agencies=None, timeout=30.0)
    pipeline.open_spider()
    try:
        os.kill(min(_worker_pids(pipeline)), signal.SIGKILL)
        wait_for(lambda: not pipeline._pool.active)

        async def run() -> list[Capture]:
            items = [_capture(n, good) for n in range(4)]
            return await asyncio.gather(*(pipeline.process_item(item) for item in items))

        results = asyncio.run(run())
    finally:
        pipeline.close_spider()
    assert [(r.status, r.reason) for r in results] == [(None, None)] * 4


@pytest.mark.parametrize("killed", [2, 1])
def test_pages_in_flight_on_killed_workers_are_tried_again(tmp_path, killed):
    # Both workers hold a page; `killed` of them die. A dead worker's pool is replaced (it may
    # hold pebble's channel lock), and pebble never ends the futures a stopped pool held: with
    # one killed, the page on the other worker waited until the stall limit, here far beyond
    # the test's patience.
    good = SEED.read_bytes() + f"<!--HOLD:{tmp_path}-->".encode()
    pipeline = HoldingExtract(workers=2, agencies=None, timeout=600.0, stall_grace=600.0)
    pipeline.open_spider()

    async def run() -> list[Capture]:
        items = [_capture(n, good) for n in range(4)]
        work = asyncio.gather(*(pipeline.process_item(item) for item in items))
        while len(list(tmp_path.glob("worker-*"))) < 2:
            await asyncio.sleep(0.02)
        for marker in sorted(tmp_path.glob("worker-*"))[:killed]:
            os.kill(int(marker.name.split("-")[1]), signal.SIGKILL)
        (tmp_path / "go").touch()
        return await asyncio.wait_for(work, 90)

    try:
        results = asyncio.run(run())
    finally:
        pipeline.close_spider()
    assert [(r.status, r.reason) for r in results] == [(None, None)] * 4


class StuckPool:
    """A pool whose scheduler thread hangs (pebble blocked writing to a dead worker's pipe):
    fault injection, as a real pool stuck so cannot be made on demand."""

    active = True

    def schedule(self, *args: object, **kwargs: object) -> concurrent.futures.Future:
        return concurrent.futures.Future()

    def stop(self) -> None:
        pass

    def join(self, timeout: float | None = None) -> None:
        pass


@pytest.mark.slow
def test_a_stuck_pool_is_replaced_instead_of_waited_on_for_ever():
    pipeline = ExtractPipeline(workers=1, agencies=None, timeout=15.0, stall_grace=1.0)
    pipeline.open_spider()
    real = pipeline._pool
    real.stop()
    real.join()
    pipeline._pool = StuckPool()
    try:
        result = asyncio.run(
            asyncio.wait_for(pipeline.process_item(_capture(1, SEED.read_bytes())), 300)
        )
    finally:
        pipeline.close_spider()
    assert result.status is None and result.article is not None
