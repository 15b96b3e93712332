"""Feed, sitemap and platform parsers over realistic and hostile documents (no network)."""

from __future__ import annotations

import gzip
import json
import time

import pytest

from archive.core.entries import Entry
from crawlers.listings.feeds import MAX_ENTRIES, FeedError, http_url, parse_date, parse_feed
from crawlers.listings.platforms import (
    BloggerPage,
    Discovery,
    PlatformError,
    WordPressRefs,
    blogger_feed_url,
    discover,
    parse_blogger_json,
    parse_wordpress_listing,
    parse_wordpress_names,
    parse_wordpress_site,
    wordpress_api_from_links,
    wordpress_posts_url,
    wordpress_route_url,
)
from crawlers.listings.sitemaps import SitemapError, parse_sitemap, sitemaps_from_robots
from crawlers.spiders.feed import wordpress_feed_page
from crawlers.spiders.sitemap import usual_sitemap_urls

# --- feeds -------------------------------------------------------------------------------

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:media="http://search.yahoo.com/mrss/">
<channel>
  <title>Wire Watch</title>
  <atom:link href="https://wire.example/feed/" rel="self" type="application/rss+xml" />
  <atom:link href="/feed/?paged=2" rel="next" />
  <link>https://wire.example</link>
  <description>Reposts of wire stories</description>
  <lastBuildDate>Sun, 09 Jan 2022 18:20:00 +0000</lastBuildDate>
  <item>
    <media:title>Thumbnail caption</media:title>
    <title>Talks resume in Geneva &amp; Vienna</title>
    <link>https://wire.example/2022/01/talks-resume/</link>
    <dc:creator><![CDATA[Jane Roe]]></dc:creator>
    <pubDate>Sun, 09 Jan 2022 18:14:00 +0000</pubDate>
    <category><![CDATA[World]]></category>
    <guid isPermaLink="false">https://wire.example/?p=4107</guid>
    <description><![CDATA[GENEVA (Reuters) - Talks resumed on Sunday...]]></description>
    <content:encoded><![CDATA[<p>GENEVA (Reuters) - Talks resumed on Sunday.</p>
      <p><a href="javascript:alert(1)">x</a></p>]]></content:encoded>
  </item>
  <item>
    <title>Relative link, edited later</title>
    <link>/2022/01/relative/</link>
    <pubDate>Sat, 08 Jan 2022 09:00:00 -0500</pubDate>
    <atom:updated>2022-01-10T08:00:00Z</atom:updated>
    <author>desk@wire.example (News Desk)</author>
  </item>
  <item>
    <title>Only a permalink guid</title>
    <guid>https://wire.example/2022/01/guid-only/</guid>
    <pubDate>not a date</pubDate>
  </item>
  <item><title>Script link</title><link>javascript:alert(document.cookie)</link></item>
  <item><title>Mail link</title><link>mailto:desk@wire.example</link></item>
</channel>
</rss>
"""


WIRE_WATCH = {"sitename": "Wire Watch", "platform": "feed"}  # what every entry of RSS says


def test_rss2_items_with_content_encoded_and_dc_creator() -> None:
    feed = parse_feed(RSS, "https://wire.example/feed/")
    assert (feed.kind, feed.title) == ("rss", "Wire Watch")
    assert feed.next_url == "https://wire.example/feed/?paged=2"
    assert feed.entries == [
        Entry(
            url="https://wire.example/2022/01/talks-resume/",
            guid="https://wire.example/?p=4107",
            title="Talks resume in Geneva & Vienna",
            published="2022-01-09T18:14:00+00:00",
            updated=None,  # a publication date is no modification date: the ledger won't skip
            author="Jane Roe",
            terms=("World",),
            **WIRE_WATCH,
        ),
        Entry(
            url="https://wire.example/2022/01/relative/",
            title="Relative link, edited later",
            published="2022-01-08T14:00:00+00:00",
            updated="2022-01-10T08:00:00+00:00",
            author="News Desk",
            **WIRE_WATCH,
        ),
        Entry(
            url="https://wire.example/2022/01/guid-only/",
            guid="https://wire.example/2022/01/guid-only/",
            title="Only a permalink guid",
            **WIRE_WATCH,
        ),
    ]


def test_rss1_rdf_items_with_dc_date() -> None:
    rdf = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://old.example/">
    <title>Old Blog</title><link>https://old.example/</link>
  </channel>
  <item rdf:about="https://old.example/p/1">
    <title>First</title><link>https://old.example/p/1</link>
    <dc:date>2022-01-09T10:14:00-08:00</dc:date><dc:creator>Ann</dc:creator>
  </item>
</rdf:RDF>"""
    feed = parse_feed(rdf, "https://old.example/index.rdf")
    assert (feed.kind, feed.title, feed.next_url) == ("rss", "Old Blog", None)
    assert feed.entries == [
        Entry(
            url="https://old.example/p/1",
            title="First",
            published="2022-01-09T18:14:00+00:00",  # dc:date: published, not modified
            author="Ann",
            sitename="Old Blog",
            platform="feed",
        )
    ]


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/">
  <title type="html">Field &lt;em&gt;Notes&lt;/em&gt;</title>
  <id>tag:blog.example,2022:feed</id>
  <updated>2022-01-10T08:00:00Z</updated>
  <author><name>Feed Owner</name></author>
  <link rel="self" href="/atom.xml"/>
  <link rel="next" href="/atom.xml?page=2"/>
  <entry>
    <title>Dispatch from Kyiv</title>
    <id>tag:blog.example,2022:post-1</id>
    <link rel="replies" type="text/html" href="https://blog.example/p/1#comments"/>
    <link rel="alternate" type="text/html" href="https://blog.example/p/1"/>
    <published>2022-01-09T10:14:00.001-08:00</published>
    <updated>2022-01-09T11:00:00-08:00</updated>
    <author><name>Olena</name><uri>https://blog.example/about</uri></author>
  </entry>
  <entry xml:base="posts/">
    <title type="html">Tom &amp;amp; Jerry &lt;b&gt;return&lt;/b&gt;</title>
    <id>tag:blog.example,2022:post-2</id>
    <link href="two.html"/>
    <updated>2022-01-08</updated>
  </entry>
  <entry>
    <title>Only an http id</title>
    <id>https://blog.example/p/3</id>
    <link rel="alternate" href="mailto:someone@blog.example"/>
    <updated>yesterday</updated>
  </entry>
  <entry><title>Nothing to fetch</title><id>urn:uuid:1234</id></entry>
