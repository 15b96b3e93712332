"""Property-based tests: generated documents never crash or hang the parsers and extractor.

Each parser either returns its result or raises its own error type (a ValueError subclass
the spiders turn into a failed listing); anything else is a bug. The suite runs a bounded
number of examples; a longer run is `HYPOTHESIS_PROFILE=long python -m pytest
tests/test_properties.py`.
"""

from __future__ import annotations

import contextlib
import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawlers.listings.feeds import FeedError, parse_feed
from crawlers.listings.platforms import (
    PlatformError,
    discover,
    parse_blogger_json,
    parse_wordpress_listing,
)
from crawlers.listings.sitemaps import SitemapError, parse_sitemap, sitemaps_from_robots
from pipelines.extraction import extract_page

settings.register_profile(
    "default", max_examples=40, deadline=3000, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("long", max_examples=3000, deadline=10000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

BASE = "https://blog.example/"
WORDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
URLISH = st.one_of(
    st.just("https://blog.example/2024/05/post.html"),
    st.just("/relative/path"),
    st.just("javascript:alert(1)"),
    st.just("file:///etc/passwd"),
    st.just("http://[::1"),
    WORDS,
)
DATES = st.one_of(
    st.just("2024-05-01T10:00:00Z"),
    st.just("Wed, 01 May 2024 10:00:00 +0000"),
    st.just("not a date"),
    st.just("9999-99-99"),
    WORDS,
)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def rss(draw: st.DrawFn) -> bytes:
    items = draw(st.lists(st.tuples(WORDS, URLISH, DATES, WORDS), max_size=5))
    body = "".join(
        f"<item><title>{_xml_escape(t)}</title><link>{_xml_escape(u)}</link>"
        f"<pubDate>{_xml_escape(d)}</pubDate><description>{_xml_escape(x)}</description></item>"
        for t, u, d, x in items
    )
    doc = f'<?xml version="1.0"?><rss version="2.0"><channel>{body}</channel></rss>'
    return _maybe_broken(draw, doc.encode("utf-8"))


@st.composite
def atom(draw: st.DrawFn) -> bytes:
    entries = draw(st.lists(st.tuples(WORDS, URLISH, DATES), max_size=5))
    body = "".join(
        f'<entry><title>{_xml_escape(t)}</title><link rel="alternate" href="{_xml_escape(u)}"/>'
        f"<updated>{_xml_escape(d)}</updated></entry>"
        for t, u, d in entries
    )
    doc = f'<feed xmlns="http://www.w3.org/2005/Atom">{body}</feed>'
    return _maybe_broken(draw, doc.encode("utf-8"))


@st.composite
def sitemap(draw: st.DrawFn) -> bytes:
    urls = draw(st.lists(st.tuples(URLISH, DATES), max_size=5))
    index = draw(st.booleans())
    tag, inner = ("sitemapindex", "sitemap") if index else ("urlset", "url")
    body = "".join(
        f"<{inner}><loc>{_xml_escape(u)}</loc><lastmod>{_xml_escape(d)}</lastmod></{inner}>"
        for u, d in urls
    )
    doc = f'<{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</{tag}>'
    return _maybe_broken(draw, doc.encode("utf-8"))


def _maybe_broken(draw: st.DrawFn, doc: bytes) -> bytes:
    """The document, or the document cut short, or with bytes spliced in."""
    how = draw(st.sampled_from(["whole", "cut", "splice"]))
    if how == "cut":
        return doc[: draw(st.integers(0, len(doc)))]
    if how == "splice":
        at = draw(st.integers(0, len(doc)))
        return doc[:at] + draw(st.binary(max_size=20)) + doc[at:]
    return doc


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | WORDS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "feed",
                    "entry",
                    "link",
                    "title",
                    "href",
                    "rel",
                    "published",
                    "updated",
                    "$t",
                    "id",
                    "items",
                    "version",
                    "date",
                    "content",
                    "rendered",
                    "url",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@given(st.one_of(rss(), atom(), st.binary(max_size=300)))
def test_feed_parser_returns_or_raises_feed_error(body):
    try:
        feed = parse_feed(body, BASE)
    except FeedError:
        return
    for entry in feed.entries:
        assert entry.url.startswith(("http://", "https://"))


@given(JSON)
def test_json_feeds_and_platform_apis_never_crash(value):
    body = json.dumps(value).encode()
    for parse in (parse_blogger_json, parse_wordpress_listing):
        with contextlib.suppress(PlatformError):
            parse(body)
    with contextlib.suppress(FeedError):
        parse_feed(body, BASE)


@given(st.one_of(sitemap(), st.binary(max_size=300)))
def test_sitemap_parser_returns_or_raises_sitemap_error(body):
    try:
        parse_sitemap(body, BASE)
    except SitemapError:
        return


@given(st.text(max_size=300))
def test_robots_sitemap_lines_never_crash(text):
    for url in sitemaps_from_robots(text, BASE):
        assert url.startswith(("http://", "https://"))


TAGS = st.sampled_from(
    ["p", "div", "article", "h1", "span", "table", "tr", "td", "script", "style", "a", "main",
     "li", "ul", "br", "html", "body", "title"]
)  # fmt: skip


@st.composite
def html(draw: st.DrawFn) -> bytes:
    parts = draw(
        st.lists(
            st.one_of(
                TAGS.map(lambda t: f"<{t}>"),
                TAGS.map(lambda t: f"</{t}>"),
                WORDS,
                st.just("<!-- comment -->"),
                st.just('<meta charset="koi8-r">'),
                st.just("\x00"),
            ),
            max_size=60,
        )
    )
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16"]))
    raw = "".join(parts).encode(encoding, "replace")
    return _maybe_broken(draw, raw)


@given(html(), st.sampled_from(["text/html", "text/html; charset=utf-8",
                               "text/html; charset=bogus", ""]))  # fmt: skip
def test_extract_page_returns_an_article_or_none(body, content_type):
    article = extract_page(body, content_type, BASE, None)
    assert article is None or isinstance(article["text"], str)


@given(html())
def test_platform_discovery_never_crashes(body):
    discover(body, BASE)
