"""Turn Scrapy responses and download failures into Capture items with a clear reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import defer, error
from twisted.web._newclient import ResponseFailed

from archive.core.clock import now_iso
from archive.core.items import FAILED, REFUSED, UNCHANGED, Capture
from crawlers.handlers import WIRE_BODY, WIRE_HEAD
from crawlers.middlewares.refusals import AddressRefused, CrawlTrap, NotModifiedSkip

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response
    from twisted.python.failure import Failure

HTML_TYPES = ("text/html", "application/xhtml+xml")


def capture_response(response: Response, source: str) -> Capture:
    """A Capture of a downloaded response; non-HTML responses are settled as failed."""
    request = response.request
    capture = Capture(
        input_url=_input_url(request) if request is not None else response.url,
        url=response.url,
        source=source,
        status_code=response.status,
        headers=header_pairs(response.headers),
        request_headers=header_pairs(request.headers) if request is not None else [],
        body=response.body,
        wire_head=response.meta.get(WIRE_HEAD),
        wire_body=response.meta.get(WIRE_BODY),
        fetched_at=now_iso(),
        ip_address=str(response.ip_address) if response.ip_address else None,
    )
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
    mime = content_type.split(";")[0].strip()
    if mime and mime not in HTML_TYPES:
        return capture.settle(FAILED, f"not HTML: {mime}")
    if not mime and not _looks_like_html(response.body):
        return capture.settle(FAILED, "not HTML: no Content-Type and no HTML markup")
    return capture


def capture_failure(failure: Failure, source: str) -> Capture:
    """A Capture settled as failed or refused, with the reason a person can act on."""
    request: Request | None = getattr(failure, "request", None)
    url = request.url if request is not None else ""
    capture = Capture(input_url=_input_url(request) if request else url, url=url, source=source)
    status, reason = classify_failure(failure)
    return capture.settle(status, reason)


def classify_failure(failure: Failure) -> tuple[str, str]:
    """(status, reason) for a download failure."""
    exc = failure.value
    if isinstance(exc, AddressRefused):
        return REFUSED, str(exc)
    if isinstance(exc, NotModifiedSkip):
        return UNCHANGED, str(exc)
    if isinstance(exc, CrawlTrap):
        return FAILED, str(exc)
    if isinstance(exc, HttpError):
        response = exc.response
        return FAILED, f"HTTP {response.status}"
    if isinstance(exc, error.DNSLookupError | CannotResolveHostError):
        message = str(exc)
        if "refused:" in message:
            return REFUSED, message[message.index("refused:") :]
        # Twisted's message starts "DNS lookup failed" already; Scrapy's may not.
        if message.lower().startswith("dns lookup failed"):
            return FAILED, message
        return FAILED, f"DNS lookup failed: {message}"
    if isinstance(exc, error.ConnectionRefusedError | DownloadConnectionRefusedError):
        return FAILED, "connection refused"
    if isinstance(exc, error.TimeoutError | error.TCPTimedOutError | DownloadTimeoutError):
        return FAILED, f"timed out: {exc}"
    if isinstance(exc, defer.CancelledError | DownloadCancelledError):
        message = str(exc)
        if "max size" in message or "maxsize" in message.lower():
            return FAILED, f"body over the size limit: {message}"
        if not message:
            # Scrapy's HTTP/1.1 handler cancels a body that grows past DOWNLOAD_MAXSIZE while
            # it streams in (chunked, or no Content-Length) without a word; its other cancels
            # carry a message, and a timeout is a DownloadTimeoutError.
            return FAILED, "body over the size limit: it grew past DOWNLOAD_MAXSIZE"
        return FAILED, f"download cancelled: {message}"
    if isinstance(exc, ResponseDataLossError):
        # Scrapy 2.19 raises it bare, the Twisted failure as its cause.
        detail = str(exc) or _twisted_reasons(exc.__cause__)
        reason = "truncated response: the body ended early"
        return FAILED, f"{reason} ({detail})" if detail else reason
    if isinstance(exc, IgnoreRequest):
        message = str(exc)
        if "robots.txt" in message.lower():
            return FAILED, "disallowed by robots.txt"
        if "DOWNLOAD_MAXSIZE" in message or "exceeded" in message:
            return FAILED, f"body over the size limit: {message}"
        return FAILED, message or "request ignored"
    if isinstance(exc, ResponseFailed | DownloadFailedError):
        # Scrapy 2.19 wraps Twisted's ResponseFailed in DownloadFailedError (its str() is a
        # list of Failure reprs): name the Twisted reasons instead.
        inner = _twisted_reasons(exc) or _twisted_reasons(exc.__cause__) or str(exc)
        return FAILED, f"broken response: {inner or type(exc).__name__}"
    return FAILED, f"{type(exc).__name__}: {exc}"


def _twisted_reasons(exc: BaseException | None) -> str:
    """The messages of a Twisted ResponseFailed's reasons, joined; "" for anything else."""
    if not isinstance(exc, ResponseFailed):
        return ""
    return "; ".join(r.getErrorMessage() for r in exc.reasons if r.getErrorMessage())


def _input_url(request: Request) -> str:
    return request.meta.get("wa_input", request.url)


def header_pairs(headers: object) -> list[tuple[str, str]]:
    """Scrapy headers as (name, value) text pairs, one per value."""
    pairs = []
    for name, values in headers.items():  # type: ignore[attr-defined]
        for value in values:
            pairs.append((name.decode("latin-1"), value.decode("latin-1")))
    return pairs


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<head" in head