</feed>"""


FIELD_NOTES = {"sitename": "Field Notes", "platform": "feed"}


def test_atom_entries_links_and_next_page() -> None:
    feed = parse_feed(ATOM, "https://blog.example/atom.xml")
    assert (feed.kind, feed.title) == ("atom", "Field Notes")
    assert feed.next_url == "https://blog.example/atom.xml?page=2"
    assert feed.entries == [
        Entry(
            url="https://blog.example/p/1",
            guid="tag:blog.example,2022:post-1",
            title="Dispatch from Kyiv",
            published="2022-01-09T18:14:00+00:00",
            updated="2022-01-09T19:00:00+00:00",
            author="Olena",
            **FIELD_NOTES,
        ),
        Entry(
            url="https://blog.example/posts/two.html",  # xml:base of feed and entry
            guid="tag:blog.example,2022:post-2",
            title="Tom & Jerry return",
            updated="2022-01-08T00:00:00+00:00",
            author="Feed Owner",
            **FIELD_NOTES,
        ),
        Entry(
            url="https://blog.example/p/3",
            guid="https://blog.example/p/3",
            title="Only an http id",
            author="Feed Owner",
            **FIELD_NOTES,
        ),
    ]


JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Wire JSON",
    "home_page_url": "https://json.example/",
    "feed_url": "https://json.example/feed.json",
    "next_url": "https://json.example/feed.json?page=2",
    "authors": [{"name": "Desk"}],
    "items": [
        {
            "id": "https://json.example/a",
            "url": "https://json.example/a",
            "title": "A story",
            "content_html": "<p>Text</p>",
            "date_published": "2022-01-09T18:14:00Z",
            "date_modified": "2022-01-09T19:14:00+01:00",
            "authors": [{"name": "Reporter One"}, {"name": "Reporter Two"}],
        },
        {"id": 42, "external_url": "/linked", "content_text": "no title", "date_published": "?"},
        {"id": "3", "url": "mailto:a@json.example", "title": "mail"},
        {"id": "4", "url": "javascript:void(0)", "title": "script"},
        "not an item",
    ],
}


def test_json_feed_1_1() -> None:
    feed = parse_feed(json.dumps(JSON_FEED).encode(), "https://json.example/feed.json")
    assert (feed.kind, feed.title) == ("json", "Wire JSON")
    assert feed.next_url == "https://json.example/feed.json?page=2"
    assert feed.entries == [
        Entry(
            url="https://json.example/a",
            guid="https://json.example/a",
            title="A story",
            published="2022-01-09T18:14:00+00:00",
            updated="2022-01-09T18:14:00+00:00",
            author="Reporter One",
            sitename="Wire JSON",
            platform="feed",
        ),
        Entry(
            url="https://json.example/linked",
            guid="42",
            author="Desk",
            sitename="Wire JSON",
            platform="feed",
        ),
    ]


def test_json_feed_1_0_author_and_bom() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1",
        "title": "Old JSON",
        "items": [{"id": "1", "url": "https://j.example/1", "author": {"name": "Solo"}}],
    }
    feed = parse_feed(b"\xef\xbb\xbf\n" + json.dumps(doc).encode(), "https://j.example/")
    assert feed.entries == [
        Entry(
            url="https://j.example/1", guid="1", author="Solo", sitename="Old JSON", platform="feed"
        )
    ]
    assert feed.next_url is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty document"),
        (b"<rss><channel><title>Broken</channel></rss>", "malformed XML"),
        (
            b"<!DOCTYPE html>\n<html><head><meta charset=utf-8><title>Home</title></head>"
            b"<body><p>Welcome<br></body></html>",
            "an HTML page",
        ),
        (b"<html><head><title>x</title></head><body/></html>", "root element <html>"),
        (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>', "root element <urlset>"),
        (b"<rss version='2.0'><title>no channel</title></rss>", "without <channel>"),
        (b'{"items": []}', "no jsonfeed.org version"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}', "no items list"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "invalid JSON"),
    ],
)
def test_not_a_feed(body: bytes, message: str) -> None:
    with pytest.raises(FeedError, match="not a") as exc:
        parse_feed(body, "https://x.example/feed")
    assert message in str(exc.value)


def test_deeply_nested_json_is_refused() -> None:
    with pytest.raises(FeedError, match="invalid JSON: maximum recursion depth"):
        parse_feed(b'{"a":' * 200_000, "https://x.example/feed.json")


def test_xxe_is_not_expanded() -> None:
    body = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">
  %remote;
]>
<rss version="2.0"><channel><title>Feed &xxe;</title>
  <item><title>&xxe;</title><link>https://x.example/p</link><dc:creator
    xmlns:dc="http://purl.org/dc/elements/1.1/">&xxe;</dc:creator></item>
</channel></rss>"""
    try:
        feed = parse_feed(body, "https://x.example/feed")
    except FeedError:
        return  # refusing the document is safe too
    dumped = repr(feed)
    assert "root:" not in dumped and "/bin/" not in dumped
    assert [e.url for e in feed.entries] == ["https://x.example/p"]


