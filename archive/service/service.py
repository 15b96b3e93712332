"""The HTTP service's work apart from HTTP: its settings, URL submissions, catalog reads."""

from __future__ import annotations

import asyncio
import hmac
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from archive.core.addresses import AddressPolicy, as_ip, check_url, resolve_and_check
from archive.core.settings import DEFAULTS, Settings
from archive.service.jobs import JobQueue
from archive.service.ratelimit import RateLimiter
from archive.storage.catalog import Catalog

if TYPE_CHECKING:
    from archive.storage.warc import StoredResponse

DNS_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class ServiceConfig:
    """Where the archive is, and the service's limits (WIREARCHIVE_API_* and the like)."""

    db: str
    store: str
    allow_private: str | None = None
    token: str | None = None
    queue_size: int = DEFAULTS.api_queue
    rate: int = DEFAULTS.api_rate  # POSTs per minute and client
    spool: str | None = None
    trusted_proxies: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ServiceConfig:
        """The config of the archive and limits that `settings` name."""
        return cls(
            db=settings.db,
            store=settings.store,
            allow_private=settings.allow_private,
            token=settings.api_token,
            queue_size=settings.api_queue,
            rate=settings.api_rate,
            spool=settings.spool,
            trusted_proxies=settings.trusted_proxies,
        )


class Service:
    """The archive behind the HTTP service: the job queue, the address guard, the limits."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.policy = AddressPolicy(config.allow_private)
        self.jobs = JobQueue(config.db, config.store, config.queue_size)
        self.limiter = RateLimiter(config.rate)
        self.anonymous_limiter = RateLimiter(config.rate)  # 401s never use up a token's budget

    @property
    def token_required(self) -> bool:
        """Whether submissions need the API token."""
        return self.config.token is not None

    def authorized(self, token: str | None) -> bool:
        """Whether `token` lets its bearer submit URLs."""
        if self.config.token is None:
            return True
        return token is not None and hmac.compare_digest(
            token.encode("utf-8", "surrogateescape"), self.config.token.encode()
        )

    def throttle(self, client: str, authorized: bool) -> int:
        """Count a submission by `client`: 0 when allowed, else seconds to wait. Submissions
        without a valid token count against a budget of their own."""
        return (self.limiter if authorized else self.anonymous_limiter).hit(client)

    async def refusal(self, url: str) -> str | None:
        """Why the crawl would refuse `url` (the CLI's address guard, with DNS); None if not.

        A host that does not resolve (in time) is let through: the crawl reports it, and
        checks the address again when it connects and on every redirect."""
        reason = check_url(url, self.policy)
        host = urlsplit(url.strip()).hostname or ""
        if reason is not None or self.policy.allow_all or as_ip(host) is not None:
            return reason
        try:
            return await asyncio.wait_for(resolve_and_check(host, self.policy), DNS_TIMEOUT_SECONDS)
        except ValueError as exc:  # a host name IDNA cannot encode
            return f"invalid URL: {exc}"
        except (OSError, TimeoutError):
            return None

    def catalog(self) -> closing[Catalog]:
        """A catalog connection for the calling thread, closed when the `with` block ends."""
        return closing(Catalog(self.config.db))

    def raw_response(self, article: dict[str, Any], decoded: bool = False) -> bytes:
        """The HTTP response stored for `article`, read from its WARC record: as received,
        or `decoded` (archive.storage.warc.stored_response).

        Raises KeyError when the record is missing, StoreError/SpoolError when unreadable."""
        from archive.storage.warc import stored_response

        key, offset, length = article["raw_key"], article["raw_offset"], article["raw_length"]
        span = self._span(key, offset, length, bool(article["pending"]))
        return stored_response(span, decoded)

    def captured(self, capture_id: str) -> StoredResponse | None:
        """The response a capture stored (a revisit's: the one it confirms), or None for an
        unknown capture. Raises like `raw_response`."""
        from archive.storage.warc import read_response

        with self.catalog() as catalog:
            capture = catalog.capture(capture_id)
            if capture is not None and capture["refers_to"]:
                capture = catalog.capture(capture["refers_to"])
            if capture is None:
                return None
            waiting = catalog.waiting(capture["warc_key"])
        span = self._span(
            capture["warc_key"], capture["warc_offset"], capture["warc_length"], waiting
        )
        return read_response(span)

    def _span(self, key: str, offset: int, length: int, waiting: bool) -> bytes:
        """Bytes of a WARC file in the store, or in the spool while it waits there."""
        from archive.storage.spool import Spool, read_span
        from archive.storage.store import open_store
        from archive.storage.uploader import spool_dir

        store = open_store(self.config.store)
        spool = Spool(spool_dir(self.config.db, self.config.spool), store.uri) if waiting else None
        return read_span(store, spool, key, offset, length)
