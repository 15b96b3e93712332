"""The address guard: only public http(s) URLs are fetched, on every request and redirect.

The policy is archive/core/addresses.py. Checked twice: by the downloader middleware before a
request leaves, with a clear reason, and by the DNS resolver at connect time, so that a DNS
answer that changes in between (rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import error

from archive.core.addresses import AddressPolicy, as_ip, check_url, resolve_and_check
from crawlers.middlewares.refusals import AddressRefused

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from twisted.internet.defer import Deferred


class AddressGuardMiddleware:
    """Downloader middleware that refuses requests the guard does not allow."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        return cls(AddressPolicy.from_settings(crawler.settings))

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        reason = check_url(request.url, self.policy)
        if reason is None and not self.policy.allow_all:
            host = urlsplit(request.url).hostname or ""
            if as_ip(host) is None:
                reason = await self._host_verdict(host)
        if reason:
            raise AddressRefused(reason)

    async def _host_verdict(self, host: str) -> str | None:
        if host not in self._verdicts:
            try:
                verdict = await resolve_and_check(host, self.policy)
            except OSError:
                return None  # the download reports the DNS failure itself
            if len(self._verdicts) > 10_000:
                self._verdicts.clear()
            self._verdicts[host] = verdict
        return self._verdicts[host]


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver that fails lookups of hosts with refused addresses."""

    policy = AddressPolicy()

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.policy = AddressPolicy.from_settings(crawler.settings)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        d = super().getHostByName(name, timeout)
        d.addCallback(self._check, name)
        return d

    def _check(self, address: str, name: str) -> str:
        reason = self.policy.check_ip(ipaddress.ip_address(address))
        if reason:
            raise error.DNSLookupError(f"refused: {name} resolves to {reason}")
        return address