@pytest.mark.timeout(10)
def test_billion_laughs_is_not_expanded() -> None:
    levels = [b'<!ENTITY lol0 "lol">']
    levels += [b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10)]
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [' + b"\n".join(levels) + b"]>"
        b"<rss><channel><title>&lol9;</title><item><title>&lol9;</title>"
        b"<link>https://x.example/p</link></item></channel></rss>"
    )
    started = time.thread_time()  # CPU time: what an expansion would cost, however busy the machine
    try:
        feed = parse_feed(body, "https://x.example/feed")
    except FeedError:
        pass
    else:
        assert len(repr(feed)) < 10_000
    assert time.thread_time() - started < 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sun, 09 Jan 2022 18:14:00 +0000", "2022-01-09T18:14:00+00:00"),
        ("Sun, 9 Jan 2022 13:14 EST", "2022-01-09T18:14:00+00:00"),
        ("Sun, 09 Jan 2022 18:14:00 GMT", "2022-01-09T18:14:00+00:00"),
        ("Sun, 09 Jan 2022 18:14:00 -0000", "2022-01-09T18:14:00+00:00"),
        ("2022-01-09T18:14:00Z", "2022-01-09T18:14:00+00:00"),
        ("2022-01-09t18:14:00z", "2022-01-09T18:14:00+00:00"),
        ("2022-01-09T10:14:00.001-08:00", "2022-01-09T18:14:00+00:00"),
        ("2022-01-09T20:14:00.123456789+02:00", "2022-01-09T18:14:00+00:00"),
        ("2022-01-09T18:14:00", "2022-01-09T18:14:00+00:00"),
        ("  2022-01-09 ", "2022-01-09T00:00:00+00:00"),
        ("2022-01", "2022-01-01T00:00:00+00:00"),
        ("2022", "2022-01-01T00:00:00+00:00"),
        ("", None),
        ("yesterday", None),
        ("Mon, 32 Jan 2022 00:00:00 GMT", None),
        ("2022-13-45", None),
        ("Sun, 09 Jan 99999 18:14:00 +0000", None),
        ("0001-01-01T00:00:00+05:00", None),
        ("9" * 1000, None),
        (None, None),
        (1641752040, None),
    ],
)
def test_parse_date(value: object, expected: str | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/p/1", "https://x.example/p/1"),
        ("  //cdn.example/p ", "https://cdn.example/p"),
        ("http://y.example/", "http://y.example/"),
        ("javascript:alert(1)", None),
        ("mailto:a@x.example", None),
        ("data:text/html,<script>", None),
        ("file:///etc/passwd", None),
        ("ftp://x.example/f", None),
        ("http://[::1", None),
        ("", None),
    ],
)
def test_http_url_only_resolves_http(href: str, expected: str | None) -> None:
    assert http_url(href, "https://x.example/feed/") == expected


# --- sitemaps ----------------------------------------------------------------------------

SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="/sitemap.xsl"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://news.example/sitemap-posts-2022-01.xml</loc>
    <lastmod>2022-01-09T18:14:00+00:00</lastmod></sitemap>
  <!-- generated by a plugin -->
  <sitemap><loc>/sitemap-pages.xml.gz</loc></sitemap>
  <sitemap><loc>javascript:void(0)</loc></sitemap>
  <sitemap><lastmod>2022-01-01</lastmod></sitemap>
</sitemapindex>"""


def test_sitemap_index() -> None:
    sitemap = parse_sitemap(SITEMAP_INDEX, "https://news.example/sitemap.xml")
    assert sitemap.kind == "index"
    assert sitemap.entries == [
        Entry(
            url="https://news.example/sitemap-posts-2022-01.xml",
            updated="2022-01-09T18:14:00+00:00",
        ),
        Entry(url="https://news.example/sitemap-pages.xml.gz"),
    ]


def test_gzipped_urlset() -> None:
    urlset = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
    xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc>https://news.example/a</loc><lastmod>2022-01-09</lastmod>
    <changefreq>daily</changefreq><priority>0.8</priority>
    <image:image><image:loc>https://news.example/a.jpg</image:loc>
      <image:title>Not the page title</image:title></image:image></url>
  <url><loc>
    https://news.example/b
  </loc><lastmod>09/01/2022</lastmod></url>
</urlset>"""
    sitemap = parse_sitemap(gzip.compress(urlset), "https://news.example/sitemap.xml.gz")
    assert sitemap.kind == "urlset"
    assert sitemap.entries == [
        Entry(url="https://news.example/a", updated="2022-01-09T00:00:00+00:00"),
        Entry(url="https://news.example/b"),
    ]


