"""The loopback platform servers themselves: discovery documents, paging, conditional GET, edits."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import Message
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import pytest

from pipelines.extraction import extract_article
from pipelines.identity import content_sha256
from tests.support.platforms import (
    DEFAULT_START,
    KINDS,
    PRIVATE_PATH,
    PlatformSite,
    Post,
    make_posts,
)
from tests.support.site import PAGES

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@dataclass
class Fetched:
    status: int
    headers: Message
    body: bytes
    url: str

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(url: str, **headers: str) -> Fetched:
    """GET `url` without proxies; HTTP errors (and 304) are returned, not raised."""
    request = urllib.request.Request(
        url, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )
    try:
        with OPENER.open(request, timeout=10) as response:
            return Fetched(response.status, response.headers, response.read(), response.url)
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.headers, error.read(), url)


def hrefs(page: bytes, base: str) -> list[str]:
    return [urljoin(base, h) for h in re.findall(r'href="([^"]+)"', page.decode())]


@pytest.fixture(scope="module")
def posts() -> list[Post]:
    return make_posts(12, list(PAGES.values()))


def expected_urls(site: PlatformSite, posts: list[Post]) -> list[str]:
    """All post URLs newest first: the private post is 30 minutes older than the newest."""
    urls = [site.post_url(post) for post in posts]
    return [urls[0], site.origin + PRIVATE_PATH, *urls[1:]]


# -- how a crawler finds the posts of each kind ------------------------------------------------


def _blogger(site: PlatformSite) -> list[str]:
    home = fetch(site.origin + "/").body
    assert b"<meta content='blogger' name='generator'/>" in home
    assert f'href="{site.origin}/feeds/posts/default"'.encode() in home
    feed = fetch(site.origin + "/feeds/posts/default?alt=json&max-results=500").json()["feed"]
    return [link["href"] for e in feed["entry"] for link in e["link"] if link["rel"] == "alternate"]


def _wordpress(site: PlatformSite) -> list[str]:
    home = fetch(site.origin + "/").body
    assert f'<link rel="https://api.w.org/" href="{site.origin}/wp-json/" />'.encode() in home
    assert f'href="{site.origin}/feed/"'.encode() in home
    return [
        post["link"] for post in fetch(site.origin + "/wp-json/wp/v2/posts?per_page=100").json()
    ]


def _news(site: PlatformSite) -> list[str]:
    assert b"alternate" not in fetch(site.origin + "/").body
    robots = fetch(site.origin + "/robots.txt").body.decode()
    (index,) = re.findall(r"^Sitemap: (\S+)$", robots, re.M)
    maps = [loc.text for loc in ET.fromstring(fetch(index).body).iter(f"{SITEMAP}loc")]
    assert maps == [f"{site.origin}/sitemap-posts.xml.gz", f"{site.origin}/news-sitemap.xml"]
    urlset = ET.fromstring(gzip.decompress(fetch(maps[0]).body))
    return [loc.text for loc in urlset.iter(f"{SITEMAP}loc")]


def _feed(path: str, parse: Callable[[bytes], list[str]]) -> Callable[[PlatformSite], list[str]]:
    def discover(site: PlatformSite) -> list[str]:
        home = fetch(site.origin + "/").body.decode()
        (feed,) = re.findall(
            r'<link rel="alternate" type="[^"]+" title="[^"]*" href="([^"]+)"', home
        )
        assert feed == site.origin + path
        return parse(fetch(feed).body)

    return discover


def _site(site: PlatformSite) -> list[str]:
    """Follow the homepage's older-posts links and the archive months, never the calendar."""
    found, queue, seen = [], [site.origin + "/"], set()
    while queue:
        page = queue.pop(0)
        seen.add(page)
        for link in hrefs(fetch(page).body, page):
            path = urlsplit(link).path
            if link.endswith(".html"):
                found += [link] if link not in found else []
            elif not path.startswith("/calendar/") and link not in seen | set(queue):
                queue.append(link)
    return found


DISCOVER: dict[str, Callable[[PlatformSite], list[str]]] = {
    "blogger": _blogger,
    "wordpress": _wordpress,
    "news": _news,
    "rss": _feed("/feed.rss", lambda b: [e.text for e in ET.fromstring(b).iter("link")][1:]),
    "atom": _feed(
        "/atom.xml", lambda b: [e.get("href") for e in ET.fromstring(b).iter(f"{ATOM}link")][2:]
    ),
    "jsonfeed": _feed("/feed.json", lambda b: [item["url"] for item in json.loads(b)["items"]]),
    "site": _site,
}


