"""Blogger and WordPress listing APIs, and homepage discovery of platform and feeds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

from archive.core.entries import Entry, unique
from crawlers.listings.feeds import MAX_ENTRIES, capped, http_url, load_json, parse_date, plain_text

WORDPRESS_API_REL = "https://api.w.org/"
_FEED_TYPES = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/feed+json": "json",
    "application/json": "json",
}


class PlatformError(ValueError):
    """A platform API answered with an error, or with something that is not its format.
    `code` is the API's error code when it gave one (e.g. "rest_post_invalid_page_number")."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class BloggerPage:
    """One page of a Blogger JSON feed and its OpenSearch paging figures."""

    entries: list[Entry]
    total: int | None
    start_index: int
    per_page: int | None


@dataclass
class Discovery:
    """What a homepage says about its platform and feeds: (feed URL, "rss"|"atom"|"json")."""

    blogger: bool = False
    wordpress_api: str | None = None
    feeds: list[tuple[str, str]] = field(default_factory=list)


def _origin(url: str) -> tuple[str, str]:
    """(scheme, host[:port]) of an http(s) URL; PlatformError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PlatformError(f"not an http(s) URL: {url!r}")
    return parts.scheme, parts.netloc.rpartition("@")[2]


def blogger_feed_url(
    blog_url: str, start_index: int, max_results: int, alt_json: bool = True
) -> str:
    """The posts feed of the blog at blog_url: JSON (alt=json), or Atom when alt_json is False."""
    if start_index < 1 or max_results < 1:
        raise ValueError("start_index and max_results must be at least 1")
    scheme, host = _origin(blog_url)
    params = [("alt", "json")] if alt_json else []
    params += [("start-index", str(start_index)), ("max-results", str(max_results))]
    return f"{scheme}://{host}/feeds/posts/default?{urlencode(params)}"


def _t(obj: Any, key: str) -> str | None:
    """Blogger's {"key": {"$t": "value"}} string."""
    value = obj.get(key) if isinstance(obj, dict) else None
    text = value.get("$t") if isinstance(value, dict) else None
    return (text.strip() or None) if isinstance(text, str) else None


def _int(value: str | None) -> int | None:
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


def _blogger_entry(entry: object, sitename: str | None = None) -> Entry | None:
    if not isinstance(entry, dict):
        return None
    links = entry.get("link")
    url = next(
        (
            u
            for link in (links if isinstance(links, list) else [])
            if isinstance(link, dict)
            and link.get("rel") == "alternate"
            and (u := http_url(link.get("href"), None))
        ),
        None,
    )
    if url is None:
        return None
    authors = entry.get("author")
    author = authors[0] if isinstance(authors, list) and authors else None
    labels = entry.get("category")
    return Entry(
        url=url,
        guid=_t(entry, "id"),
        title=_t(entry, "title"),
        published=parse_date(_t(entry, "published")),
        updated=parse_date(_t(entry, "updated")),
        author=_t(author, "name"),
        tags=unique(
            [c["term"] for c in labels if isinstance(c, dict) and isinstance(c.get("term"), str)]
            if isinstance(labels, list)
            else []
        ),
        sitename=sitename,
        platform="blogger",
    )


def parse_blogger_json(body: bytes) -> BloggerPage:
    """Parse a Blogger `/feeds/posts/default?alt=json` page (an empty page has no "entry")."""
    doc = load_json(body, "a Blogger JSON feed", PlatformError)
    feed = doc.get("feed") if isinstance(doc, dict) else None
    if not isinstance(feed, dict):
        raise PlatformError('not a Blogger JSON feed: no "feed" object')
    raw = feed.get("entry")
    sitename = _t(feed, "title")
    entries = (_blogger_entry(e, sitename) for e in (raw if isinstance(raw, list) else []))
    return BloggerPage(
        entries=capped(e for e in entries if e is not None),
        total=_int(_t(feed, "openSearch$totalResults")),
        start_index=_int(_t(feed, "openSearch$startIndex")) or 1,
        per_page=_int(_t(feed, "openSearch$itemsPerPage")),
    )


