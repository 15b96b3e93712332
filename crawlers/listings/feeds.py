"""RSS 2.0 / RSS 1.0, Atom 1.0 and JSON Feed parsing into Entry lists, over bytes only.

Also the helpers the sitemap and platform parsers share: hardened XML and JSON loading,
date normalisation to UTC ISO 8601, http(s)-only URL resolution and the per-document cap.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from itertools import islice
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from lxml import etree

from archive.core.entries import Entry, unique

MAX_ENTRIES = 50_000  # entries returned per document, at most

ATOM_NS = "http://www.w3.org/2005/Atom"
_ATOM_NS = frozenset({ATOM_NS, "http://purl.org/atom/ns#", ""})  # Atom 1.0, 0.3, none
_RSS_NS = frozenset({"", "http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"})
_RSS_ITEMS = {(ns, "item") for ns in _RSS_NS}
_DC_NS = frozenset({"http://purl.org/dc/elements/1.1/", "http://purl.org/dc/terms/"})
_HTML_SNIFF = re.compile(rb"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_W3C_PARTIAL = re.compile(r"\d{4}(-\d\d)?")
_TAG = re.compile(r"<[^>]*>")
_JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")


class FeedError(ValueError):
    """The document is not a feed this module can read."""


@dataclass
class Feed:
    """A parsed feed: its format, title, entries and the next page (RFC 5005, JSON Feed)."""

    kind: Literal["rss", "atom", "json"]
    title: str | None
    entries: list[Entry]
    next_url: str | None
    generator: str | None = None  # "https://wordpress.org/?v=6.1", "Hugo", "Pelican"...
    complete: bool = False  # RFC 5005 <fh:complete/>: the feed lists every entry


FEED_HISTORY_NS = "http://purl.org/syndication/history/1.0"


def _feed_head(el: Any) -> dict[str, Any]:
    """The generator and the RFC 5005 completeness marker of a feed's head element."""
    generator, complete = None, False
    for c in el:
        ns, name = _qname(c)
        if name == "generator":
            generator = " ".join(filter(None, (text_of(c), c.get("uri")))) or None
        elif name == "complete" and ns == FEED_HISTORY_NS:
            complete = True
    return {"generator": generator, "complete": complete}


def parse_date(value: object) -> str | None:
    """RFC 822, RFC 3339 or W3C datetime (also "2022-01" and "2022") as a UTC ISO 8601
    string with seconds; None for anything unparseable. Naive times are taken as UTC."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    if _W3C_PARTIAL.fullmatch(text):
        text += "-01-01"[len(text) - 4 :]
    try:
        try:
            when = datetime.fromisoformat(text.upper())
        except ValueError:
            when = parsedate_to_datetime(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC).isoformat(timespec="seconds")
    except (ValueError, TypeError, OverflowError, IndexError):
        return None


def http_url(href: object, base_url: str | None) -> str | None:
    """href resolved against base_url if the result is an http(s) URL with a host, else None."""
    if not isinstance(href, str) or not href.strip():
        return None
    try:
        url = urljoin(base_url or "", href.strip())
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[::1" (bad IPv6 literal)
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def plain_text(markup: object) -> str | None:
    """HTML title markup as plain text: tags stripped, entities unescaped, spaces collapsed."""
    if not isinstance(markup, str):
        return None
    return " ".join(html.unescape(_TAG.sub("", markup)).split()) or None


def parse_xml(body: bytes, what: str, error: type[ValueError], base_url: str | None = None) -> Any:
    """The root element of body, parsed without entity expansion, DTD loading or network
    access; raises `error` with a message naming `what` ("feed", "sitemap") otherwise."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )
    body = body.lstrip(b" \t\r\n")
    if not body:
        raise error(f"not a {what}: empty document")
    try:
        root = etree.fromstring(body, parser, base_url=base_url)
    except etree.XMLSyntaxError as exc:
        if _HTML_SNIFF.search(body[:2048]):
            raise error(f"not a {what}: an HTML page") from None
        raise error(f"not a {what}: malformed XML: {exc}") from None
    return root