# -- tests -------------------------------------------------------------------------------------


def test_make_posts_are_distinct_copies_of_real_pages(posts):
    assert len({p.slug for p in posts}) == len({p.title for p in posts}) == 12
    assert [posts[0].published - p.published for p in posts[:3]] == [
        timedelta(0),
        timedelta(hours=1),
        timedelta(hours=2),
    ]
    assert posts[0].published == posts[0].updated == DEFAULT_START
    texts = set()
    for post in posts:
        article = extract_article(post.body_html.decode(), "http://127.0.0.1/post.html")
        assert article["title"] == post.title
        texts.add(content_sha256(article["text"]))
    assert len(texts) == 12  # no two posts extract to the same text
    later = make_posts(1, list(PAGES.values()), start=DEFAULT_START + timedelta(hours=1), first=13)
    assert later[0].title.endswith("#13") and later[0].published > posts[0].published


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_lists_every_post_and_serves_it(kind, posts):
    with PlatformSite(kind, posts) as site:
        robots = fetch(site.origin + "/robots.txt").body.decode()
        assert robots.startswith("User-agent: *\nDisallow: /private/\n")
        assert ("Sitemap:" in robots) == (kind == "news")
        urls = DISCOVER[kind](site)
        expected = expected_urls(site, posts)
        # The private post is listed like any other, newest first (the site kind's crawl
        # order is its own).
        assert urls == expected if kind != "site" else set(urls) == set(expected)
        for post in posts:
            page = fetch(site.post_url(post))
            assert page.status == 200 and page.body == post.body_html
            assert page.headers["Content-Type"] == "text/html; charset=utf-8"
            assert page.headers["ETag"].startswith('"') and page.headers["Last-Modified"]
        assert len(site.article_fetches()) == 12
        assert all(not target.startswith("/private/") for target, _ in site.requests)
        assert fetch(site.origin + "/no/such/page.html").status == 404
        assert site.requests[-1] == ("/no/such/page.html", 404)


def test_blogger_json_paging_reaches_every_post(posts):
    with PlatformSite("blogger", posts) as site:
        url: str | None = site.origin + "/feeds/posts/default?alt=json&start-index=1&max-results=5"
        seen, pages = [], 0
        while url:
            feed = fetch(url).json()["feed"]
            pages += 1
            assert feed["openSearch$totalResults"] == {"$t": "13"}
            for entry in feed["entry"]:
                assert entry["id"]["$t"].startswith("tag:blogger.com,1999:blog-123.post-")
                assert re.fullmatch(
                    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-08:00", entry["published"]["$t"]
                )
                assert entry["author"][0]["name"]["$t"] == "Wire Watch"
                seen += [link["href"] for link in entry["link"] if link["rel"] == "alternate"]
            url = next((link["href"] for link in feed["link"] if link["rel"] == "next"), None)
        assert pages == 3 and seen == expected_urls(site, posts)
        past = fetch(site.origin + "/feeds/posts/default?alt=json&start-index=14").json()
        assert past["version"] == "1.0" and "entry" not in past["feed"]
        assert all(link["rel"] != "next" for link in past["feed"]["link"])
        assert past["feed"]["openSearch$startIndex"] == {"$t": "14"}
        big = fetch(site.origin + "/feeds/posts/default?alt=json&max-results=9999").json()
        assert big["feed"]["openSearch$itemsPerPage"] == {"$t": "500"}
        atom = fetch(site.origin + "/feeds/posts/default?max-results=5")
        assert atom.headers["Content-Type"].startswith("application/atom+xml")
        root = ET.fromstring(atom.body)
        assert len(root.findall(f"{ATOM}entry")) == 5
        (next_link,) = [e for e in root.findall(f"{ATOM}link") if e.get("rel") == "next"]
        assert (
            next_link.get("href")
            == f"{site.origin}/feeds/posts/default?start-index=6&max-results=5"
        )