def wordpress_route_url(api_root: str, route: str, params: list[tuple[str, str]]) -> str:
    """The URL of REST `route` ("/wp/v2/posts") under api_root, which is either
    `https://site/wp-json/` (or `/blog/wp-json/`) or `https://site/?rest_route=/` (sites
    without pretty permalinks), with query `params`."""
    _origin(api_root)  # http(s) only
    parts = urlsplit(api_root)
    query = parse_qsl(parts.query, keep_blank_values=True)
    base_route = dict(query).get("rest_route")
    path = parts.path
    if base_route is None:
        path = path.rstrip("/") + route
    else:
        query = [(k, v) for k, v in query if k != "rest_route"]
        params = [("rest_route", base_route.rstrip("/") + route), *params]
    return urlunsplit(
        (parts.scheme, parts.netloc, path, urlencode([*params, *query], safe="/"), "")
    )


def wordpress_posts_url(
    api_root: str,
    page: int,
    per_page: int = 100,
    route: str = "/wp/v2/posts",
    fields: str | None = None,
) -> str:
    """A page of the WP REST posts (or pages) list under api_root, oldest id first so that
    posts published while the pages are read do not shift the later pages."""
    if page < 1 or not 1 <= per_page <= 100:
        raise ValueError("page must be at least 1 and per_page between 1 and 100")
    params = [("per_page", str(per_page)), ("page", str(page))]
    if fields:
        params += [("_fields", fields), ("orderby", "id"), ("order", "asc")]
    return wordpress_route_url(api_root, route, params)


@dataclass(frozen=True)
class WordPressRefs:
    """The ids a post's listing names, resolved to names once the lookups are read."""

    author: int | None
    categories: tuple[int, ...]
    tags: tuple[int, ...]


def _rendered(post: dict[str, Any], key: str) -> str | None:
    value = post.get(key)
    rendered = value.get("rendered") if isinstance(value, dict) else None
    return rendered if isinstance(rendered, str) else None


def _wordpress_author(post: dict[str, Any]) -> str | None:
    embedded = post.get("_embedded")
    authors = embedded.get("author") if isinstance(embedded, dict) else None
    author = authors[0] if isinstance(authors, list) and authors else None
    name = author.get("name") if isinstance(author, dict) else None
    return (name.strip() or None) if isinstance(name, str) else None


def _wordpress_list(body: bytes, what: str) -> list[Any]:
    """A WP REST list; a WP error object raises PlatformError with its code."""
    doc = load_json(body, f"a WordPress {what} list", PlatformError)
    if isinstance(doc, dict) and isinstance(doc.get("code"), str):
        message = doc.get("message")
        detail = f": {message[:300]}" if isinstance(message, str) and message else ""
        raise PlatformError(f"WordPress API error {doc['code']}{detail}", code=doc["code"])
    if not isinstance(doc, list):
        raise PlatformError(f"not a WordPress {what} list: expected a JSON array")
    return doc


def parse_wordpress_listing(body: bytes) -> list[tuple[Entry, WordPressRefs]]:
    """A `/wp/v2/posts` or `/wp/v2/pages` page: each post's entry, and the author, category
    and tag ids it names; a WP error object raises PlatformError with its code."""
    listed = []
    for post in _wordpress_list(body, "posts")[:MAX_ENTRIES]:
        entry = _wordpress_entry(post)
        if entry is not None:
            listed.append((entry, _wordpress_refs(post)))
    return listed


def _ids(value: object) -> tuple[int, ...]:
    return tuple(v for v in value if isinstance(v, int)) if isinstance(value, list) else ()


def _wordpress_refs(post: dict[str, Any]) -> WordPressRefs:
    author = post.get("author")
    return WordPressRefs(
        author if isinstance(author, int) and not isinstance(author, bool) else None,
        _ids(post.get("categories")),
        _ids(post.get("tags")),
    )