def test_google_news_sitemap() -> None:
    news = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
    xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://news.example/2022/01/09/talks-resume</loc>
    <news:news>
      <news:publication><news:name>News Example</news:name><news:language>en</news:language>
      </news:publication>
      <news:publication_date>2022-01-09T10:14:00-08:00</news:publication_date>
      <news:title>Talks resume in Geneva</news:title>
    </news:news>
  </url>
  <url>
    <loc>https://news.example/2022/01/08/edited</loc>
    <lastmod>2022-01-10T00:00:00Z</lastmod>
    <news:news><news:publication_date>2022-01-08</news:publication_date>
      <news:title>Edited story</news:title></news:news>
  </url>
</urlset>"""
    sitemap = parse_sitemap(news, "https://news.example/news-sitemap.xml")
    assert sitemap.entries == [
        Entry(
            url="https://news.example/2022/01/09/talks-resume",
            title="Talks resume in Geneva",
            published="2022-01-09T18:14:00+00:00",
            updated=None,  # a publication date says nothing of edits (no lastmod)
        ),
        Entry(
            url="https://news.example/2022/01/08/edited",
            title="Edited story",
            published="2022-01-08T00:00:00+00:00",
            updated="2022-01-10T00:00:00+00:00",
        ),
    ]


def test_sitemap_with_odd_or_missing_namespaces() -> None:
    body = b"""<urlset xmlns="http://www.google.com/schemas/sitemap/0.84">
  <url><loc>https://odd.example/1</loc></url></urlset>"""
    assert parse_sitemap(body, "https://odd.example/").entries == [
        Entry(url="https://odd.example/1")
    ]
    bare = b"<sitemapindex><sitemap><loc>s2.xml</loc></sitemap></sitemapindex>"
    index = parse_sitemap(bare, "https://odd.example/sitemaps/s1.xml")
    assert (index.kind, index.entries) == (
        "index",
        [Entry(url="https://odd.example/sitemaps/s2.xml")],
    )


def test_gzip_bomb_over_max_bytes() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (20 * 2**20) + b"</urlset>", 9)
    assert len(bomb) < 100_000
    with pytest.raises(SitemapError, match="larger than 1048576 bytes"):
        parse_sitemap(bomb, "https://x.example/s.xml.gz", max_bytes=2**20)


def test_plain_sitemap_over_max_bytes() -> None:
    with pytest.raises(SitemapError, match="larger than 100 bytes"):
        parse_sitemap(b"<urlset>" + b" " * 200 + b"</urlset>", "https://x.example/", 100)


def test_multi_member_gzip() -> None:
    body = gzip.compress(b"<urlset><url><loc>https://x.example/1</loc></url>") + gzip.compress(
        b"<url><loc>https://x.example/2</loc></url></urlset>"
    )
    urls = [e.url for e in parse_sitemap(body, "https://x.example/").entries]
    assert urls == ["https://x.example/1", "https://x.example/2"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (gzip.compress(b"<urlset></urlset>", mtime=0)[:-12], "bad gzip data"),
        (b"\x1f\x8b\x08\x00garbage-not-deflate", "bad gzip data"),
        (b"<urlset><url><loc>https://x.example/</url></urlset>", "malformed XML"),
        (b"<!doctype html><html><body>404 Not Found<br></body></html>", "an HTML page"),
        (RSS, "root element <rss>"),
        (b"   ", "empty document"),
    ],
)
def test_not_a_sitemap(body: bytes, message: str) -> None:
    with pytest.raises(SitemapError, match=message):
        parse_sitemap(body, "https://x.example/sitemap.xml")


def test_sitemap_entries_are_capped() -> None:
    urls = b"".join(b"<url><loc>https://big.example/p/%d</loc></url>" % i for i in range(60_000))
    body = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + urls + b"</urlset>"
    entries = parse_sitemap(body, "https://big.example/sitemap.xml").entries
    assert len(entries) == MAX_ENTRIES == 50_000
    assert entries[-1].url == "https://big.example/p/49999"


def test_sitemap_xxe_is_not_expanded() -> None:
    body = b"""<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>https://x.example/&xxe;</loc></url></urlset>"""
    try:
        entries = parse_sitemap(body, "https://x.example/").entries
    except SitemapError:
        return
    assert all("root:" not in e.url for e in entries)


def test_sitemaps_from_robots() -> None:
    robots = b"""\xef\xbb\xbfUser-agent: *
Disallow: /wp-admin/
Allow: /wp-admin/admin-ajax.php

Sitemap: https://news.example/sitemap_index.xml
sitemap:/news-sitemap.xml   # Google News
SITEMAP : https://news.example/sitemap_index.xml
Sitemap: ftp://news.example/old.xml
Sitemap:
Disallow: /sitemap: not a sitemap line
"""
    assert sitemaps_from_robots(robots, "https://news.example/robots.txt") == [
        "https://news.example/sitemap_index.xml",
        "https://news.example/news-sitemap.xml",
    ]
    assert sitemaps_from_robots("Sitemap: /s.xml\r\n", "http://x.example/robots.txt") == [
        "http://x.example/s.xml"
    ]


