"""Run a Scrapy crawl in this process with the project's settings and collect each outcome."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from crawlers.items import FAILED, Capture


def project_settings(overrides: dict[str, Any] | None = None) -> Any:
    """crawlers.settings, as `scrapy crawl` sees them, with the CLI's values on top."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawlers.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for name, value in (overrides or {}).items():
        if value is not None:
            settings.set(name, value, priority="cmdline")
    return settings


def run_spider(
    spider: str,
    settings: Any,
    on_result: Callable[[Capture], None],
    **spider_args: Any,
) -> None:
    """Run one spider to the end; `on_result` gets every settled Capture as it comes."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider)

    def scraped(item: Any, **_: Any) -> None:
        on_result(item)

    def errored(item: Any, failure: Any, **_: Any) -> None:
        on_result(item.settle(FAILED, f"archiving failed: {failure.getErrorMessage()}"))

    crawler.signals.connect(scraped, signal=signals.item_scraped)
    crawler.signals.connect(errored, signal=signals.item_error)
    process.crawl(crawler, **spider_args)
    process.start()