def parse_wordpress_names(body: bytes) -> dict[int, str]:
    """id -> name from a `/wp/v2/users`, `/wp/v2/categories` or `/wp/v2/tags` page."""
    names = {}
    for item in _wordpress_list(body, "names")[:MAX_ENTRIES]:
        if isinstance(item, dict) and isinstance(item.get("id"), int):
            name = plain_text(item.get("name")) if isinstance(item.get("name"), str) else None
            if name:
                names[item["id"]] = name
    return names


def parse_wordpress_site(body: bytes) -> str | None:
    """The site's name from the REST API index (`/wp-json/`), None when it has none."""
    doc = load_json(body, "a WordPress API index", PlatformError)
    name = doc.get("name") if isinstance(doc, dict) else None
    return plain_text(name) if isinstance(name, str) else None


def _wordpress_entry(post: object) -> Entry | None:
    if not isinstance(post, dict) or (url := http_url(post.get("link"), None)) is None:
        return None
    guid = _rendered(post, "guid")
    content = post.get("content")
    protected = content.get("protected") if isinstance(content, dict) else None
    published = parse_date(post.get("date_gmt"))
    return Entry(
        url=url,
        guid=(unescape(guid).strip() or None) if guid else None,
        title=plain_text(_rendered(post, "title")),
        published=published,
        updated=parse_date(post.get("modified_gmt")) or published,
        author=_wordpress_author(post),
        protected=protected if isinstance(protected, bool) else None,
        platform="wordpress",
    )


_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")


def wordpress_api_from_links(headers: list[str], base_url: str) -> str | None:
    """The REST API root a WordPress site names in its `Link` headers
    (`<https://site/wp-json/>; rel="https://api.w.org/"`), or None."""
    for value in headers:
        for href, params in _LINK.findall(value):
            rels = re.search(r"""rel\s*=\s*"?([^";]*)"?""", params)
            if rels and WORDPRESS_API_REL in rels.group(1).lower().split():
                return http_url(href, base_url)
    return None


def _skip_feed(url: str, mime: str, title: str) -> bool:
    """Comments feeds, and the WP REST links WordPress marks as application/json alternates."""
    parts = urlsplit(url)
    if "comments" in title.lower() or "comments" in parts.path.lower():
        return True
    return mime == "application/json" and (
        "/wp-json/" in parts.path or "rest_route=" in parts.query
    )


def discover(html: bytes, url: str) -> Discovery:
    """Platform and feeds declared in a homepage's <head>; an empty Discovery for garbage."""
    parser = lxml_html.HTMLParser(no_network=True, huge_tree=False)
    try:
        doc = lxml_html.document_fromstring(html, parser=parser)
    except (etree.LxmlError, ValueError):
        return Discovery()
    base = next((b for b in doc.iter("base") if b.get("href")), None)
    base_url = (http_url(base.get("href"), url) if base is not None else None) or url
    found = Discovery()
    for el in doc.iter("link", "meta"):
        if el.tag == "meta":
            if (el.get("name") or "").strip().lower() == "generator":
                found.blogger |= (el.get("content") or "").strip().lower().startswith("blogger")
            continue
        rels = (el.get("rel") or "").lower().split()
        href = http_url(el.get("href"), base_url)
        if href is None:
            continue
        if WORDPRESS_API_REL in rels:
            found.wordpress_api = found.wordpress_api or href
        mime = (el.get("type") or "").partition(";")[0].strip().lower()
        if "alternate" not in rels or mime not in _FEED_TYPES:
            continue
        found.blogger |= "/feeds/posts/default" in urlsplit(href).path
        if not _skip_feed(href, mime, el.get("title") or "") and all(
            href != u for u, _ in found.feeds
        ):
            found.feeds.append((href, _FEED_TYPES[mime]))
    return found