# --- Blogger -----------------------------------------------------------------------------


def _blogger_entry(n: int, href: str) -> dict[str, object]:
    return {
        "id": {"$t": f"tag:blogger.com,1999:blog-123.post-{n}"},
        "published": {"$t": "2022-01-09T10:14:00.001-08:00"},
        "updated": {"$t": "2022-01-10T02:00:00.000-08:00"},
        "category": [{"scheme": "http://www.blogger.com/atom/ns#", "term": "wire"}],
        "title": {"type": "text", "$t": f"Post {n}"},
        "content": {"type": "html", "$t": "<p>Body</p>"},
        "link": [
            {
                "rel": "replies",
                "type": "application/atom+xml",
                "href": f"https://wirewatch.blogspot.com/feeds/{n}/comments/default",
                "title": "Post Comments",
            },
            {"rel": "edit", "type": "application/atom+xml", "href": "https://www.blogger.com/x"},
            {"rel": "alternate", "type": "text/html", "href": href, "title": f"Post {n}"},
        ],
        "author": [
            {
                "name": {"$t": "Wire Watch"},
                "uri": {"$t": "https://www.blogger.com/profile/1"},
                "email": {"$t": "noreply@blogger.com"},
            }
        ],
    }


BLOGGER_PAGE = {
    "version": "1.0",
    "encoding": "UTF-8",
    "feed": {
        "xmlns": "http://www.w3.org/2005/Atom",
        "id": {"$t": "tag:blogger.com,1999:blog-123"},
        "updated": {"$t": "2022-01-10T02:00:00.000-08:00"},
        "title": {"type": "text", "$t": "Wire Watch"},
        "link": [
            {"rel": "self", "href": "https://www.blogger.com/feeds/123/posts/default?alt=json"},
            {
                "rel": "next",
                "href": "https://www.blogger.com/feeds/123/posts/default?alt=json"
                "&start-index=3&max-results=2",
            },
        ],
        "openSearch$totalResults": {"$t": "25"},
        "openSearch$startIndex": {"$t": "1"},
        "openSearch$itemsPerPage": {"$t": "2"},
        "entry": [
            _blogger_entry(456, "https://wirewatch.blogspot.com/2022/01/p.html"),
            _blogger_entry(457, "javascript:alert(1)"),
            _blogger_entry(458, "https://wirewatch.blogspot.com/2022/01/q.html"),
        ],
    },
}


def test_blogger_json_page() -> None:
    page = parse_blogger_json(json.dumps(BLOGGER_PAGE).encode())
    assert (page.total, page.start_index, page.per_page) == (25, 1, 2)
    assert page.entries[0] == Entry(
        url="https://wirewatch.blogspot.com/2022/01/p.html",
        guid="tag:blogger.com,1999:blog-123.post-456",
        title="Post 456",
        published="2022-01-09T18:14:00+00:00",
        updated="2022-01-10T10:00:00+00:00",
        author="Wire Watch",
        tags=("wire",),  # Blogger's labels
        sitename="Wire Watch",
        platform="blogger",
    )
    assert [e.url for e in page.entries] == [
        "https://wirewatch.blogspot.com/2022/01/p.html",
        "https://wirewatch.blogspot.com/2022/01/q.html",
    ]


def test_blogger_json_empty_page() -> None:
    feed = {k: v for k, v in BLOGGER_PAGE["feed"].items() if k != "entry"}  # type: ignore[attr-defined]
    feed["openSearch$startIndex"] = {"$t": "26"}
    page = parse_blogger_json(json.dumps({"version": "1.0", "feed": feed}).encode())
    assert page == BloggerPage(entries=[], total=25, start_index=26, per_page=2)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<!DOCTYPE html><html><body>Blog not found</body></html>", "invalid JSON"),
        (b'{"version": "1.0"}', 'no "feed" object'),
        (b"[]", 'no "feed" object'),
    ],
)
def test_not_a_blogger_page(body: bytes, message: str) -> None:
    with pytest.raises(PlatformError, match=message):
        parse_blogger_json(body)


def test_blogger_feed_urls() -> None:
    assert (
        blogger_feed_url("https://wirewatch.blogspot.com/2022/01/p.html?m=1", 26, 25)
        == "https://wirewatch.blogspot.com/feeds/posts/default?alt=json&start-index=26&max-results=25"
    )
    assert (
        blogger_feed_url("http://127.0.0.1:8737/", 1, 150, alt_json=False)
        == "http://127.0.0.1:8737/feeds/posts/default?start-index=1&max-results=150"
    )
    with pytest.raises(PlatformError):
        blogger_feed_url("ftp://wirewatch.blogspot.com/", 1, 25)
    with pytest.raises(ValueError):
        blogger_feed_url("https://wirewatch.blogspot.com/", 0, 25)


PUBLISHED = "2022-01-09T18:14:00+00:00"


