"""Retries: Retry-After honoured on 429 and 503, and one time limit per page for timeouts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import DownloadTimeoutError
from twisted.internet import error

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.http import Response

TIMEOUTS = (DownloadTimeoutError, error.TimeoutError, error.TCPTimedOutError)
# A retry needs at least this many seconds of the page's time limit left to be worth sending.
MIN_RETRY_SECONDS = 0.5
# Request meta: the page's time limit (all its attempts together), the seconds its attempts
# have taken so far, when the current attempt started, and whether one has timed out already.
LIMIT, SPENT = "wa_time_limit", "wa_time_spent"
STARTED, TIMED_OUT = "wa_attempt_started", "wa_timed_out"


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, waiting as long as the server asks before retrying a 429 or
    503 (up to WIREARCHIVE_MAX_RETRY_AFTER seconds; a longer wait gives up on the page).

    A page's download time limit (DOWNLOAD_TIMEOUT, or its `download_timeout` meta) covers all
    its attempts together: the first attempt gets half of it, so that a page that times out
    can be retried once with the rest; a second time-out, or a limit used up, ends the page.
    """

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        meta = request.meta
        default = self.crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
        limit = meta.setdefault(LIMIT, meta.get("download_timeout", default))
        left = limit - meta.get(SPENT, 0.0)
        first = SPENT not in meta and not meta.get("dont_retry")
        meta["download_timeout"] = limit / 2 if first else max(left, MIN_RETRY_SECONDS)
        meta[STARTED] = monotonic()

    async def process_response(  # type: ignore[override]  # Scrapy awaits coroutine hooks
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        left = self._spend(request)
        if left < MIN_RETRY_SECONDS:
            return response
        if response.status in (429, 503) and not request.meta.get("dont_retry"):
            header = response.headers.get(b"Retry-After") or b""
            wait = retry_after_seconds(header.decode("latin-1"))
            if wait is not None:
                limit = self.crawler.settings.getfloat("WIREARCHIVE_MAX_RETRY_AFTER")
                if wait > limit:
                    return response
                await asyncio.sleep(wait)
        return super().process_response(request, response)

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        left = self._spend(request)
        if not isinstance(exception, TIMEOUTS):
            if left < MIN_RETRY_SECONDS:
                return None
            return super().process_exception(request, exception)
        meta = request.meta
        if meta.get(TIMED_OUT) or left < MIN_RETRY_SECONDS or meta.get("dont_retry"):
            attempts = meta.get("retry_times", 0) + 1
            if attempts > 1:
                raise DownloadTimeoutError(
                    f"Getting {request.url} took longer than {meta[LIMIT]:g} seconds"
                    f" in {attempts} attempts (the page's time limit)"
                ) from exception
            return None
        meta[TIMED_OUT] = True
        return super().process_exception(request, exception)

    @staticmethod
    def _spend(request: Request) -> float:
        """Count the attempt that just ended against the page's limit; the seconds left."""
        meta = request.meta
        if LIMIT not in meta:  # answered by a middleware before this one
            return float("inf")
        meta[SPENT] = meta.get(SPENT, 0.0) + monotonic() - meta.pop(STARTED, monotonic())
        return meta[LIMIT] - meta[SPENT]