def load_json(body: bytes, what: str, error: type[ValueError]) -> Any:
    """body decoded as JSON; raises `error` naming `what` when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise error(f"not {what}: invalid JSON: {exc}") from None


def capped(entries: Iterable[Entry]) -> list[Entry]:
    """The first MAX_ENTRIES entries: bounded work however long the document."""
    return list(islice(entries, MAX_ENTRIES))


def localname(el: Any) -> str | None:
    """An element's tag without namespace; None for comments, PIs and entity references."""
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else None


def text_of(el: Any) -> str | None:
    """An element's stripped text content, or None when absent or empty."""
    if el is None:
        return None
    return "".join(el.itertext()).strip() or None


def parse_feed(body: bytes, base_url: str) -> Feed:
    """Parse an RSS, Atom or JSON Feed document, detected by content."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return _parse_json_feed(body, base_url)
    root = parse_xml(body, "feed", FeedError, base_url)
    ns, name = _qname(root)
    if name == "feed" and ns in _ATOM_NS:
        return _parse_atom(root)
    if name == "rss":
        channel = _child(root, "channel", _RSS_NS)
        if channel is None:
            raise FeedError("not a feed: <rss> without <channel>")
        return _rss_feed(channel, channel)
    if name == "RDF":  # RSS 1.0 and 0.90: items are siblings of the channel
        channel = _child(root, "channel", _RSS_NS)
        return _rss_feed(root if channel is None else channel, root)
    raise FeedError(f"not a feed: root element <{name}>")


def _qname(el: Any) -> tuple[str | None, str | None]:
    """(namespace or "", local name); (None, None) for comments, PIs and entities."""
    tag = el.tag
    if not isinstance(tag, str):
        return None, None
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _child(el: Any, name: str, namespaces: frozenset[str]) -> Any:
    for c in el:
        ns, local = _qname(c)
        if local == name and ns in namespaces:
            return c
    return None


def _next_link(el: Any) -> str | None:
    """RFC 5005 paging: the <link rel="next" href> child (atom:link in RSS too)."""
    for c in el:
        if localname(c) == "link" and c.get("rel") == "next":
            return http_url(c.get("href"), c.base)
    return None


def _author_name(value: str | None) -> str | None:
    """RSS <author> is "email (Name)"; keep the name when it is there."""
    if value and value.endswith(")") and "(" in value:
        return value[value.index("(") + 1 : -1].strip() or value
    return value


def _rss_feed(channel: Any, items_parent: Any) -> Feed:
    title = text_of(_child(channel, "title", _RSS_NS))
    entries = capped(_rss_entries(items_parent, title))
    return Feed("rss", title, entries, _next_link(channel), **_feed_head(channel))


def _rss_entries(items_parent: Any, sitename: str | None) -> Iterator[Entry]:
    for item in items_parent:
        if _qname(item) not in _RSS_ITEMS:
            continue
        fields: dict[str, str | None] = {}
        terms: list[str] = []
        url = alternate = permalink = None
        for c in item:
            ns, name = _qname(c)
            if name == "link" and c.get("href") is not None:  # atom:link
                if c.get("rel", "alternate") == "alternate":
                    alternate = alternate or http_url(c.get("href"), c.base)
            elif ns in _RSS_NS:
                if name == "link":
                    url = url or http_url(text_of(c), c.base)
                elif name == "guid":
                    fields["guid"] = text_of(c)
                    if c.get("isPermaLink", "true") != "false":
                        permalink = http_url(fields["guid"], c.base)
                elif name in ("title", "pubDate", "author"):
                    fields.setdefault(name, text_of(c))
                elif name == "category":
                    terms.append(text_of(c) or "")
            elif ns in _DC_NS and name == "subject":
                terms.append(text_of(c) or "")
            elif (ns in _DC_NS and name in ("creator", "date", "modified")) or (
                ns == ATOM_NS and name == "updated"
            ):
                fields.setdefault(name, text_of(c))
        url = url or alternate or permalink
        if url is None:
            continue
        # dc:date is RSS 1.0's publication date; only atom:updated and dc:modified say
        # when a post last changed.
        published = parse_date(fields.get("pubDate")) or parse_date(fields.get("date"))
        updated = parse_date(fields.get("updated")) or parse_date(fields.get("modified"))
        yield Entry(
            url=url,
            guid=fields.get("guid"),
            title=fields.get("title"),
            published=published,
            updated=updated,
            author=fields.get("creator") or _author_name(fields.get("author")),
            terms=unique(terms),
            sitename=sitename,
            platform="feed",
        )


def _atom_text(el: Any) -> str | None:
    """An Atom text construct: type="html" holds escaped markup, the others text."""
    if el is None:
        return None
    return plain_text(text_of(el)) if el.get("type") == "html" else text_of(el)


def _atom_author(el: Any) -> str | None:
    author = _child(el, "author", _ATOM_NS)
    return None if author is None else text_of(_child(author, "name", _ATOM_NS))


def _atom_url(entry: Any) -> str | None:
    """The first alternate link (rel="alternate" or no rel) that is an http(s) URL."""
    for c in entry:
        ns, name = _qname(c)
        if name == "link" and ns in _ATOM_NS and c.get("rel", "alternate") == "alternate":
            url = http_url(c.get("href"), c.base)
            if url:
                return url
    return None


def _parse_atom(root: Any) -> Feed:
    title = _atom_text(_child(root, "title", _ATOM_NS))
    entries = capped(_atom_entries(root, title))
    return Feed("atom", title, entries, _next_link(root), **_feed_head(root))


def _atom_terms(entry: Any) -> tuple[str, ...]:
    """<category term="..." label="..."/>: the label when given (the human spelling)."""
    return unique(
        [
            (c.get("label") or c.get("term") or "").strip()
            for c in entry
            if _qname(c)[1] == "category" and _qname(c)[0] in _ATOM_NS
        ]
    )


def _atom_entries(root: Any, sitename: str | None) -> Iterator[Entry]:
    feed_author = _atom_author(root)
    for entry in root:
        if _qname(entry)[1] != "entry":
            continue
        guid = text_of(_child(entry, "id", _ATOM_NS))
        url = _atom_url(entry) or http_url(guid, None)
        if url is None:
            continue
        published = parse_date(text_of(_child(entry, "published", _ATOM_NS)))
        updated = parse_date(text_of(_child(entry, "updated", _ATOM_NS)))
        yield Entry(
            url=url,
            guid=guid,
            title=_atom_text(_child(entry, "title", _ATOM_NS)),
            published=published,
            updated=updated,
            author=_atom_author(entry) or feed_author,
            terms=_atom_terms(entry),
            sitename=sitename,
            platform="feed",
        )


def _str(value: object) -> str | None:
    """A JSON string (or number, for ids) stripped; None for anything else or empty."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def _json_author(obj: dict[str, Any]) -> str | None:
    """JSON Feed 1.1 authors[0].name, or 1.0 author.name."""
    authors = obj.get("authors")
    author = authors[0] if isinstance(authors, list) and authors else obj.get("author")
    return _str(author.get("name")) if isinstance(author, dict) else None


def _parse_json_feed(body: bytes, base_url: str) -> Feed:
    doc = load_json(body, "a JSON Feed", FeedError)
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(_JSON_FEED_VERSIONS):
        raise FeedError("not a JSON Feed: no jsonfeed.org version")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedError("not a JSON Feed: no items list")
    title = _str(doc.get("title"))
    entries = capped(_json_entries(items, base_url, _json_author(doc), title))
    return Feed("json", title, entries, http_url(doc.get("next_url"), base_url))


def _json_entries(
    items: list[Any], base_url: str, feed_author: str | None, sitename: str | None
) -> Iterator[Entry]:
    for item in items:
        if not isinstance(item, dict):
            continue
        url = http_url(item.get("url"), base_url) or http_url(item.get("external_url"), base_url)
        if url is None:
            continue
        published = parse_date(item.get("date_published"))
        tags = item.get("tags")
        yield Entry(
            url=url,
            guid=_str(item.get("id")),
            title=_str(item.get("title")),
            published=published,
            updated=parse_date(item.get("date_modified")),
            author=_json_author(item) or feed_author,
            terms=unique([t for t in tags if isinstance(t, str)]) if isinstance(tags, list) else (),
            sitename=sitename,
            platform="feed",
        )