def test_blogger_atom_goes_through_parse_feed() -> None:
    atom = b"""<?xml version='1.0' encoding='UTF-8'?><?xml-stylesheet href="x"?>
<feed xmlns='http://www.w3.org/2005/Atom' xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/'
  xmlns:blogger='http://schemas.google.com/blogger/2008'>
<id>tag:blogger.com,1999:blog-123</id><updated>2022-01-10T02:00:00.000-08:00</updated>
<title type='text'>Wire Watch</title>
<link rel='next' type='application/atom+xml'
  href='https://www.blogger.com/feeds/123/posts/default?start-index=2&amp;max-results=1'/>
<openSearch:totalResults>25</openSearch:totalResults>
<entry><id>tag:blogger.com,1999:blog-123.post-456</id>
<published>2022-01-09T10:14:00.001-08:00</published>
<title type='text'>Post 456</title>
<link rel='replies' type='text/html' href='https://wirewatch.blogspot.com/2022/01/p.html#comment-form'/>
<link rel='alternate' type='text/html' href='https://wirewatch.blogspot.com/2022/01/p.html'/>
<author><name>Wire Watch</name></author></entry></feed>"""
    feed = parse_feed(atom, "https://wirewatch.blogspot.com/feeds/posts/default")
    assert feed.next_url == (
        "https://www.blogger.com/feeds/123/posts/default?start-index=2&max-results=1"
    )
    assert [(e.url, e.author, e.published, e.updated) for e in feed.entries] == [
        ("https://wirewatch.blogspot.com/2022/01/p.html", "Wire Watch", PUBLISHED, None)
    ]


# --- WordPress ---------------------------------------------------------------------------

WP_POSTS = [
    {
        "id": 4107,
        "date": "2022-01-09T19:14:00",
        "date_gmt": "2022-01-09T18:14:00",
        "guid": {"rendered": "https://wp.example/?p=4107&#038;lang=en"},
        "modified": "2022-01-10T09:00:00",
        "modified_gmt": "2022-01-10T08:00:00",
        "slug": "talks-resume",
        "status": "publish",
        "type": "post",
        "link": "https://wp.example/2022/01/09/talks-resume/",
        "title": {"rendered": "Talks resume &#8211; <em>Geneva</em> &amp; Vienna"},
        "content": {"rendered": "<p>GENEVA (Reuters) &#8211; ...</p>", "protected": False},
        "author": 3,
        "_embedded": {"author": [{"id": 3, "name": "Jane Roe", "slug": "jane"}]},
    },
    {
        "id": 4106,
        "date": "2022-01-08T10:00:00",
        "date_gmt": None,
        "guid": {"rendered": "https://wp.example/?p=4106"},
        "modified_gmt": "not-a-date",
        "link": "https://wp.example/2022/01/08/draft-ish/",
        "title": {"rendered": ""},
        "author": 5,
    },
    {"id": 4105, "link": "mailto:editor@wp.example", "title": {"rendered": "mail"}},
    {"id": 4104, "title": {"rendered": "no link"}},
]


def test_wordpress_posts_page() -> None:
    assert [e for e, _ in parse_wordpress_listing(json.dumps(WP_POSTS).encode())] == [
        Entry(
            url="https://wp.example/2022/01/09/talks-resume/",
            guid="https://wp.example/?p=4107&lang=en",
            title="Talks resume \u2013 Geneva & Vienna",
            published="2022-01-09T18:14:00+00:00",
            updated="2022-01-10T08:00:00+00:00",
            author="Jane Roe",
            protected=False,
            platform="wordpress",
        ),
        Entry(
            url="https://wp.example/2022/01/08/draft-ish/",
            guid="https://wp.example/?p=4106",
            platform="wordpress",
        ),
    ]


def test_wordpress_invalid_page_error() -> None:
    body = json.dumps(
        {
            "code": "rest_post_invalid_page_number",
            "message": "The page number requested is larger than the number of pages available.",
            "data": {"status": 400},
        }
    ).encode()
    with pytest.raises(PlatformError, match="rest_post_invalid_page_number") as exc:
        parse_wordpress_listing(body)
    assert exc.value.code == "rest_post_invalid_page_number"
    assert "larger than the number of pages" in str(exc.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body>Not Found</body></html>", "invalid JSON"),
        (b'{"posts": []}', "expected a JSON array"),
    ],
)
def test_not_a_wordpress_page(body: bytes, message: str) -> None:
    with pytest.raises(PlatformError, match=message):
        parse_wordpress_listing(body)


def test_wordpress_posts_urls() -> None:
    assert (
        wordpress_posts_url("https://wp.example/wp-json/", 2)
        == "https://wp.example/wp-json/wp/v2/posts?per_page=100&page=2"
    )
    assert wordpress_posts_url("https://wp.example/wp-json", 1, per_page=50) == (
        "https://wp.example/wp-json/wp/v2/posts?per_page=50&page=1"
    )
    assert (
        wordpress_posts_url("https://wp.example/index.php?rest_route=/", 3, per_page=10)
        == "https://wp.example/index.php?rest_route=/wp/v2/posts&per_page=10&page=3"
    )
    with pytest.raises(ValueError):
        wordpress_posts_url("https://wp.example/wp-json/", 1, per_page=101)


# --- homepage discovery ------------------------------------------------------------------

