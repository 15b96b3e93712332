"""Run Scrapy crawls in this process with the project's settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from archive.core.errors import ConfigError
from archive.core.items import FAILED, Capture
from archive.core.settings import Settings, scrapy_values
from archive.storage.session import ArchiveSession, attach
from archive.storage.spool import Upload


def project_settings(values: Settings, overrides: dict[str, Any] | None = None) -> Any:
    """Scrapy settings: crawlers.settings, as `scrapy crawl` sees them, with the wirearchive
    settings of `values` (read when the command started) and then Scrapy `overrides` on top."""
    from scrapy.settings import Settings as ScrapySettings

    settings = ScrapySettings()
    settings.setmodule("crawlers.settings", priority="project")
    settings.setdict(scrapy_values(values), priority="project")
    for name, value in (overrides or {}).items():
        if value is not None:
            settings.set(name, value, priority="cmdline")
    return settings


def check_config(settings: Any) -> None:
    """Raise ConfigError for a bad setting before any crawl starts."""
    from archive.core.addresses import AddressPolicy
    from archive.storage.catalog import Catalog, CatalogError
    from archive.storage.spool import Spool, SpoolError
    from archive.storage.store import StoreError, open_store
    from archive.storage.uploader import spool_dir
    from pipelines.wire import load_agencies

    try:
        AddressPolicy.from_settings(settings)
        load_agencies(settings.get("WIRE_AGENCIES"))
        store = open_store(settings.get("WIREARCHIVE_STORE"))
        store.check()
        db = settings.get("WIREARCHIVE_DB")
        Catalog(db).close()
        Spool(spool_dir(db, settings.get("WIREARCHIVE_SPOOL")), store.uri, catalog=db).close()
    except (ValueError, StoreError, SpoolError, CatalogError, RuntimeError, OSError) as exc:
        raise ConfigError(str(exc)) from None


def run_spider(
    spider: str,
    settings: Any,
    on_result: Callable[[Capture], None],
    on_stored: Callable[[ArchiveSession, Upload], None] | None = None,
    **spider_args: Any,
) -> ArchiveSession:
    """Run one spider to the end; `on_result` gets every settled Capture as it comes, and
    `on_stored` the run's session and each upload round (archive.storage.spool.Upload). The run's
    session, closed (its `upload_error` says whether the last upload failed)."""
    from scrapy.crawler import CrawlerProcess

    from pipelines.archive import objects_stored

    process = CrawlerProcess(settings)
    session = ArchiveSession(settings.get("WIREARCHIVE_DB"))
    crawler = process.create_crawler(spider)
    attach(crawler, session)
    watch_results(crawler, on_result)
    if on_stored is not None:
        crawler.signals.connect(
            lambda upload, **_: on_stored(session, upload), signal=objects_stored, weak=False
        )
    process.crawl(crawler, **spider_args)
    quiet_failures(settings)
    run_to_end(process, session)
    return session


def run_to_end(process: Any, session: ArchiveSession) -> None:
    """Run the crawls of `process` (each handed `session`) to the end, then close the session
    once (the last archive stage to close has stopped its uploader)."""
    try:
        process.start()
    finally:
        session.close()


# Scrapy's log lines for a page that could not be downloaded: its result (the JSON line of
# `add`, the summary of `crawl`) already says why, so below INFO they are left out.
_REPORTED_ELSEWHERE = {
    "scrapy.downloadermiddlewares.retry": "Gave up retrying",
    "scrapy.downloadermiddlewares.robotstxt": "Error downloading",
}


class OneLineFailures(logging.Filter):
    """Drop the log lines of download failures reported elsewhere; any other record is kept,
    its traceback cut to the exception's one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        prefix = _REPORTED_ELSEWHERE.get(record.name)
        if prefix is not None and str(record.msg).startswith(prefix):
            return False
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({type(exc).__name__}: {exc})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_failures(settings: Any) -> None:
    """Unless the log level is INFO or lower, keep stderr to one line per problem: a filter
    on the handler Scrapy installed on the root logger (each crawler's start replaces it,
    so call this once the crawlers are started)."""
    if logging.getLevelName(str(settings.get("LOG_LEVEL"))) in (logging.DEBUG, logging.INFO):
        return
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, OneLineFailures) for f in handler.filters):
            handler.addFilter(OneLineFailures())


def watch_results(crawler: Any, on_result: Callable[[Capture], None]) -> None:
    """Call `on_result` with every Capture the crawler settles, archived or not."""
    from scrapy import signals

    def scraped(item: Any, **_: Any) -> None:
        on_result(item)

    def errored(item: Any, failure: Any, **_: Any) -> None:
        on_result(item.settle(FAILED, f"archiving failed: {failure.getErrorMessage()}"))

    crawler.signals.connect(scraped, signal=signals.item_scraped, weak=False)
    crawler.signals.connect(errored, signal=signals.item_error, weak=False)