def test_wordpress_rest_paging_filters_and_errors(posts):
    with PlatformSite("wordpress", posts) as site:
        api = site.origin + "/wp-json/wp/v2/posts"
        first = fetch(api + "?per_page=5")
        assert (first.headers["X-WP-Total"], first.headers["X-WP-TotalPages"]) == ("13", "3")
        assert f'<{api}?per_page=5&page=2>; rel="next"' in first.headers["Link"]
        links = [p["link"] for n in (1, 2, 3) for p in fetch(f"{api}?per_page=5&page={n}").json()]
        assert links == expected_urls(site, posts)
        past = fetch(api + "?per_page=5&page=4")
        assert past.status == 400
        assert past.json() == {
            "code": "rest_post_invalid_page_number",
            "message": "The page number requested is larger than the number of pages available.",
            "data": {"status": 400},
        }
        assert fetch(api + "?per_page=101").json()["code"] == "rest_invalid_param"
        default = fetch(api)
        assert len(default.json()) == 10 and default.headers["X-WP-TotalPages"] == "2"
        newest = default.json()[0]
        assert (newest["date_gmt"], newest["date"]) == (
            "2024-03-01T12:00:00",
            "2024-03-01T04:00:00",
        )
        assert newest["guid"]["rendered"] == f"{site.origin}/?p={newest['id']}"
        assert fetch(newest["guid"]["rendered"]).url == site.post_url(posts[0])  # 301
        goats = next(p for p in default.json() if p["slug"].startswith("ravenous"))
        assert "it&#8217;s being reborn" in goats["title"]["rendered"]

        edited = DEFAULT_START + timedelta(days=1)
        site.edit_post(posts[4].slug, b"<html><body><p>Corrected.</p></body></html>", edited)
        changed = fetch(api + "?modified_after=" + quote("2024-03-01T12:00:00+00:00"))
        assert [p["slug"] for p in changed.json()] == [posts[4].slug]
        assert (changed.headers["X-WP-Total"], changed.headers["X-WP-TotalPages"]) == ("1", "1")
        assert changed.json()[0]["modified_gmt"] == "2024-03-02T12:00:00"
        assert fetch(api + "?modified_after=2024-03-02T12:00:00").json() == []
        assert len(re.findall(rb"<item>", fetch(site.origin + "/feed/").body)) == 10


def test_news_sitemaps(posts):
    pages = list(PAGES.values())
    old = make_posts(1, pages, start=DEFAULT_START - timedelta(days=3), first=13)[0]
    with PlatformSite("news", [*posts, old]) as site:
        assert site.post_url(posts[0]) == (f"{site.origin}/news/2024/03/01/{posts[0].slug}.html")
        site.edit_post(
            posts[1].slug, b"<html><body>new</body></html>", DEFAULT_START + timedelta(hours=5)
        )
        gz = fetch(site.origin + "/sitemap-posts.xml.gz")
        assert gz.headers["Content-Type"] == "application/x-gzip"
        urlset = ET.fromstring(gzip.decompress(gz.body))
        lastmod = {
            u.findtext(f"{SITEMAP}loc"): u.findtext(f"{SITEMAP}lastmod")
            for u in urlset.iter(f"{SITEMAP}url")
        }
        assert len(lastmod) == 14 and site.post_url(old) in lastmod
        assert lastmod[site.post_url(posts[1])] == "2024-03-01T17:00:00Z"
        news = ET.fromstring(fetch(site.origin + "/news-sitemap.xml").body)
        entries = {
            u.findtext(f"{SITEMAP}loc"): u.find(f"{NEWS}news") for u in news.iter(f"{SITEMAP}url")
        }
        assert set(entries) == set(expected_urls(site, posts))  # not the three-day-old post
        first = entries[site.post_url(posts[0])]
        assert first.findtext(f"{NEWS}publication_date") == "2024-03-01T12:00:00Z"
        assert first.findtext(f"{NEWS}title") == posts[0].title
        assert first.findtext(f"{NEWS}publication/{NEWS}language") == "en"


