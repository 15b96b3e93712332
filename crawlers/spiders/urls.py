"""The `urls` spider: a fixed list of URLs, for `wirearchive add` and `kind = "urls"` sources."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import scrapy

from archive.core.addresses import AddressPolicy, check_url
from archive.core.entries import Entry
from archive.core.items import REFUSED, Capture
from crawlers.sources import Source
from crawlers.spiders.base import SourceSpider

ANY_ADDRESS = AddressPolicy(allow=True)  # shape checks only: addresses are the guard's


class UrlsSpider(SourceSpider):
    """Fetch each given URL once; every URL yields exactly one Capture, failed or not.

    From the command line: `scrapy crawl urls -a urls=https://a.example/x,https://b.example/y`.
    """

    name = "urls"

    def __init__(
        self,
        urls: Iterable[str] | str = (),
        source: Source | None = None,
        source_name: str = "on-demand",
        **kwargs: Any,
    ) -> None:
        if isinstance(urls, str):
            urls = [u for u in urls.split(",") if u.strip()]
        wanted = list(dict.fromkeys(u.strip() for u in (*urls, *(source.urls if source else ()))))
        if source is None:
            source = Source(name=source_name, url=wanted[0] if wanted else "", kind="urls")
        super().__init__(source=source, **kwargs)
        self.start_list = wanted

    async def start(self) -> AsyncIterator[scrapy.Request | Capture]:
        for url in self.start_list:
            # The URL's shape (scheme, host, length...) before Scrapy sees it: its messages
            # would name its own escaping, and UrlLengthMiddleware drops long ones silently.
            # Addresses are the guard's, under the crawl's policy.
            if reason := check_url(url, ANY_ADDRESS):
                yield Capture(input_url=url, url=url, source=self.source.name).settle(
                    REFUSED, reason
                )
                continue
            try:
                # dont_filter: two inputs that redirect to one page must both get an answer.
                request = self.article_request(Entry(url=url), dont_filter=True)
            except ValueError as exc:
                yield Capture(input_url=url, url=url, source=self.source.name).settle(
                    REFUSED, f"invalid URL: {exc}"
                )
                continue
            if request is not None:
                yield request
