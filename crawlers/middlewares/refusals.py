"""The requests the middlewares refuse, as exceptions capture building turns into reasons."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest


class AddressRefused(IgnoreRequest):
    """A URL the guard will not fetch; the message says why."""


class NotModifiedSkip(IgnoreRequest):
    """The listing says the post has not changed since its last good fetch."""


class CrawlTrap(IgnoreRequest):
    """A request refused as a likely crawl trap; the message says which bound."""
