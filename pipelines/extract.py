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
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from w3lib.encoding import html_to_unicode

from crawlers.items import FAILED, Capture
from pipelines.extraction import extract_article
from pipelines.wire import WireAttributor, load_agencies

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

Agencies = tuple[tuple[str, tuple[str, ...]], ...] | None


def extract_page(body: bytes, content_type: str, url: str, agencies: Agencies) -> dict | None:
    """Decode, extract and attribute one page; runs in a worker process."""
    _, html = html_to_unicode(content_type or None, body)
    article = extract_article(html.replace("\x00", ""), url)
    if article is not None:
        article["wire_source"] = _attributor(agencies).detect(article["text"], article["title"])
    return article


def freeze_agencies(agencies: dict[str, list[str]] | None) -> Agencies:
    """The agencies setting in a hashable form, to send to workers and cache on."""
    if agencies is None:
        return None
    return tuple((name, tuple(aliases)) for name, aliases in agencies.items())


@lru_cache(maxsize=4)
def _attributor(agencies: Agencies) -> WireAttributor:
    return WireAttributor(dict(agencies) if agencies is not None else None)


class ExtractPipeline:
    """Fill `Capture.article`, or settle the capture as failed when it holds no article."""

    def __init__(self, workers: int, agencies: dict[str, list[str]] | None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.agencies = freeze_agencies(agencies)
        self._pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        settings = crawler.settings
        return cls(
            settings.getint("WIREARCHIVE_EXTRACT_WORKERS"),
            load_agencies(settings.get("WIRE_AGENCIES")),
        )

    def open_spider(self) -> None:
        self._pool = self._new_pool()

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
        return self._pool.submit(extract_page, body, content_type, url, self.agencies)

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["pipelines.extract"])
        return ProcessPoolExecutor(self.workers, mp_context=context)