BLOGGER_HOME = b"""<!DOCTYPE html>
<html class='v2' dir='ltr' xmlns='http://www.w3.org/1999/xhtml' xmlns:b='http://www.google.com/2005/gml/b'>
<head>
<meta content='width=1100' name='viewport'/>
<meta content='text/html; charset=UTF-8' http-equiv='Content-Type'/>
<meta content='blogger' name='generator'/>
<link href='https://wirewatch.blogspot.com/favicon.ico' rel='icon' type='image/x-icon'/>
<link href='https://wirewatch.blogspot.com/' rel='canonical'/>
<link rel="alternate" type="application/atom+xml" title="Wire Watch - Atom"
  href="https://wirewatch.blogspot.com/feeds/posts/default" />
<link rel="alternate" type="application/rss+xml" title="Wire Watch - RSS"
  href="https://wirewatch.blogspot.com/feeds/posts/default?alt=rss" />
<link rel="service.post" type="application/atom+xml" title="Wire Watch - Atom"
  href="https://www.blogger.com/feeds/123/posts/default" />
<title>Wire Watch</title>
</head><body><p>posts</p></body></html>"""

WORDPRESS_HOME = b"""<!doctype html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<title>WP Example &#8211; News</title>
<link rel="alternate" type="application/rss+xml" title="WP Example &raquo; Feed"
  href="https://wp.example/feed/" />
<link rel="alternate" type="application/rss+xml" title="WP Example &raquo; Comments Feed"
  href="https://wp.example/comments/feed/" />
<link rel="https://api.w.org/" href="https://wp.example/wp-json/" />
<link rel="alternate" title="JSON" type="application/json"
  href="https://wp.example/wp-json/wp/v2/pages/12" />
<link rel="EditURI" type="application/rsd+xml" title="RSD"
  href="https://wp.example/xmlrpc.php?rsd" />
<meta name="generator" content="WordPress 6.1.1" />
<link rel="alternate" type="application/json+oembed"
  href="https://wp.example/wp-json/oembed/1.0/embed?url=https%3A%2F%2Fwp.example%2F" />
</head>
<body class="home blog"><h1>News</h1>
</html>"""

STATIC_HOME = b"""<html><head>
<base href="https://static.example/blog/">
<LINK REL="Alternate" TYPE="application/atom+xml; charset=utf-8" HREF="atom.xml">
<link rel="alternate" type="application/feed+json" href="/feed.json">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
<link rel="alternate" type="application/atom+xml" href="atom.xml">
<link rel="alternate" type="text/html" hreflang="de" href="/de/">
<link rel="alternate" type="application/rss+xml" title="Comments on everything"
  href="/c.xml">
"""


def test_discover_blogger() -> None:
    found = discover(BLOGGER_HOME, "https://wirewatch.blogspot.com/")
    assert found == Discovery(
        blogger=True,
        wordpress_api=None,
        feeds=[
            ("https://wirewatch.blogspot.com/feeds/posts/default", "atom"),
            ("https://wirewatch.blogspot.com/feeds/posts/default?alt=rss", "rss"),
        ],
    )


def test_discover_blogger_by_feed_link_only() -> None:
    home = b"""<html><head><link rel="alternate" type="application/atom+xml"
      href="/feeds/posts/default"></head><body></body></html>"""
    found = discover(home, "https://custom-domain.example/")
    assert found.blogger is True
    assert found.feeds == [("https://custom-domain.example/feeds/posts/default", "atom")]


def test_discover_wordpress() -> None:
    found = discover(WORDPRESS_HOME, "https://wp.example/")
    assert found == Discovery(
        blogger=False,
        wordpress_api="https://wp.example/wp-json/",
        feeds=[("https://wp.example/feed/", "rss")],
    )


def test_discover_static_site_feeds() -> None:
    found = discover(STATIC_HOME, "https://static.example/blog/index.html")
    assert found == Discovery(
        blogger=False,
        wordpress_api=None,
        feeds=[
            ("https://static.example/blog/atom.xml", "atom"),
            ("https://static.example/feed.json", "json"),
        ],
    )


@pytest.mark.parametrize(
    "html",
    [b"", b"   ", b"\x00\xff\xfe garbage \x00", b"<<<>>>", b"<html", b"\x1f\x8b\x08\x00binary"],
)
def test_discover_garbage_is_empty(html: bytes) -> None:
    assert discover(html, "https://x.example/") == Discovery(False, None, [])


def test_wordpress_listing_names_ids_and_protection() -> None:
    posts = [
        {
            "id": 7,
            "link": "https://wp.example/blog/2024/03/01/locked/",
            "date_gmt": "2024-03-01T03:30:00",
            "modified_gmt": "2024-03-02T08:00:00",
            "title": {"rendered": "Locked &amp; away"},
            "content": {"protected": True},
            "author": 2,
            "categories": [3, "x"],
            "tags": [9, 10],
        }
    ]
    [(entry, refs)] = parse_wordpress_listing(json.dumps(posts).encode())
    assert (entry.title, entry.published, entry.protected, entry.platform) == (
        "Locked & away",
        "2024-03-01T03:30:00+00:00",  # date_gmt is UTC: 22:30 in New York the day before
        True,
        "wordpress",
    )
    assert refs == WordPressRefs(author=2, categories=(3,), tags=(9, 10))
    users = [{"id": 2, "name": "Ann &amp; Bo"}, {"id": "3", "name": "x"}, {"id": 4, "name": ""}]
    assert parse_wordpress_names(json.dumps(users).encode()) == {2: "Ann & Bo"}
    assert (
        parse_wordpress_site(b'{"name": "Field &#8211; Notes", "home": "x"}')
        == "Field \u2013 Notes"
    )


