"""Retries that honour Retry-After on 429 and 503 responses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.http import Response


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
    503 (up to WIREARCHIVE_MAX_RETRY_AFTER seconds; a longer wait gives up on the page)."""

    async def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if response.status in (429, 503) and not request.meta.get("dont_retry"):
            wait = retry_after_seconds(response.headers.get(b"Retry-After", b"").decode("latin-1"))
            if wait is not None:
                limit = self.crawler.settings.getfloat("WIREARCHIVE_MAX_RETRY_AFTER")
                if wait > limit:
                    return response
                await asyncio.sleep(wait)
        return super().process_response(request, response)
