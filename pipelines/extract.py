"""Pipeline stage 1: extract the article and attribute wire copy, in worker processes.

trafilatura is CPU-bound (tens of ms a page), so it runs in a process pool off the reactor;
the reactor keeps downloading while the workers extract. Each page has a time limit and each
worker an address-space limit: a page that hangs or explodes the extractor costs only its
worker (pebble stops it and starts another) and is recorded as failed with the reason;
the other pages in flight and the crawl go on. A worker killed from outside (the OOM killer
picks the largest process) may break the whole pool, or leave it stuck: a broken or silent
pool is replaced, and the pages it held are tried once more on the new one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import threading
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from pebble import ProcessExpired, ProcessPool

from archive.core.items import FAILED, SKIPPED, Capture
from archive.core.settings import DEFAULTS
from archive.storage.session import session_of
from pipelines.metadata import merge_listing
from pipelines.neardup import DEFAULT_SHINGLE_SIZE, near_settings
from pipelines.runstate import RunState, run_state
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

    # What the workers run; by reference, so a test can put a faulty stand-in in its place.
    work = staticmethod(extract_in_worker)

    def __init__(
        self,
        workers: int,
        agencies: dict[str, list[str]] | None,
        shingle_size: int = DEFAULT_SHINGLE_SIZE,
        timeout: float = DEFAULTS.extract_timeout,
        memory_mb: int = DEFAULTS.extract_memory_mb,
        max_tasks: int = 2000,
        stall_grace: float = 60.0,
        state: RunState | None = None,
    ) -> None:
        self.workers = workers or os.cpu_count() or 1
        # Counts the pages being extracted, for the run's archive stage (see ArchivePipeline).
        self.state = state or RunState()
        self.agencies = freeze_agencies(agencies)
        self.shingle_size = shingle_size
        self.timeout = timeout
        self.memory_mb = memory_mb
        # A worker is replaced after this many pages (its memory is flat well past them).
        self.max_tasks = max_tasks
        # How long past the page time limit the pool may go without finishing any page
        # before it counts as stuck and is replaced.
        self.stall_grace = stall_grace
        self._pool: ProcessPool | None = None
        self._progress = time.monotonic()  # when the pool last finished a page

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        settings = crawler.settings
        return cls(
            settings.getint("WIREARCHIVE_EXTRACT_WORKERS"),
            load_agencies(settings.get("WIRE_AGENCIES")),
            near_settings(settings)[1],
            settings.getfloat("WIREARCHIVE_EXTRACT_TIMEOUT"),
            settings.getint("WIREARCHIVE_EXTRACT_MEMORY_MB"),
            state=run_state(session_of(crawler)),
        )

    def open_spider(self) -> None:
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPool:
        pool = ProcessPool(
            self.workers,
            max_tasks=self.max_tasks,
            initializer=limit_memory,
            initargs=(self.memory_mb,),
            context=worker_context(),
        )
        # Start the workers now: they load trafilatura while the first pages download.
        pool.schedule(os.getpid)
        return pool

    def _replace_pool(self, broken: ProcessPool | None) -> None:
        """Put a new pool in place of `broken`, unless another page already did."""
        if broken is not self._pool:
            return
        self._pool = self._new_pool()
        self._progress = time.monotonic()
        if broken is not None:
            broken.stop()
            # Joining may block on a pipe to a dead worker: never on the reactor's thread.
            threading.Thread(target=broken.join, daemon=True).start()

    def close_spider(self) -> None:
        if self._pool is not None:
            self._pool.close()
            try:
                self._pool.join(timeout=self.timeout + self.stall_grace)
            except TimeoutError:
                self._pool.stop()
                threading.Thread(target=self._pool.join, daemon=True).start()

    def _schedule(self, args: tuple[Any, ...]) -> tuple[ProcessPool, Future]:
        """Schedule one page, on a new pool if the current one broke while idle."""
        assert self._pool is not None, "pipeline not opened"
        pool = self._pool
        try:
            future = pool.schedule(self.work, args=args, timeout=self.timeout)
        except (BrokenProcessPool, RuntimeError):  # pebble: "Unexpected error within the Pool"
            self._replace_pool(pool)
            pool = self._pool
            future = pool.schedule(self.work, args=args, timeout=self.timeout)
        future.add_done_callback(self._finished)
        return pool, future

    def _finished(self, _: Future) -> None:
        self._progress = time.monotonic()

    async def _extract(self, args: tuple[Any, ...]) -> dict | None:
        """The worker's result for one page. A page whose worker died, or whose pool broke or
        stalled, is tried once more on a new pool: a dead worker may have held the pool's
        channel lock (pebble #163), which would stall every page after it. A page whose pool
        was replaced under it, for another page, goes again without that counting."""
        failures = 0
        while True:
            pool, future = self._schedule(args)
            try:
                return await self._outcome(pool, future)
            except PoolReplaced:
                continue
            except (BrokenProcessPool, ProcessExpired, PoolStalled):
                self._replace_pool(pool)
                failures += 1
                if failures == 2:
                    raise

    async def _outcome(self, pool: ProcessPool, future: Future) -> dict | None:
        """Wait for `future` of `pool`; PoolStalled when the pool finishes no page for too
        long, PoolReplaced when it was replaced meanwhile (a stopped pebble pool never ends
        the futures it held)."""
        waiting = asyncio.wrap_future(future)
        waited_from = time.monotonic()
        while True:
            done, _ = await asyncio.wait([waiting], timeout=1.0)
            if done:
                return waiting.result()
            if pool is not self._pool:
                future.cancel()
                raise PoolReplaced
            quiet = time.monotonic() - max(waited_from, self._progress)
            if quiet > self.timeout + self.stall_grace:
                future.cancel()
                raise PoolStalled(quiet)

    async def process_item(self, item: Capture) -> Capture:
        if item.status is not None:
            return item
        content_type = dict((k.lower(), v) for k, v in item.headers).get("content-type", "")
        args = (item.body, content_type, item.url, self.agencies, self.shingle_size)
        self.state.extracting += 1
        try:
            article = await self._extract(args)
        except TimeoutError:
            reason = f"extraction took longer than {self.timeout:g} s (its worker was stopped)"
            return item.settle(FAILED, reason)
        except ProcessExpired as exc:
            reason = f"the extraction worker died on this page (exit code {exc.exitcode})"
            return item.settle(FAILED, reason)
        except PoolStalled as exc:
            return item.settle(FAILED, f"extraction: {exc}")
        except BrokenProcessPool as exc:
            return item.settle(FAILED, f"extraction: the worker pool broke twice ({exc})")
        except MemoryError:
            reason = f"extraction needed more than its {self.memory_mb} MB of memory"
            return item.settle(FAILED, reason)
        except Exception as exc:  # trafilatura's own failures on odd pages
            return item.settle(FAILED, f"extraction error: {type(exc).__name__}: {exc}")
        finally:
            self.state.extracting -= 1
        if article is None:
            return item.settle(FAILED, "no extractable article text")
        if article.get("page_kind", "article") != "article":
            why = article.get("page_kind_reason") or article["page_kind"]
            return item.settle(SKIPPED, f"not an article: {why}")
        item.article = merge_listing(article, item.entry)
        return item


class PoolStalled(Exception):
    """The extraction pool finished no page for too long."""

    def __init__(self, quiet: float) -> None:
        super().__init__(f"the worker pool finished no page in {quiet:.0f} s, twice")


class PoolReplaced(Exception):
    """The pool a page waited on was replaced (for another page) before it answered."""


def limit_memory(megabytes: int) -> None:
    """Cap a worker's address space (0: no cap); runs in each new worker."""
    if megabytes > 0:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# What the forkserver imports once for every worker it forks: the extractor, and datasketch
# (with scipy) that the MinHash signature imports on first use (about 0.5 s of CPU a worker).
PRELOAD = ["pipelines.extraction", "datasketch"]


def worker_context() -> multiprocessing.context.ForkServerContext:
    """The context the workers are forked in: by a forkserver, started by `start_workers`."""
    return multiprocessing.get_context("forkserver")


def start_workers(warm: bool) -> None:
    """Start the forkserver now, with PRELOAD, so that it loads trafilatura while this
    process is still loading Scrapy. `warm`: it also runs the extractor over sample pages
    first (pipelines.warmworker), which a crawl of many pages gains back many times over on
    every worker it forks, and a one-URL `wirearchive add` would only wait for."""
    worker_context().set_forkserver_preload(PRELOAD + (["pipelines.warmworker"] if warm else []))
    from multiprocessing import forkserver

    forkserver.ensure_running()
