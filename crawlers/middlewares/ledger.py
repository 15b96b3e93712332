"""The URL ledger as a downloader middleware: fetch only what may have changed.

A post whose listing (feed, sitemap, API) gives an updated date no newer than the one recorded
at its last good fetch is not requested at all; any other known URL is requested conditionally
(If-None-Match / If-Modified-Since), so an unchanged page costs a 304 and no body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from archive.storage.session import ArchiveSession, session_of
from crawlers.middlewares.refusals import NotModifiedSkip

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

GOOD = ("archived", "duplicate", "unchanged", "skipped")


class LedgerMiddleware:
    """Skip listed posts that have not changed; make other known URLs conditional."""

    def __init__(self, session: ArchiveSession) -> None:
        self.session = session  # the run's: its catalog is opened at the first known URL

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LedgerMiddleware:
        return cls(session_of(crawler))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if not request.meta.get("wa_article"):
            return
        known = self.session.catalog.ledger_entry(request.meta.get("wa_input", request.url))
        if known is None or known["last_status"] not in GOOD:
            return
        request.meta["wa_known_article"] = known["article_id"]
        listed = (request.meta.get("wa_entry") or {}).get("updated")
        if listed and known["lastmod"] and listed <= known["lastmod"]:
            raise NotModifiedSkip("not modified: the listing's date is not newer than last time")
        if known["etag"]:
            request.headers.setdefault("If-None-Match", known["etag"])
        if known["last_modified"]:
            request.headers.setdefault("If-Modified-Since", known["last_modified"])