def test_wordpress_api_root_from_link_headers() -> None:
    headers = [
        '<https://wp.example/blog/wp-json/>; rel="https://api.w.org/"',
        "<https://wp.example/blog/?p=7>; rel=shortlink",
    ]
    assert wordpress_api_from_links(headers, "https://wp.example/blog/") == (
        "https://wp.example/blog/wp-json/"
    )
    plain = ['<https://wp.example/?rest_route=/>; rel="https://api.w.org/", <x>; rel="next"']
    assert wordpress_api_from_links(plain, "https://wp.example/") == (
        "https://wp.example/?rest_route=/"
    )
    assert (
        wordpress_api_from_links(['<javascript:x>; rel="https://api.w.org/"'], "https://a/") is None
    )
    assert wordpress_api_from_links(['<https://a/>; rel="next"'], "https://a/") is None


def test_wordpress_route_urls_keep_the_prefix_and_rest_route() -> None:
    fields = [("_fields", "id,name")]
    assert wordpress_route_url("https://wp.example/blog/wp-json/", "/wp/v2/users", fields) == (
        "https://wp.example/blog/wp-json/wp/v2/users?_fields=id%2Cname"
    )
    assert wordpress_route_url("https://wp.example/?rest_route=/", "/wp/v2/tags", fields) == (
        "https://wp.example/?rest_route=/wp/v2/tags&_fields=id%2Cname"
    )
    assert wordpress_posts_url(
        "https://wp.example/?rest_route=/", 2, route="/wp/v2/pages", fields="id,link"
    ) == (
        "https://wp.example/?rest_route=/wp/v2/pages&per_page=100&page=2"
        "&_fields=id%2Clink&orderby=id&order=asc"
    )


def test_feed_terms_generator_and_completeness() -> None:
    rss = b"""<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>WP Blog</title><generator>https://wordpress.org/?v=6.1.9</generator>
<item><link>https://wp.example/a/</link><category><![CDATA[News]]></category>
<category>news</category><category>Caf\xc3\xa9 &amp; Bar</category><dc:subject>Extra</dc:subject>
</item></channel></rss>"""
    feed = parse_feed(rss, "https://wp.example/feed/")
    assert feed.generator == "https://wordpress.org/?v=6.1.9" and not feed.complete
    assert feed.entries[0].terms == ("News", "Caf\u00e9 & Bar", "Extra")  # no repeats
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"
  xmlns:fh="http://purl.org/syndication/history/1.0"><title>P</title><fh:complete/>
<generator uri="https://getpelican.com/">Pelican</generator>
<entry><link href="https://p.example/a.html"/><category term="misc"/>
<category term="tag-1" label="Tag One"/></entry></feed>"""
    feed = parse_feed(atom, "https://p.example/feeds/all.atom.xml")
    assert feed.complete and feed.generator == "Pelican https://getpelican.com/"
    assert feed.entries[0].terms == ("misc", "Tag One")
    doc = {"version": "https://jsonfeed.org/version/1.1", "items": [
        {"url": "https://j.example/1", "tags": ["a", "A", 3, "b"]}
    ]}  # fmt: skip
    assert parse_feed(json.dumps(doc).encode(), "https://j.example/").entries[0].terms == (
        "a",
        "b",
    )


def test_wordpress_feed_pages_and_usual_sitemaps() -> None:
    assert wordpress_feed_page("https://wp.example/blog/feed/", 2) == (
        "https://wp.example/blog/feed/?paged=2"
    )
    assert wordpress_feed_page("https://wp.example/?feed=rss2&paged=2", 3) == (
        "https://wp.example/?feed=rss2&paged=3"
    )
    urls = usual_sitemap_urls("https://h.example/blog/")
    assert urls[:2] == [
        "https://h.example/blog/sitemap.xml",
        "https://h.example/blog/sitemap_index.xml",
    ]
    assert "https://h.example/wp-sitemap.xml" in urls and len(set(urls)) == 9
    assert urls[-1] == "https://h.example/blog/?sitemap=index"  # WordPress, plain permalinks


def test_entries_merge_newest_update_and_missing_fields() -> None:
    news = Entry(url="https://n.example/a", title="A", published="2024-01-01T00:00:00+00:00")
    posts = Entry(url="https://n.example/a", updated="2024-01-05T00:00:00+00:00", tags=("x",))
    older = Entry(url="https://n.example/a", updated="2024-01-02T00:00:00+00:00", title="Other")
    merged = news.merged(posts).merged(older)
    assert merged == Entry(
        url="https://n.example/a",
        title="A",
        published="2024-01-01T00:00:00+00:00",
        updated="2024-01-05T00:00:00+00:00",
        tags=("x",),
    )
    assert older.merged(news).merged(posts).updated == "2024-01-05T00:00:00+00:00"
