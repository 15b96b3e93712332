"""The `urls` spider: a fixed list of URLs, as `wirearchive add` and the `urls` source kind use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.capture import capture_failure, capture_response
from crawlers.items import REFUSED, Capture


class UrlsSpider(scrapy.Spider):
    """Fetch each given URL once; every URL yields exactly one Capture, failed or not.

    From the command line: `scrapy crawl urls -a urls=https://a.example/x,https://b.example/y`.
    """

    name = "urls"

    def __init__(
        self, urls: Iterable[str] | str = (), source: str = "on-demand", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(urls, str):
            urls = [u for u in urls.split(",") if u.strip()]
        self.start_list = list(dict.fromkeys(u.strip() for u in urls))
        self.source = source

    async def start(self) -> AsyncIterator[scrapy.Request | Capture]:
        for url in self.start_list:
            try:
                # dont_filter: two inputs that redirect to one page must both get an answer.
                yield scrapy.Request(
                    url,
                    callback=self.parse,
                    errback=self.failed,
                    dont_filter=True,
                    meta={"wa_input": url},
                )
            except ValueError as exc:
                yield Capture(input_url=url, url=url, source=self.source).settle(
                    REFUSED, f"invalid URL: {exc}"
                )

    def parse(self, response: Response, **kwargs: Any) -> Iterable[Capture]:
        yield capture_response(response, self.source)

    def failed(self, failure: Failure) -> Iterable[Capture]:
        yield capture_failure(failure, self.source)
