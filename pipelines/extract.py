"""Pipeline stage 1: extract the article and attribute wire copy, in worker processes.

trafilatura is CPU-bound (tens of ms a page), so it runs in a process pool off the reactor;
the reactor keeps downloading while the workers extract.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from crawlers.items import FAILED, Capture
from pipelines.neardup import DEFAULT_SHINGLE_SIZE, near_settings
from pipelines.wire import load_agencies

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from pipelines.extraction import Agencies


def freeze_agencies(agencies: dict[str, list[str]] | None) -> Agencies:
    """The agencies setting in a hashable form, to send to workers and cache on."""
    if agencies is None:
        return None
    return tuple((name, tuple(aliases)) for name, aliases in agencies.items())


def extract_in_worker(*args: Any) -> dict | None:
    """pipelines.extraction.extract_page, imported where it runs: in the worker (preloaded
    by the forkserver), never in the crawling process."""
    from pipelines.extraction import extract_page

    return extract_page(*args)


class ExtractPipeline:
    """Fill `Capture.article`, or settle the capture as failed when it holds no article."""

    def __init__(
        self,
        workers: int,
        agencies: dict[str, list[str]] | None,
        shingle_size: int = DEFAULT_SHINGLE_SIZE,
    ) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.agencies = freeze_agencies(agencies)
        self.shingle_size = shingle_size
        self._pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        settings = crawler.settings
        return cls(
            settings.getint("WIREARCHIVE_EXTRACT_WORKERS"),
            load_agencies(settings.get("WIRE_AGENCIES")),
            near_settings(settings)[1],
        )

    def open_spider(self) -> None:
        self._pool = self._new_pool()
        # Start the workers now: they load trafilatura while the first pages download.
        self._pool.submit(os.getpid)

    def close_spider(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    async def process_item(self, item: Capture) -> Capture:
        if item.status is not None:
            return item
        content_type = dict((k.lower(), v) for k, v in item.headers).get("content-type", "")
        try:
            future = self._submit(item.body, content_type, item.url)
            article = await asyncio.wrap_future(future)
        except BrokenProcessPool:
            self._pool = self._new_pool()
            return item.settle(FAILED, "extraction worker crashed on this page")
        except Exception as exc:  # trafilatura's own failures on odd pages
            return item.settle(FAILED, f"extraction error: {type(exc).__name__}: {exc}")
        if article is None:
            return item.settle(FAILED, "no extractable article text")
        item.article = article
        return item

    def _submit(self, body: bytes, content_type: str, url: str) -> Any:
        assert self._pool is not None, "pipeline not opened"
        return self._pool.submit(
            extract_in_worker, body, content_type, url, self.agencies, self.shingle_size
        )

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=worker_context())


def worker_context() -> multiprocessing.context.ForkServerContext:
    """Workers are forked by a forkserver that has imported the extractor once."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipelines.extraction"])
    return context


def start_workers_early() -> None:
    """Start the forkserver now, so that it loads trafilatura while this process is still
    loading Scrapy: a one-URL `wirearchive add` then waits for neither in turn."""
    worker_context()
    from multiprocessing import forkserver

    forkserver.ensure_running()
