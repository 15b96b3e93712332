"""Loopback servers that behave like real blog and news platforms, for crawler tests and benchmarks.

A PlatformSite serves a list of posts the way one kind of platform does: Blogger (Atom/JSON feed
paging), WordPress (REST API, RSS), a news site (sitemap index, gzipped sitemap, Google News
sitemap), a plain site with one RSS, Atom or JSON Feed, or a site with HTML listings only (pages,
monthly archives and an endless calendar). Every kind has robots.txt, a post under /private/ that
robots.txt forbids but every listing names, and conditional GET (ETag, Last-Modified) on post pages.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import islice
from math import ceil
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from pipelines.extraction import extract_article

KINDS = ("blogger", "wordpress", "news", "rss", "atom", "jsonfeed", "site")
# The blogs' local time: Blogger's date offsets, WordPress's `date`, and the dates in post URLs.
SITE_TZ = timezone(timedelta(hours=-8))
DEFAULT_START = datetime(2024, 3, 1, 12, tzinfo=UTC)
SITE_TITLE = "Wire Watch"
BLOG_ID = "tag:blogger.com,1999:blog-123"
PRIVATE_PATH = "/private/secret-post.html"
NEWS_WINDOW = timedelta(days=2)

Query = dict[str, list[str]]

_TITLE_MARK = "\ue000wirewatch-title\ue000"
_META = re.compile(r"<meta\b[^>]*>", re.I)
_META_NAME = re.compile(r"""(?<![\w-])(?:property|name)\s*=\s*["']([^"']+)["']""", re.I)
_META_CONTENT = re.compile(r"""(?<![\w-])content\s*=\s*(["'])(.*?)\1""", re.I | re.S)
_CANONICAL = re.compile(r"""<link\b[^>]*\brel\s*=\s*["']?canonical\b[^>]*>""", re.I)
_TITLE = re.compile(r"(<title\b[^>]*>)(.*?)(</title>)", re.I | re.S)
_H1 = re.compile(r"(<h1\b[^>]*>)(.*?)(</h1>)", re.I | re.S)
_P = re.compile(r"<p\b[^>]*>(.*?)</p>", re.I | re.S)
_BODY = re.compile(r"<body\b[^>]*>", re.I)
_HEAD = re.compile(r"<head\b[^>]*>", re.I)
_CALENDAR = re.compile(r"/calendar/(\d{4})/(\d{2})/")
_ARCHIVE = re.compile(r"/(\d{4})/(\d{2})/")

PRIVATE_PAGE = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>A private post</title></head>"
    b"<body><article><h1>A private post</h1><p>This post lives under /private/, which robots.txt"
    b" disallows. A crawler that obeys robots.txt finds it in every listing and never fetches"
    b" it.</p><p>Whoever reads this fetched a page that the site asked crawlers to leave"
    b" alone.</p></article></body></html>"
)
NOT_FOUND_PAGE = (
    b"<!doctype html><html><head><title>Not found</title></head>"
    b"<body><h1>Not found</h1></body></html>"
)


@dataclass
class Post:
    """One post: its page and the metadata the platform publishes about it."""

    slug: str
    title: str
    body_html: bytes  # a full HTML page for the post
    published: datetime  # tz-aware UTC
    updated: datetime  # tz-aware UTC
    author: str = "Wire Watch"

    def __post_init__(self) -> None:
        if self.published.tzinfo is None or self.updated.tzinfo is None:
            raise ValueError("published and updated must be timezone-aware")


def make_posts(
    n: int, pages: list[Path], start: datetime | None = None, *, first: int = 1
) -> list[Post]:
    """`n` posts built from real `pages` (cycled), newest first, numbered from `first`.

    Each is made unique: the title (in <title>, og:title, twitter:title and the headline <h1>,
    else the first <h1>, else an inserted one) becomes "ORIGINAL #NUMBER", and a paragraph naming
    the number and publication time goes at the start of the main text (the first spot where the
    project's extractor keeps it), so no two posts have the same extracted text, even across calls
    that reuse numbers with another `start`. The page's canonical link and og:url are dropped, as
    they name the page's original home. Published (= updated) dates run one hour apart going back
    from `start` (default DEFAULT_START).
    """
    if not pages:
        raise ValueError("make_posts needs at least one page")
    start = start or DEFAULT_START
    posts = []
    for i in range(n):
        number = first + i
        template, base, offset = _template(pages[i % len(pages)])
        published = start - timedelta(hours=i)
        title = f"{base} #{number}" if base else f"Post #{number}"
        page = template[:offset] + _paragraph(number, published) + template[offset:]
        posts.append(
            Post(
                slug=f"{_slugify(base)}-{number}",
                title=title,
                body_html=page.replace(_TITLE_MARK, html.escape(title)).encode("utf-8"),
                published=published,
                updated=published,
            )
        )
    return posts