def test_conditional_get_answers_304(posts):
    with PlatformSite("rss", posts) as site:
        url = site.post_url(posts[0])
        page = fetch(url)
        etag, modified = page.headers["ETag"], page.headers["Last-Modified"]
        assert modified == "Fri, 01 Mar 2024 12:00:00 GMT"
        not_modified = fetch(url, If_None_Match=etag)
        assert (not_modified.status, not_modified.body) == (304, b"")
        assert not_modified.headers["ETag"] == etag
        assert fetch(url, If_Modified_Since=modified).status == 304
        assert fetch(url, If_Modified_Since="Fri, 01 Mar 2024 11:59:59 GMT").status == 200
        # If-None-Match wins over If-Modified-Since (RFC 9110).
        assert fetch(url, If_None_Match='"other"', If_Modified_Since=modified).status == 200
        path = urlsplit(url).path
        assert site.article_fetches() == [path, path, path]
        # Keep-alive: every response is framed, a 304 too.
        connection = http.client.HTTPConnection(urlsplit(site.origin).netloc, timeout=5)
        for headers, status in (({}, 200), ({"If-None-Match": etag}, 304), ({}, 200)):
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            assert (response.status, len(response.read()) > 0) == (status, status == 200)
        connection.close()


def test_add_and_edit_change_listings_and_validators(posts):
    pages = list(PAGES.values())
    fresh = make_posts(1, pages, start=DEFAULT_START + timedelta(hours=1), first=13)[0]
    with PlatformSite("atom", posts) as site:
        url = site.post_url(posts[3])
        before = fetch(url)
        site.add_post(fresh)
        feed = ET.fromstring(fetch(site.origin + "/atom.xml").body)
        entries = feed.findall(f"{ATOM}entry")
        assert entries[0].findtext(f"{ATOM}id") == site.post_url(fresh)
        assert urlsplit(site.post_url(fresh)).path in fetch(site.origin + "/").body.decode()
        with pytest.raises(ValueError):
            site.add_post(fresh)

        updated = DEFAULT_START + timedelta(hours=2)
        site.edit_post(posts[3].slug, b"<html><body><p>Rewritten.</p></body></html>", updated)
        after = fetch(url, If_None_Match=before.headers["ETag"])
        assert after.status == 200 and after.body == b"<html><body><p>Rewritten.</p></body></html>"
        assert after.headers["ETag"] != before.headers["ETag"]
        assert after.headers["Last-Modified"] == "Fri, 01 Mar 2024 14:00:00 GMT"
        feed = ET.fromstring(fetch(site.origin + "/atom.xml").body)
        entries = feed.findall(f"{ATOM}entry")
        assert feed.findtext(f"{ATOM}updated") == "2024-03-01T14:00:00Z"
        edited = entries[5]  # fresh, posts[0], private, posts[1], posts[2], posts[3]: same place
        assert edited.findtext(f"{ATOM}id") == url
        assert edited.findtext(f"{ATOM}updated") == "2024-03-01T14:00:00Z"
        assert edited.findtext(f"{ATOM}published") == "2024-03-01T09:00:00Z"


def test_site_pages_archives_and_calendar_trap(posts):
    with PlatformSite("site", posts, per_page=5) as site:
        home = fetch(site.origin + "/").body.decode()
        assert home.count(".html") == 5 and 'rel="next" href="/?page=2"' in home
        last = fetch(site.origin + "/?page=3").body.decode()
        assert last.count(".html") == 3 and 'rel="next"' not in last
        assert fetch(site.origin + "/?page=4").status == 404
        # Post URL months are local time (UTC-8): the oldest post is from February.
        assert site.post_url(posts[-1]).startswith(site.origin + "/2024/02/")
        months = re.findall(r'href="(/\d{4}/\d\d/)"', home)
        assert months == ["/2024/03/", "/2024/02/"]
        listed = [hrefs(fetch(site.origin + m).body, site.origin) for m in months]
        assert sum(len([u for u in links if u.endswith(".html")]) for links in listed) == 13
        assert fetch(site.origin + "/2023/01/").status == 404
        (calendar,) = re.findall(r'href="(/calendar/[^"]+)"', home)
        assert calendar == "/calendar/2024/03/"
        page = site.origin + calendar
        for _ in range(15):  # as far as anyone follows "next month": always another page
            body = fetch(page).body.decode()
            assert ".html" not in body
            page = site.origin + re.search(r'href="([^"]+)">Next month', body)[1]
        assert page.endswith("/calendar/2025/06/")
        assert "/calendar/2024/02/" in fetch(site.origin + calendar).body.decode()
        assert fetch(site.origin + "/calendar/2024/13/").status == 404
