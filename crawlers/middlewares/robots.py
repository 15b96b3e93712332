"""robots.txt as RFC 9309 reads it, for every request to a host.

Scrapy's RobotsTxtMiddleware, with two fixes: a robots.txt that answers 5xx or cannot be
fetched (timeout, broken connection) disallows the whole host for the run, where Scrapy
would allow everything; and requests that arrive while robots.txt is still being fetched all
wait for the parsed rules (Scrapy hands the rules to the first waiter only, so the others went
ahead unchecked).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    IgnoreRequest,
)
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError, DNSLookupError

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"
_UNREACHABLE = (
    CannotResolveHostError
    | DNSLookupError
    | DownloadConnectionRefusedError
    | ConnectionRefusedError
)


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    """RobotsTxtMiddleware that fails closed when robots.txt is unavailable."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fetches: dict[str, asyncio.Future[RobotParser | None]] = {}

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        if netloc not in self._fetches:
            self._fetches[netloc] = asyncio.ensure_future(super().robot_parser(request))
        return await asyncio.shield(self._fetches[netloc])

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            self._stats.inc_value("robotstxt/unavailable")
            response = response.replace(body=DISALLOW_ALL)
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest | _UNREACHABLE):
            # Refused by the guard, or no server at all: the request itself fails with
            # the real reason, so there is nothing for robots.txt to decide.
            return super()._robots_error(exc, netloc)
        self._stats.inc_value("robotstxt/unavailable")
        parser = build_from_crawler(self._parserimpl, self.crawler, DISALLOW_ALL)
        deferred = self._parsers[netloc]
        if not isinstance(deferred, Deferred):
            raise TypeError(f"robots.txt of {netloc} failed, but it was not being fetched")
        self._parsers[netloc] = parser
        deferred.callback(parser)
        return None