def _paragraph(number: int, published: datetime) -> str:
    return (
        f"<p>Wire Watch test post {number}, published {published:%d %B %Y at %H:%M} UTC: "
        "this note makes each copy of the story unique.</p>"
    )


def _text(fragment: str) -> str:
    """The text of an HTML fragment, entities decoded and whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return (slug[:41].rsplit("-", 1)[0] if len(slug) > 40 else slug) or "post"


def _meta_names(tag: str) -> set[str]:
    return {m.group(1).lower() for m in _META_NAME.finditer(tag)}


@cache
def _template(path: Path) -> tuple[str, str, int]:
    """`path`'s page with title placeholders and no canonical, its original title, and the
    offset where the unique paragraph goes."""
    page = path.read_bytes().decode("utf-8", errors="replace")
    base = _original_title(page)
    page = _CANONICAL.sub("", page)
    page = _META.sub(lambda m: "" if "og:url" in _meta_names(m.group(0)) else m.group(0), page)
    page = _retitle(page, base)
    return page, base, _insertion_point(page)


def _original_title(page: str) -> str:
    for m in _META.finditer(page):
        content = _META_CONTENT.search(m.group(0))
        if "og:title" in _meta_names(m.group(0)) and content:
            return _text(content.group(2))
    for pattern in (_TITLE, _H1):
        found = pattern.search(page)
        if found and _text(found.group(2)):
            return _text(found.group(2))
    return ""


def _retitle(page: str, base: str) -> str:
    """Put the title placeholder in <title>, the title metas and the headline <h1>."""

    def meta(m: re.Match[str]) -> str:
        tag = m.group(0)
        if _meta_names(tag) & {"og:title", "twitter:title"}:
            return _META_CONTENT.sub(f'content="{_TITLE_MARK}"', tag, count=1)
        return tag

    page = _META.sub(meta, page)
    if _TITLE.search(page):
        page = _TITLE.sub(rf"\g<1>{_TITLE_MARK}\g<3>", page, count=1)
    elif head := _HEAD.search(page):
        page = f"{page[: head.end()]}<title>{_TITLE_MARK}</title>{page[head.end() :]}"
    h1s = list(_H1.finditer(page))
    headline = next((h for h in h1s if _similar(_text(h.group(2)), base)), h1s[0] if h1s else None)
    if headline is not None:
        return f"{page[: headline.start(2)]}{_TITLE_MARK}{page[headline.end(2) :]}"
    body = _BODY.search(page)
    at = body.end() if body else 0
    return f"{page[:at]}<h1>{_TITLE_MARK}</h1>{page[at:]}"


def _similar(a: str, b: str) -> bool:
    """Whether one title holds the other and is at most twice as long."""
    short, long = sorted((a.casefold(), b.casefold()), key=len)
    return bool(short) and short in long and 2 * len(short) >= len(long)


def _insertion_point(page: str, max_tries: int = 30) -> int:
    """The first offset where a paragraph ends up in the extracted text: before one of the
    page's paragraphs, else before the opening words of one of the extracted lines."""
    body = _BODY.search(page)
    start = body.end() if body else 0
    probe = _paragraph(0, DEFAULT_START)

    def kept(offset: int) -> bool:
        article = extract_article(page[:offset] + probe + page[offset:], "http://127.0.0.1/")
        return article is not None and "Wire Watch test post 0," in article["text"]

    def word_matches() -> list[int]:
        article = extract_article(page, "http://127.0.0.1/")
        lines = [line for line in (article or {}).get("text", "").splitlines() if len(line) > 20]
        offsets = []
        for line in lines[:3]:
            words = (re.escape(html.escape(word, quote=False)) for word in line.split()[:5])
            offsets += [m.start() for m in re.compile(r"\s+".join(words)).finditer(page, start)]
        return offsets

    def candidates() -> Iterator[int]:
        yield from (m.start() for m in _P.finditer(page, start) if len(_text(m.group(1))) >= 40)
        yield from word_matches()

    return next((o for o in islice(candidates(), max_tries) if kept(o)), start)


@dataclass
class _Entry:
    """A post as this site holds it."""

    post: Post
    id: int
    path: str
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        self.etag = _etag(self.post.body_html)


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def _etag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


