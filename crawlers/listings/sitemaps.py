"""Sitemaps (index, urlset, Google News; plain or gzipped) and robots.txt Sitemap lines."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Literal

from archive.core.entries import Entry
from crawlers.listings.feeds import capped, http_url, localname, parse_date, parse_xml, text_of

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
_KINDS: dict[str, tuple[Literal["index", "urlset"], str]] = {
    "sitemapindex": ("index", "sitemap"),
    "urlset": ("urlset", "url"),
}


class SitemapError(ValueError):
    """The document is not a sitemap this module can read."""


@dataclass
class Sitemap:
    """A parsed sitemap: an index of child sitemaps, or a urlset of pages."""

    kind: Literal["index", "urlset"]
    entries: list[Entry]


def _gunzip(body: bytes, max_bytes: int) -> bytes:
    """Decompress gzip data (all members) incrementally, raising SitemapError past max_bytes."""
    out = bytearray()
    data = body
    while data[:2] == GZIP_MAGIC:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            while not inflater.eof:
                chunk = inflater.decompress(data, min(_CHUNK, max_bytes + 1 - len(out)))
                data = inflater.unconsumed_tail
                if not (chunk or data or inflater.eof):
                    raise SitemapError("bad gzip data: truncated")
                out += chunk
                if len(out) > max_bytes:
                    raise SitemapError(f"sitemap larger than {max_bytes} bytes once decompressed")
        except zlib.error as exc:
            raise SitemapError(f"bad gzip data: {exc}") from None
        data = inflater.unused_data
    return bytes(out)


def parse_sitemap(body: bytes, base_url: str, max_bytes: int = 50 * 2**20) -> Sitemap:
    """Parse a sitemap index or urlset (gzip detected by its magic bytes, capped at max_bytes
    decompressed). Elements are matched on local names, whatever their namespace."""
    if body[:2] == GZIP_MAGIC:
        body = _gunzip(body, max_bytes)
    elif len(body) > max_bytes:
        raise SitemapError(f"sitemap larger than {max_bytes} bytes")
    root = parse_xml(body, "sitemap", SitemapError)
    name = localname(root)
    if name not in _KINDS:
        raise SitemapError(f"not a sitemap: root element <{name}>")
    kind, child = _KINDS[name]
    entries = (_entry(el, base_url) for el in root if localname(el) == child)
    return Sitemap(kind, capped(e for e in entries if e is not None))


def _entry(el: Any, base_url: str) -> Entry | None:
    """One <url> or <sitemap>: loc, lastmod and a Google News <news:news> block."""
    fields: dict[str, Any] = {}
    for c in el:
        name = localname(c)
        if name in ("loc", "lastmod", "news"):
            fields.setdefault(name, c)
    url = http_url(text_of(fields.get("loc")), base_url)
    if url is None:
        return None
    published = title = None
    if (news := fields.get("news")) is not None:
        for c in news:
            name = localname(c)
            if name == "publication_date":
                published = parse_date(text_of(c))
            elif name == "title":
                title = text_of(c)
    return Entry(
        url=url,
        title=title,
        published=published,
        # A news sitemap's publication date says nothing of edits: only lastmod does.
        updated=parse_date(text_of(fields.get("lastmod"))),
    )


def sitemaps_from_robots(robots_txt: bytes | str, base_url: str) -> list[str]:
    """The http(s) URLs of robots.txt `Sitemap:` lines (any case), resolved, without repeats."""
    if isinstance(robots_txt, bytes):
        robots_txt = robots_txt.decode("utf-8", errors="replace")
    urls: list[str] = []
    for line in robots_txt.lstrip("\ufeff").splitlines():
        key, sep, value = line.partition(":")
        if not sep or key.strip().lower() != "sitemap":
            continue
        url = http_url(value.split("#", 1)[0], base_url)
        if url and url not in urls:
            urls.append(url)
    return urls
