"""Crawl-trap bounds: per-host page budget, repeating path segments, endless calendars."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

from crawlers.middlewares.refusals import CrawlTrap

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

# A year as a calendar shows it: a whole path segment or query value ("2031", "2031-05",
# "2031-05-01"), never a number inside a slug ("party-like-its-1923").
_CALENDAR_VALUE = re.compile(r"(\d{4})(?:-\d{1,2}(?:-\d{1,2})?)?")
EARLIEST_YEAR = 1990


def trap_reason(url: str, latest_year: int, listing: bool = True) -> str | None:
    """Why `url` looks like a crawl trap; None when it does not. Calendar dates are judged
    on listing pages only: a post may well live under an old year."""
    parts = urlsplit(url)
    segments = [s for s in unquote(parts.path).split("/") if s]
    repeated = [s for s, n in Counter(segments).items() if n >= 3]
    if repeated:
        return f"crawl trap: path segment {repeated[0]!r} repeats"
    if not listing:
        return None
    values = segments + [v for _, v in parse_qsl(parts.query)]
    for value in values:
        match = _CALENDAR_VALUE.fullmatch(value)
        if match and not EARLIEST_YEAR <= int(match[1]) <= latest_year:
            return f"crawl trap: date {match[1]} is outside {EARLIEST_YEAR}-{latest_year}"
    return None


class TrapGuardMiddleware:
    """Downloader middleware that refuses trap-shaped URLs and enforces a per-host budget."""

    def __init__(self, host_budget: int) -> None:
        self.host_budget = host_budget
        self.latest_year = datetime.now(UTC).year + 1
        self._pages: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TrapGuardMiddleware:
        return cls(crawler.settings.getint("WIREARCHIVE_HOST_BUDGET"))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get("dont_obey_robotstxt"):  # robots.txt itself
            return
        listing = not request.meta.get("wa_article")
        reason = trap_reason(request.url, self.latest_year, listing)
        if reason:
            raise CrawlTrap(reason)
        host = urlsplit(request.url).netloc
        if self._pages[host] >= self.host_budget:
            raise CrawlTrap(f"crawl trap: page budget of {self.host_budget} for {host} spent")
        self._pages[host] += 1
