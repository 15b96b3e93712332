"""A loopback server that misbehaves on purpose, one route per hostile input.

Raw sockets, responses written byte by byte, each connection in its own thread (a trickling
or stalled response never holds up the others), and `Connection: close` on every answer.
`serve()` yields the origin and the paths requested, in order, like tests.support.site.serve.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import zstandard

from tests.support.site import PAGES

MiB = 1024 * 1024
BOMB_BYTES = 32 * MiB  # decompressed size of the bombs: over the 20 MiB limit
TEXT_NODE_BYTES = 100 * MiB
TABLE_ROWS = 1_000_000
FEED_ITEMS = 100_000
POST_PAGES = sorted(PAGES)  # /post/N.html serves POST_PAGES[N % len(POST_PAGES)]

ARTICLE = (
    "<h1>Harbour works resume after the winter storms</h1>"
    + "<p>Work on the harbour wall resumed on Monday after three months of delays caused by"
    " the winter storms, the port authority said, adding that the new breakwater should be"
    " finished before the summer season brings the ferries back to the island.</p>" * 3
)
CYRILLIC = (
    "<h1>Новости порта</h1>"
    + "<p>Работы в порту возобновились в понедельник после трёх месяцев задержек, вызванных"
    " зимними штормами, сообщило управление порта.</p>" * 3
)
ROBOTS = b"User-agent: *\nAllow: /\n"


# -- the scenarios and how each must end (tests/test_hostile.py, benchmarks/faults.py) ----

# A page that times out is retried once, within its one time limit, and the reason says so.
TIMED_OUT_TWICE = "seconds in 2 attempts (the page's time limit)"
SIZE_LIMIT = "body over the size limit"


@dataclass(frozen=True)
class Case:
    """One hostile path and how it must end: `reason` (failed) or `text` (archived) is a
    part of what `add` reports or what the archive stores."""

    path: str
    status: str
    reason: str = ""
    text: str = ""


GROUPS: dict[str, list[Case]] = {
    "parsing": [
        Case("/deep.html", "archived", text="harbour wall resumed on Monday"),
        # ~15 MB, under the size cap: a clean extraction failure at the workers' memory cap.
        Case("/table.html", "failed", "extraction needed more than its 1024 MB of memory"),
        # Refused on its Content-Length, before a byte of the body is read or parsed.
        Case("/text-node.html", "failed", f"{SIZE_LIMIT}: Expected to receive 104857633 bytes"),
    ],
    "charsets": [
        # The header wins, as in a browser: archived, the Cyrillic read as Latin-1.
        Case("/wrong-charset.html", "archived", text="порта".encode().decode("cp1252")),
        Case("/mixed-charset.html", "archived", text="Café society in Zürich"),
        Case("/undeclared.html", "archived", text="Работы в порту возобновились"),
        Case("/nul.html", "archived", text="harbourwall resumed"),
        Case("/invalid-utf8.html", "archived", text="Mon\ufffd(day"),
    ],
    "compression": [
        Case("/deflate-bomb.html", "failed", f"{SIZE_LIMIT}: Ignored response"),
        Case("/brotli-bomb.html", "failed", f"{SIZE_LIMIT}: Ignored response"),
        Case("/zstd-bomb.html", "failed", f"{SIZE_LIMIT}: Ignored response"),
        Case("/nested-encoding.html", "archived", text="harbour wall resumed on Monday"),
        # Scrapy keeps what decompresses of a cut gzip stream, as browsers do.
        Case("/truncated-gzip.html", "archived", text="harbour wall resumed on Monday"),
    ],
    "framing": [
        Case("/short-length.html", "failed", "truncated response: the body ended early"),
        Case("/broken-chunked.html", "failed", "Chunk-size must be an integer"),
        Case("/trickle.html", "failed", TIMED_OUT_TWICE),
        Case("/stall.html", "failed", TIMED_OUT_TWICE),
        Case("/reset.html", "failed", "broken response: Connection to the other side was lost"),
        Case("/endless.html", "failed", f"{SIZE_LIMIT}: it grew past DOWNLOAD_MAXSIZE"),
    ],
}


@dataclass(frozen=True)
class SourceCase:
    """A feed or sitemap source and how its crawl must end."""

    path: str
    kind: str
    extra: str  # more lines of its [[sources]] table
    status: str
    new_articles: int
    reason: str = ""


SOURCES = [
    # An index that lists itself and a twin that lists it back, beside a real urlset.
    SourceCase("/sitemap-loop.xml", "sitemap", "", "ok", 2),
    # 100,000 items in ~13 MB: parsed (capped at crawlers.listings.feeds.MAX_ENTRIES),
    # 3 fetched; the run says it stopped short.
    SourceCase("/huge-feed.xml", "feed", "max_pages = 3", "partial", 3, "max_pages (3) reached"),
    SourceCase("/malformed-feed.xml", "feed", "", "failed", 0, "not a feed: malformed XML"),
]


@dataclass
class Exchange:
    """One request being answered: the socket, the request line's path, and the server."""

    conn: socket.socket
    path: str
    origin: str
    stopping: threading.Event

    def head(self, status: str = "200 OK", content_type: str = "text/html", **headers: str) -> None:
        """Send the status line and headers (names with `_` become `-`)."""
        lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", "Connection: close"]
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        self.conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send(self, body: bytes, content_type: str = "text/html", **headers: str) -> None:
        """A complete response with an honest Content-Length."""
        self.head(content_type=content_type, Content_Length=str(len(body)), **headers)
        self.conn.sendall(body)

    def stream(
        self, chunks: Iterable[bytes], content_type: str = "text/html", **headers: str
    ) -> None:
        """A chunked response of `chunks`, for as long as they last or the client listens."""
        self.head(content_type=content_type, Transfer_Encoding="chunked", **headers)
        for chunk in chunks:
            if self.stopping.is_set():
                return
            self.conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.conn.sendall(b"0\r\n\r\n")

    def wait(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; False when it is."""
        return not self.stopping.wait(seconds)


def page(body: str, head: str = "<title>Harbour works resume</title>") -> str:
    return f"<!doctype html><html><head>{head}</head><body><article>{body}</article></body></html>"


def _html(text: str, encoding: str = "utf-8") -> bytes:
    return page(text).encode(encoding)


# -- pages that are fine after all, or that strain the parser ------------------------------


def deep(x: Exchange) -> None:
    nested = "<div>" * 10_000 + "deep inside" + "</div>" * 10_000
    x.send(_html(ARTICLE + nested), "text/html; charset=utf-8")


@cache
def _table() -> bytes:
    # End tags are optional in HTML: ~15 bytes a row keeps a million rows under 20 MiB.
    rows = b"".join(b"<tr><td>%d\n" % n for n in range(TABLE_ROWS))
    return _html(ARTICLE).replace(b"</article>", b"<table>" + rows + b"</table></article>")


def table(x: Exchange) -> None:
    x.send(_table(), "text/html; charset=utf-8")


def text_node(x: Exchange) -> None:
    """A 100 MB text node, announced honestly, streamed without holding it in memory."""
    prefix, suffix = b"<html><body><p>", b"</p></body></html>"
    x.head(Content_Length=str(len(prefix) + TEXT_NODE_BYTES + len(suffix)))
    x.conn.sendall(prefix)
    block = b"x" * MiB
    for _ in range(TEXT_NODE_BYTES // MiB):
        x.conn.sendall(block)
    x.conn.sendall(suffix)


# -- charsets --------------------------------------------------------------------------------


def wrong_charset(x: Exchange) -> None:
    x.send(_html(CYRILLIC), "text/html; charset=iso-8859-1")


def mixed_charset(x: Exchange) -> None:
    head, tail = _html(ARTICLE + "<p>MARK</p>").split(b"MARK")
    utf8 = "Café society in Zürich, declared UTF-8 and sent as such; ".encode()
    latin1 = "then naïve crème brûlée, résumé and façade in Latin-1.".encode("latin-1")
    x.send(head + utf8 + latin1 + tail, "text/html; charset=utf-8")


def undeclared(x: Exchange) -> None:
    x.send(_html(CYRILLIC, "windows-1251"), "text/html")


def nul(x: Exchange) -> None:
    x.send(_html(ARTICLE.replace("harbour wall", "harbour\0wall")).replace(b"<p>", b"<p>\0"))


def invalid_utf8(x: Exchange) -> None:
    body = _html(ARTICLE).replace(b"Monday", b"Mon\xc3\x28day\xff\xfe").replace(b"port", b"p\x80rt")
    x.send(body, "text/html; charset=utf-8")


# -- compression -----------------------------------------------------------------------------


def _padded() -> bytes:
    return b"<html><body>" + b" " * BOMB_BYTES + b"</body></html>"


@cache
def _bomb(encoding: str) -> bytes:
    if encoding == "deflate":
        return zlib.compress(_padded(), 9)
    if encoding == "br":
        return brotli.compress(_padded(), quality=5)
    return zstandard.ZstdCompressor(level=3).compress(_padded())


def bomb(encoding: str) -> Callable[[Exchange], None]:
    """Small on the wire, BOMB_BYTES once decoded."""
    return lambda x: x.send(_bomb(encoding), Content_Encoding=encoding)


def nested_encoding(x: Exchange) -> None:
    x.send(gzip.compress(gzip.compress(_html(ARTICLE))), Content_Encoding="gzip, gzip")


def truncated_gzip(x: Exchange) -> None:
    whole = gzip.compress(_html(ARTICLE * 4))
    x.send(whole[: len(whole) // 2], Content_Encoding="gzip")


# -- framing ---------------------------------------------------------------------------------


def short_length(x: Exchange) -> None:
    body = _html(ARTICLE)
    x.head(Content_Length=str(len(body) + 10_000))
    x.conn.sendall(body)


def broken_chunked(x: Exchange) -> None:
    x.head(Transfer_Encoding="chunked")
    body = _html(ARTICLE)
    x.conn.sendall(b"%x\r\n%s\r\nzz-not-a-size\r\n%s\r\n0\r\n\r\n" % (len(body), body, body))


def trickle(x: Exchange) -> None:
    body = _html(ARTICLE)
    x.head(Content_Length=str(len(body)))
    for byte in body:
        if not x.wait(1):
            return
        x.conn.sendall(bytes([byte]))


def stall(x: Exchange) -> None:
    x.head(Content_Length="1000")
    x.wait(60)


def reset(x: Exchange) -> None:
    # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
    x.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    x.conn.close()


def endless(x: Exchange) -> None:
    chunk = b"<p>" + b"and on and on " * 4000 + b"</p>\n"
    x.stream(iter(lambda: chunk, None), "text/html; charset=utf-8")


# -- feeds and sitemaps ----------------------------------------------------------------------


def _sitemap_index(x: Exchange, *paths: str) -> None:
    locs = "".join(f"<sitemap><loc>{x.origin}{p}</loc></sitemap>" for p in paths)
    body = (
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</sitemapindex>'
    )
    x.send(body.encode(), "application/xml")


def sitemap_loop(x: Exchange) -> None:
    """An index that lists itself, its twin (which lists it back) and one real urlset."""
    _sitemap_index(x, "/sitemap-loop.xml", "/sitemap-loop2.xml", "/sitemap-posts.xml")


def sitemap_posts(x: Exchange) -> None:
    urls = "".join(f"<url><loc>{x.origin}/post/{n}.html</loc></url>" for n in range(2))
    body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    x.send(body.encode(), "application/xml")


@cache
def _huge_feed(origin: str) -> bytes:
    items = b"".join(
        b"<item><title>Post %d</title><link>%s/post/%d.html</link>"
        b"<pubDate>Mon, 10 Jan 2022 08:00:00 GMT</pubDate></item>\n" % (n, origin.encode(), n)
        for n in range(FEED_ITEMS)
    )
    head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>'
    return head + items + b"</channel></rss>"


def huge_feed(x: Exchange) -> None:
    x.send(_huge_feed(x.origin), "application/rss+xml")


def malformed_feed(x: Exchange) -> None:
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Cut</title>'
        f"<item><title>Post 0</title><link>{x.origin}/post/0.html</link></item>"
        f"<item><title>Post 1</title><link>{x.origin}/po"
    )
    x.send(body.encode(), "application/rss+xml")


def post(x: Exchange) -> None:
    """A corpus page as post N: the good pages feeds and sitemaps point at."""
    number = Path(x.path).stem
    name = POST_PAGES[int(number) % len(POST_PAGES)] if number.isdigit() else None
    if name is None:
        return not_found(x)
    x.send(PAGES[name].read_bytes(), "text/html; charset=utf-8")


def corpus_page(x: Exchange) -> None:
    found = PAGES.get(Path(x.path).name)
    if found is None:
        return not_found(x)
    x.send(found.read_bytes(), "text/html; charset=utf-8")


def not_found(x: Exchange) -> None:
    x.head("404 Not Found", Content_Length="0")


ROUTES: dict[str, Callable[[Exchange], None]] = {
    "/robots.txt": lambda x: x.send(ROBOTS, "text/plain"),
    "/deep.html": deep,
    "/table.html": table,
    "/text-node.html": text_node,
    "/wrong-charset.html": wrong_charset,
    "/mixed-charset.html": mixed_charset,
    "/undeclared.html": undeclared,
    "/nul.html": nul,
    "/invalid-utf8.html": invalid_utf8,
    "/deflate-bomb.html": bomb("deflate"),
    "/brotli-bomb.html": bomb("br"),
    "/zstd-bomb.html": bomb("zstd"),
    "/nested-encoding.html": nested_encoding,
    "/truncated-gzip.html": truncated_gzip,
    "/short-length.html": short_length,
    "/broken-chunked.html": broken_chunked,
    "/trickle.html": trickle,
    "/stall.html": stall,
    "/reset.html": reset,
    "/endless.html": endless,
    "/sitemap-loop.xml": sitemap_loop,
    "/sitemap-loop2.xml": lambda x: _sitemap_index(x, "/sitemap-loop.xml"),
    "/sitemap-posts.xml": sitemap_posts,
    "/huge-feed.xml": huge_feed,
    "/malformed-feed.xml": malformed_feed,
}


def _route(path: str) -> Callable[[Exchange], None]:
    if path.startswith("/post/"):
        return post
    if path.startswith("/pages/"):
        return corpus_page
    return ROUTES.get(path, not_found)


def _read_path(conn: socket.socket) -> str | None:
    """The path of the request line, once the whole head has arrived (None: no request)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > 65536:
            return None
        data += chunk
    parts = data.split(b"\r\n", 1)[0].split(b" ")
    return parts[1].decode("latin-1") if len(parts) == 3 else None


class HostileServer:
    """Accepts on 127.0.0.1 and answers each connection in a thread of its own."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.origin = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requested: list[str] = []
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn, suppress(OSError):  # the client gave up or cancelled: fine
            conn.settimeout(30)
            path = _read_path(conn)
            if path is None:
                return
            self.requested.append(path)
            exchange = Exchange(conn, path, self.origin, self.stopping)
            _route(urlsplit(path).path)(exchange)
            conn.shutdown(socket.SHUT_WR)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._thread.join()
        self.listener.close()


@contextmanager
def serve() -> Iterator[tuple[str, list[str]]]:
    """Run the hostile server on a free loopback port; yield (origin, paths requested)."""
    server = HostileServer()
    server.start()
    try:
        yield server.origin, server.requested
    finally:
        server.stop()
