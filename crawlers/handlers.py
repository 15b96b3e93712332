"""The HTTP(S) download handler: Scrapy's HTTP/1.1 handler, keeping each response as it
came off the wire for the WARC record.

Scrapy's response has header names re-cased (`ETag` becomes `Etag`), `Content-Length` moved
first, the connection headers (`Transfer-Encoding`, `Connection`) dropped, and, once its
compression middleware ran, a decoded body. This handler keeps the status line and header
lines exactly as the server sent them, and the body as it arrived (before content decoding;
with any chunked framing as it came, as warcio keeps it), in the request's meta (`WIRE_HEAD`,
`WIRE_BODY`), where capture building finds them (crawlers/middlewares/capture.py).

It reaches into Scrapy's HTTP/1.1 handler (private classes: the parser, the protocol and the
connection factory), as Scrapy's own lenient parser does; pyproject.toml pins Scrapy to the minor
version it is tested with.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
    _LenientHTTPClientParser,
)
from twisted.web._newclient import HEADER, STATUS

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response
    from twisted.internet.defer import Deferred

WIRE_HEAD = "wirearchive_wire_head"  # the status line and header lines, CRLF-separated
WIRE_BODY = "wirearchive_wire_body"  # the body before content decoding
# How the parser hands a response's wire state to the handler: a token in a header of the
# Twisted response (set by the parser over any a server sent, and taken out of the Scrapy
# response before anyone sees it), under which _ARRIVING holds it until the response's
# headers_received signal moves it into the request's meta.
_CARRIER = b"X-Wirearchive-Wire"
_META = "wirearchive_wire"
_ARRIVING: dict[bytes, _Wire] = {}
_MAX_ARRIVING = 10_000  # a bound, should a response never reach its signal


class _Wire:
    """One response as received: its head lines, and its body as it arrived when a transfer
    coding (chunked) framed it; else the body is Scrapy's own, before content decoding."""

    def __init__(self, status_line: bytes) -> None:
        self.lines = [status_line]
        self.body: list[bytes] | None = None


class _RecordingParser(_LenientHTTPClientParser):
    """Scrapy's lenient parser that also keeps the response as received. No state of its
    own beyond `wire` (the protocol swaps a parser's class to it)."""

    wire: _Wire | None = None

    def lineReceived(self, line: bytes) -> None:
        bare = line.removesuffix(b"\r")
        if self.state == STATUS:  # a new head (after any 1xx informational one)
            self.wire = _Wire(bare)
        elif self.state == HEADER and bare and self.wire is not None:
            self.wire.lines.append(bare)
        super().lineReceived(line)

    def allHeadersReceived(self) -> None:
        if self.wire is not None:
            if self.connHeaders.hasHeader(b"Transfer-Encoding"):
                self.wire.body = []
            token = secrets.token_hex(16).encode()
            if len(_ARRIVING) >= _MAX_ARRIVING:
                _ARRIVING.clear()
            _ARRIVING[token] = self.wire
            self.headers.setRawHeaders(_CARRIER, [token])
        super().allHeadersReceived()

    def rawDataReceived(self, data: bytes) -> None:
        if self.wire is not None and self.wire.body is not None:
            self.wire.body.append(data)
        super().rawDataReceived(data)


class _RecordingProtocol(_LenientHTTP11ClientProtocol):
    def request(self, request: Any) -> Deferred[Any]:
        d = super().request(request)
        assert self._parser is not None
        self._parser.__class__ = _RecordingParser  # as Scrapy swaps in its lenient parser
        return d


class _RecordingFactory(_LenientHTTP11ClientFactory):
    def buildProtocol(self, addr: Any) -> _RecordingProtocol:
        return _RecordingProtocol(self._quiescentCallback)


class WireDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler; each response's head and body as received go into its
    request's meta (WIRE_HEAD, WIRE_BODY)."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._pool._factory = _RecordingFactory
        crawler.signals.connect(self._headers_received, signal=signals.headers_received)

    @staticmethod
    def _headers_received(headers: Any, request: Request, **_: Any) -> None:
        token = headers.get(_CARRIER)
        wire = _ARRIVING.pop(token, None) if token else None
        if wire is not None:
            request.meta[_META] = wire

    async def download_request(self, request: Request) -> Response:
        """Download as Scrapy's handler does, keeping the response as received."""
        response = await super().download_request(request)
        response.headers.pop(_CARRIER, None)
        wire: _Wire | None = request.meta.pop(_META, None)
        request.meta[WIRE_HEAD] = b"\r\n".join(wire.lines) if wire else None
        wire_body = b"".join(wire.body) if wire and wire.body is not None else None
        request.meta[WIRE_BODY] = response.body if wire_body is None else wire_body
        return response