class PlatformSite:
    """One platform of `kind` (see KINDS) serving `posts` plus a private post on loopback.

    Listings are ordered newest published first (ties: the later added first). `requests` holds
    (path with query, status) of every request served, in order.
    """

    def __init__(self, kind: str, posts: list[Post], per_page: int = 10) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown platform kind {kind!r}; one of {', '.join(KINDS)}")
        if per_page < 1:
            raise ValueError("per_page must be at least 1")
        self.kind = kind
        self.per_page = per_page
        self.origin = ""
        self.delay = 0.0  # seconds to wait before answering any request (a slow server)
        # Cleared: post pages wait until it is set again (a crawl held open, whatever the speed).
        self.open = threading.Event()
        self.open.set()
        self.news_first = False  # the sitemap index names the news sitemap before the posts
        self.requests: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._entries: dict[str, _Entry] = {}
        self._by_path: dict[str, _Entry] = {}
        self._order: list[_Entry] = []
        newest = max((post.published for post in posts), default=DEFAULT_START)
        self.private = Post(
            slug="secret-post",
            title="A private post",
            body_html=PRIVATE_PAGE,
            published=newest - timedelta(minutes=30),
            updated=newest - timedelta(minutes=30),
        )
        for post in posts:
            self._add(post, self._post_path(post))
        self._add(self.private, PRIVATE_PATH)
        self._sort()
        self._routes: dict[str, Callable[[Query], _Response]] = {"/": self._home}
        self._routes.update(
            {
                "blogger": {"/feeds/posts/default": self._blogger_feed},
                "wordpress": {
                    "/wp-json/": self._wp_index,
                    "/wp-json/wp/v2/posts": self._wp_posts,
                    "/feed/": lambda query: self._rss(self._order[:10], "/feed/"),
                },
                "news": {
                    "/sitemap_index.xml": self._sitemap_index,
                    "/sitemap-posts.xml.gz": self._posts_sitemap,
                    "/news-sitemap.xml": self._news_sitemap,
                },
                "rss": {"/feed.rss": lambda query: self._rss(self._order, "/feed.rss")},
                "atom": {"/atom.xml": self._atom},
                "jsonfeed": {"/feed.json": self._json_feed},
                "site": {},
            }[kind]
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Serve on 127.0.0.1 and a free port; sets `origin`."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.site = self
        self._server = server
        self.origin = f"http://127.0.0.1:{server.server_address[1]}"
        # A short poll interval keeps stop() quick (shutdown waits for the next poll).
        threading.Thread(
            target=server.serve_forever, args=(0.05,), name=f"platform-{self.kind}", daemon=True
        ).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> PlatformSite:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- posts -------------------------------------------------------------------------------

    def post_url(self, post: Post) -> str:
        """The absolute URL of `post` on this platform."""
        with self._lock:
            entry = self._entries.get(post.slug)
            return self.origin + (entry.path if entry else self._post_path(post))

    def add_post(self, post: Post) -> None:
        """Publish `post`: it joins every listing, at the top when it is the newest."""
        with self._lock:
            self._add(post, self._post_path(post))
            self._sort()

    def edit_post(
        self, slug: str, body_html: bytes, updated: datetime, title: str | None = None
    ) -> None:
        """Change a post's page (and title, as listings give it) and updated time: its ETag
        and Last-Modified change, and so do the updated/modified/lastmod dates the listings
        give; its place in them does not."""
        if updated.tzinfo is None:
            raise ValueError("updated must be timezone-aware")
        with self._lock:
            entry = self._entries[slug]
            entry.post = replace(
                entry.post, body_html=body_html, updated=updated, title=title or entry.post.title
            )
            entry.etag = _etag(body_html)

    def remove_post(self, slug: str) -> None:
        """Unpublish a post: it leaves every listing and its page answers 404."""
        with self._lock:
            entry = self._entries.pop(slug)
            del self._by_path[entry.path]
            self._order.remove(entry)

    def article_fetches(self) -> list[str]:
        """Paths (with query) of the post pages served with 200, in order."""
        with self._lock:
            return [
                target
                for target, status in self.requests
                if status == 200 and urlsplit(target).path in self._by_path
            ]

    def _add(self, post: Post, path: str) -> None:
        if post.slug in self._entries or path in self._by_path:
            raise ValueError(f"a post with slug {post.slug!r} is already on this site")
        entry = _Entry(post, len(self._entries) + 1, path)
        self._entries[post.slug] = self._by_path[path] = entry
        self._order.append(entry)

    def _sort(self) -> None:
        self._order.sort(key=lambda e: (e.post.published, e.id), reverse=True)

    def _post_path(self, post: Post) -> str:
        day = post.published.astimezone(SITE_TZ)
        if self.kind == "wordpress":
            return f"/{day:%Y/%m/%d}/{post.slug}/"
        if self.kind == "news":
            return f"/news/{day:%Y/%m/%d}/{post.slug}.html"
        if self.kind in ("blogger", "site"):
            return f"/{day:%Y/%m}/{post.slug}.html"
        return f"/posts/{post.slug}.html"

    def _url(self, entry: _Entry) -> str:
        return self.origin + entry.path

    # -- serving -----------------------------------------------------------------------------

    def _serve(self, target: str, headers: Mapping[str, str]) -> _Response:
        """Answer a GET of `target` and record it."""
        with self._lock:
            parts = urlsplit(target)
            query = parse_qs(parts.query, keep_blank_values=True)
            if parts.path == "/robots.txt":
                response = self._robots()
            elif entry := self._by_path.get(parts.path):
                response = self._post_page(entry, headers)
            elif route := self._routes.get(parts.path):
                response = route(query)
            else:
                response = self._site_page(parts.path)
            self.requests.append((target, response.status))
            return response

    def _robots(self) -> _Response:
        lines = ["User-agent: *", "Disallow: /private/", ""]
        if self.kind == "news":
            lines.append(f"Sitemap: {self.origin}/sitemap_index.xml")
        return _Response(200, "\n".join(lines).encode() + b"\n", "text/plain; charset=utf-8")

    def _post_page(self, entry: _Entry, headers: Mapping[str, str]) -> _Response:
        validators = {"ETag": entry.etag, "Last-Modified": _http_date(entry.post.updated)}
        if _not_modified(headers, entry.etag, entry.post.updated):
            return _Response(304, headers=validators)
        return _Response(200, entry.post.body_html, headers=validators)

    def _site_page(self, path: str) -> _Response:
        """The "site" kind's monthly archives and calendar, else 404."""
        if self.kind == "site":
            if m := _CALENDAR.fullmatch(path):
                return self._calendar(int(m[1]), int(m[2]))
            if m := _ARCHIVE.fullmatch(path):
                month = [e for e in self._order if _month(e) == (int(m[1]), int(m[2]))]
                if month:
                    heading = f"{datetime(int(m[1]), int(m[2]), 1):%B %Y}"
                    return self._listing(heading, month, self._sidebar())
        return _not_found()

    # -- HTML pages --------------------------------------------------------------------------

    def _home(self, query: Query) -> _Response:
        if self.kind == "wordpress" and (post_id := _param(query, "p")):
            entry = next((e for e in self._order if str(e.id) == post_id), None)
            return _redirect(self._url(entry)) if entry else _not_found()
        if self.kind != "site":
            return self._listing(SITE_TITLE, self._order[: self.per_page], head=self._head_links())
        page = _int_param(query, "page", 1)
        if page is None or page < 1:
            return _not_found()
        entries = self._order[(page - 1) * self.per_page : page * self.per_page]
        if page > 1 and not entries:
            return _not_found()
        pager = ""
        if page > 1:
            newer = "/" if page == 2 else f"/?page={page - 1}"
            pager += f'<a rel="prev" href="{newer}">Newer posts</a> '
        if page * self.per_page < len(self._order):
            pager += f'<a rel="next" href="/?page={page + 1}">Older posts</a>'
        return self._listing(SITE_TITLE, entries, f"<nav>{pager}</nav>{self._sidebar()}")

    def _head_links(self) -> str:
        """The homepage's discovery links: generator, feeds, API."""
        origin = self.origin
        if self.kind == "blogger":
            return (
                "<meta content='blogger' name='generator'/>\n"
                '<link rel="alternate" type="application/atom+xml" title="Wire Watch - Atom"'
                f' href="{origin}/feeds/posts/default" />\n'
                '<link rel="alternate" type="application/json" title="Wire Watch - JSON"'
                f' href="{origin}/feeds/posts/default?alt=json" />'
            )
        if self.kind == "wordpress":
            return (
                '<meta name="generator" content="WordPress 6.4.3" />\n'
                f'<link rel="https://api.w.org/" href="{origin}/wp-json/" />\n'
                '<link rel="alternate" type="application/rss+xml" title="Wire Watch &raquo; Feed"'
                f' href="{origin}/feed/" />'
            )
        feeds = {
            "rss": ("application/rss+xml", "/feed.rss"),
            "atom": ("application/atom+xml", "/atom.xml"),
            "jsonfeed": ("application/feed+json", "/feed.json"),
        }
        if self.kind not in feeds:
            return ""
        mime, path = feeds[self.kind]
        return f'<link rel="alternate" type="{mime}" title="{SITE_TITLE}" href="{origin}{path}" />'

    def _listing(
        self, heading: str, entries: list[_Entry], extra: str = "", head: str = ""
    ) -> _Response:
        items = "".join(
            f'<li><a href="{e.path}">{html.escape(e.post.title)}</a> <time datetime='
            f'"{_rfc3339(e.post.published)}">{e.post.published.astimezone(SITE_TZ):%d %b %Y}'
            "</time></li>\n"
            for e in entries
        )
        page = (
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(heading)}</title>\n{head}\n</head><body>"
            f"<h1>{html.escape(heading)}</h1>\n<ul class='posts'>\n{items}</ul>\n"
            f"{extra}</body></html>"
        )
        return _Response(200, page.encode())

    def _sidebar(self) -> str:
        """Monthly archive links and the calendar widget of the newest post's month."""
        months = sorted({_month(e) for e in self._order}, reverse=True)
        links = "".join(
            f'<li><a href="/{y:04d}/{m:02d}/">{datetime(y, m, 1):%B %Y}</a></li>' for y, m in months
        )
        y, m = months[0] if months else (DEFAULT_START.year, DEFAULT_START.month)
        return (
            f"<aside><h2>Archives</h2><ul>{links}</ul>"
            f'<a class="calendar" href="/calendar/{y:04d}/{m:02d}/">Calendar</a></aside>'
        )

    def _calendar(self, year: int, month: int) -> _Response:
        """An endless chain of month pages without posts: a trap a crawler must bound."""
        if not 1 <= year <= 9999 or not 1 <= month <= 12:
            return _not_found()
        prev_y, prev_m = (year, month - 1) if month > 1 else (year - 1, 12)
        next_y, next_m = (year, month + 1) if month < 12 else (year + 1, 1)
        page = (
            f"<!doctype html><html><head><title>Calendar {year:04d}-{month:02d}</title></head>"
            f"<body><h1>Calendar {year:04d}-{month:02d}</h1><p>No posts this month.</p>"
            f'<a href="/calendar/{prev_y:04d}/{prev_m:02d}/">Previous month</a> '
            f'<a href="/calendar/{next_y:04d}/{next_m:02d}/">Next month</a> '
            f'<a href="/">Home</a></body></html>'
        )
        return _Response(200, page.encode())

    # -- Blogger -----------------------------------------------------------------------------

    def _blogger_feed(self, query: Query) -> _Response:
        alt = _param(query, "alt") or "atom"
        start = _int_param(query, "start-index", 1)
        size = _int_param(query, "max-results", 25)
        if alt not in ("atom", "json"):
            return _Response(400, b"Invalid alt parameter", "text/plain; charset=utf-8")
        if start is None or start < 1 or size is None:
            return _Response(400, b"Invalid paging parameters", "text/plain; charset=utf-8")
        size = min(size, 500)
        entries = self._order[start - 1 : start - 1 + size]
        base = f"{self.origin}/feeds/posts/default"
        prefix = "alt=json&" if alt == "json" else ""

        def page_url(index: int) -> str:
            return f"{base}?{prefix}start-index={index}&max-results={size}"

        links = [
            {
                "rel": "http://schemas.google.com/g/2005#feed",
                "type": "application/atom+xml",
                "href": base,
            },
            {"rel": "self", "type": "application/atom+xml", "href": page_url(start)},
            {"rel": "alternate", "type": "text/html", "href": f"{self.origin}/"},
        ]
        if size and start - 1 + size < len(self._order):
            links.append(
                {"rel": "next", "type": "application/atom+xml", "href": page_url(start + size)}
            )
        feed: dict[str, Any] = {
            "xmlns": "http://www.w3.org/2005/Atom",
            "xmlns$openSearch": "http://a9.com/-/spec/opensearchrss/1.0/",
            "xmlns$blogger": "http://schemas.google.com/blogger/2008",
            "xmlns$gd": "http://schemas.google.com/g/2005",
            "xmlns$thr": "http://purl.org/syndication/thread/1.0",
            "id": {"$t": BLOG_ID},
            "updated": {"$t": _blogger_time(self._last_updated())},
            "title": {"type": "text", "$t": SITE_TITLE},
            "link": links,
            "author": [_blogger_author(SITE_TITLE)],
            "generator": {"version": "7.00", "uri": "http://www.blogger.com", "$t": "Blogger"},
            "openSearch$totalResults": {"$t": str(len(self._order))},
            "openSearch$startIndex": {"$t": str(start)},
            "openSearch$itemsPerPage": {"$t": str(size)},
        }
        if entries:
            feed["entry"] = [self._blogger_entry(e) for e in entries]
        if alt == "json":
            doc = {"version": "1.0", "encoding": "UTF-8", "feed": feed}
            return _Response(200, json.dumps(doc).encode(), "application/json; charset=UTF-8")
        xml = "<?xml version='1.0' encoding='UTF-8'?>" + _gdata_xml("feed", feed)
        return _Response(200, xml.encode(), "application/atom+xml; charset=UTF-8")

    def _blogger_entry(self, entry: _Entry) -> dict[str, Any]:
        post, url = entry.post, self._url(entry)
        return {
            "id": {"$t": f"{BLOG_ID}.post-{entry.id}"},
            "published": {"$t": _blogger_time(post.published)},
            "updated": {"$t": _blogger_time(post.updated)},
            "title": {"type": "text", "$t": post.title},
            "link": [
                {
                    "rel": "replies",
                    "type": "application/atom+xml",
                    "href": f"{self.origin}/feeds/{entry.id}/comments/default",
                    "title": "Post Comments",
                },
                {
                    "rel": "self",
                    "type": "application/atom+xml",
                    "href": f"{self.origin}/feeds/posts/default/{entry.id}",
                },
                {"rel": "alternate", "type": "text/html", "href": url, "title": post.title},
            ],
            "author": [_blogger_author(post.author)],
            "thr$total": {"$t": "0"},
        }

    # -- WordPress ---------------------------------------------------------------------------

    def _wp_index(self, query: Query) -> _Response:
        doc = {
            "name": SITE_TITLE,
            "url": self.origin,
            "home": self.origin,
            "namespaces": ["wp/v2"],
            "routes": {"/wp/v2/posts": {"namespace": "wp/v2", "methods": ["GET"]}},
        }
        return _json(200, doc)

    def _wp_posts(self, query: Query) -> _Response:
        per_page = _int_param(query, "per_page", 10)
        page = _int_param(query, "page", 1)
        orderby = _param(query, "orderby") or "date"
        order = _param(query, "order") or "desc"
        if per_page is None or not 1 <= per_page <= 100:
            return _wp_invalid(
                "per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)"
            )
        if page is None or page < 1:
            return _wp_invalid("page", "page must be greater than or equal to 1")
        if orderby not in ("date", "modified", "id"):
            return _wp_invalid("orderby", "orderby is not one of date, modified, id.")
        if order not in ("asc", "desc"):
            return _wp_invalid("order", "order is not one of asc, desc.")
        entries = self._order
        if (after := _param(query, "modified_after")) is not None:
            try:
                since = datetime.fromisoformat(after)
            except ValueError:
                return _wp_invalid("modified_after", "Invalid date.")
            since = since if since.tzinfo else since.replace(tzinfo=UTC)
            entries = [e for e in entries if e.post.updated.replace(microsecond=0) > since]
        key: Callable[[_Entry], object] = {
            "date": lambda e: (e.post.published, e.id),
            "modified": lambda e: (e.post.updated, e.id),
            "id": lambda e: e.id,
        }[orderby]
        entries = sorted(entries, key=key, reverse=order == "desc")
        total, pages = len(entries), ceil(len(entries) / per_page)
        if page > 1 and page > pages:
            return _json(
                400,
                {
                    "code": "rest_post_invalid_page_number",
                    "message": "The page number requested is larger than the number of pages"
                    " available.",
                    "data": {"status": 400},
                },
            )
        params = {name: values[0] for name, values in query.items()}
        links = [
            f'<{self.origin}/wp-json/wp/v2/posts?{urlencode({**params, "page": n})}>; rel="{rel}"'
            for n, rel in ((page - 1, "prev"), (page + 1, "next"))
            if 1 <= n <= pages
        ]
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if links:
            headers["Link"] = ", ".join(links)
        items = [self._wp_item(e) for e in entries[(page - 1) * per_page : page * per_page]]
        return _json(200, items, headers)

    def _wp_item(self, entry: _Entry) -> dict[str, Any]:
        post = entry.post
        return {
            "id": entry.id,
            "date": _wp_time(post.published, SITE_TZ),
            "date_gmt": _wp_time(post.published, UTC),
            "guid": {"rendered": f"{self.origin}/?p={entry.id}"},
            "modified": _wp_time(post.updated, SITE_TZ),
            "modified_gmt": _wp_time(post.updated, UTC),
            "slug": post.slug,
            "status": "publish",
            "type": "post",
            "link": self._url(entry),
            "title": {"rendered": _wp_texturize(post.title)},
            "author": 1,
        }

    # -- feeds -------------------------------------------------------------------------------

    def _rss(self, entries: list[_Entry], path: str) -> _Response:
        """RSS 2.0: WordPress's /feed/ (guid ?p=ID) or the "rss" kind's feed (guid = URL, plus
        atom:updated)."""
        items = []
        for e in entries:
            url = html.escape(self._url(e))
            if self.kind == "wordpress":
                guid = f'<guid isPermaLink="false">{self.origin}/?p={e.id}</guid>'
            else:
                guid = f'<guid isPermaLink="true">{url}</guid>'
                guid += f"<atom:updated>{_rfc3339(e.post.updated)}</atom:updated>"
            items.append(
                f"<item><title>{html.escape(e.post.title)}</title><link>{url}</link>"
                f"<dc:creator>{html.escape(e.post.author)}</dc:creator>"
                f"<pubDate>{_http_date(e.post.published)}</pubDate>{guid}</item>\n"
            )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">'
            f"<channel><title>{SITE_TITLE}</title><link>{self.origin}/</link>"
            f'<atom:link href="{self.origin}{path}" rel="self" type="application/rss+xml" />'
            f"<description>Posts of {SITE_TITLE}</description><language>en</language>"
            f"<lastBuildDate>{_http_date(self._last_updated())}</lastBuildDate>\n"
            f"{''.join(items)}</channel></rss>"
        )
        return _Response(200, xml.encode(), "application/rss+xml; charset=UTF-8")

    def _atom(self, query: Query) -> _Response:
        items = "".join(
            f"<entry><id>{html.escape(self._url(e))}</id><title type='text'>"
            f"{html.escape(e.post.title)}</title>"
            f"<link rel='alternate' type='text/html' href='{html.escape(self._url(e))}'/>"
            f"<published>{_rfc3339(e.post.published)}</published>"
            f"<updated>{_rfc3339(e.post.updated)}</updated>"
            f"<author><name>{html.escape(e.post.author)}</name></author></entry>\n"
            for e in self._order
        )
        xml = (
            "<?xml version='1.0' encoding='utf-8'?>\n<feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<id>{self.origin}/</id><title>{SITE_TITLE}</title>"
            f"<updated>{_rfc3339(self._last_updated())}</updated>"
            f"<link rel='self' type='application/atom+xml' href='{self.origin}/atom.xml'/>"
            f"<link rel='alternate' type='text/html' href='{self.origin}/'/>\n{items}</feed>"
        )
        return _Response(200, xml.encode(), "application/atom+xml; charset=utf-8")

    def _json_feed(self, query: Query) -> _Response:
        doc = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": SITE_TITLE,
            "home_page_url": f"{self.origin}/",
            "feed_url": f"{self.origin}/feed.json",
            "language": "en",
            "items": [
                {
                    "id": self._url(e),
                    "url": self._url(e),
                    "title": e.post.title,
                    "content_text": e.post.title,
                    "date_published": _rfc3339(e.post.published),
                    "date_modified": _rfc3339(e.post.updated),
                    "authors": [{"name": e.post.author}],
                }
                for e in self._order
            ],
        }
        response = _json(200, doc)
        response.content_type = "application/feed+json; charset=utf-8"
        return response

    # -- sitemaps ----------------------------------------------------------------------------

    def _sitemap_index(self, query: Query) -> _Response:
        lastmod = _rfc3339(self._last_updated())
        maps = "".join(
            f"<sitemap><loc>{self.origin}/{name}</loc><lastmod>{lastmod}</lastmod></sitemap>"
            for name in (
                ("news-sitemap.xml", "sitemap-posts.xml.gz")
                if self.news_first
                else ("sitemap-posts.xml.gz", "news-sitemap.xml")
            )
        )
        return _xml(
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{maps}</sitemapindex>"
        )

    def _posts_sitemap(self, query: Query) -> _Response:
        urls = "".join(
            f"<url><loc>{html.escape(self._url(e))}</loc>"
            f"<lastmod>{_rfc3339(e.post.updated)}</lastmod></url>\n"
            for e in self._order
        )
        xml = _xml(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>')
        return _Response(200, gzip.compress(xml.body, mtime=0), "application/x-gzip")

    def _news_sitemap(self, query: Query) -> _Response:
        """Google News sitemap: the posts of the last two days before the newest one."""
        newest = self._order[0].post.published if self._order else DEFAULT_START
        urls = "".join(
            f"<url><loc>{html.escape(self._url(e))}</loc><news:news><news:publication>"
            f"<news:name>{SITE_TITLE}</news:name><news:language>en</news:language>"
            f"</news:publication><news:publication_date>{_rfc3339(e.post.published)}"
            f"</news:publication_date><news:title>{html.escape(e.post.title)}</news:title>"
            "</news:news></url>\n"
            for e in self._order
            if e.post.published >= newest - NEWS_WINDOW
        )
        return _xml(
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
            ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
            f"{urls}</urlset>"
        )

    def _last_updated(self) -> datetime:
        return max((e.post.updated for e in self._order), default=DEFAULT_START)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: PlatformSite


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections close after this long
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _Server

    def do_GET(self) -> None:
        if self.server.site.delay:
            time.sleep(self.server.site.delay)
        response = self.server.site._serve(self.path, self.headers)
        if self.path.startswith("/posts/"):  # recorded in site.requests, then held
            self.server.site.open.wait(timeout=120)
        self.send_response(response.status)
        if response.status != 304:  # a 304 has no body, so no Content-Length
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.status != 304:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


# -- helpers -------------------------------------------------------------------------------------


def _param(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _int_param(query: Query, name: str, default: int) -> int | None:
    """The integer parameter `name`, `default` when absent, None when not an integer."""
    value = _param(query, name)
    if value is None:
        return default
    return int(value) if value.isdigit() else None


def _not_modified(headers: Mapping[str, str], etag: str, updated: datetime) -> bool:
    """RFC 9110: If-None-Match when sent, else If-Modified-Since."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if not if_modified_since:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    return since >= updated.replace(microsecond=0)


def _month(entry: _Entry) -> tuple[int, int]:
    day = entry.post.published.astimezone(SITE_TZ)
    return day.year, day.month


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _blogger_time(moment: datetime) -> str:
    return moment.astimezone(SITE_TZ).isoformat(timespec="milliseconds")


def _blogger_author(name: str) -> dict[str, Any]:
    return {
        "name": {"$t": name},
        "uri": {"$t": "https://www.blogger.com/profile/123"},
        "email": {"$t": "noreply@blogger.com"},
    }


def _wp_time(moment: datetime, zone: timezone) -> str:
    return moment.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds")


def _wp_texturize(title: str) -> str:
    """A title as WordPress renders it: curly quotes and dashes as numeric entities."""
    text = html.escape(title, quote=False).replace("&amp;", "&#038;")
    text = re.sub(r'"([^"]*)"', "&#8220;\\1&#8221;", text)
    return text.replace("'", "&#8217;").replace(" - ", " &#8211; ")


def _wp_invalid(param: str, message: str) -> _Response:
    return _json(
        400,
        {
            "code": "rest_invalid_param",
            "message": f"Invalid parameter(s): {param}",
            "data": {"status": 400, "params": {param: message}},
        },
    )


def _gdata_xml(tag: str, node: dict[str, Any]) -> str:
    """Blogger's JSON as the Atom it mirrors: `$t` is text, `a$b` is `a:b`, strings are
    attributes, objects and lists are child elements."""
    attrs = children = ""
    for key, value in node.items():
        name = key.replace("$", ":")
        if isinstance(value, str) and key != "$t":
            attrs += f' {name}="{html.escape(value)}"'
        elif isinstance(value, dict):
            children += _gdata_xml(name, value)
        elif isinstance(value, list):
            children += "".join(_gdata_xml(name, item) for item in value)
    return f"<{tag}{attrs}>{html.escape(node.get('$t', ''), quote=False)}{children}</{tag}>"


def _json(status: int, doc: object, headers: dict[str, str] | None = None) -> _Response:
    body = json.dumps(doc).encode()
    return _Response(status, body, "application/json; charset=UTF-8", headers or {})


def _xml(document: str) -> _Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n{document}'.encode()
    return _Response(200, body, "application/xml; charset=utf-8")


def _redirect(location: str) -> _Response:
    return _Response(301, b"", headers={"Location": location})


def _not_found() -> _Response:
    return _Response(404, NOT_FOUND_PAGE)
