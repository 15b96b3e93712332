"""The static-platform fixtures themselves: what Hugo and Pelican built and how it is served.
No wirearchive here; if these fail, the contract tests in test_static.py mean nothing."""

from __future__ import annotations

import email.utils
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime
from urllib.parse import urlsplit

import lxml.html
import pytest

from tests.conformance.staticsites import FEED_LIMIT, PAGE_SIZE, POST_COUNT, StaticSite

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_raw_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """GET `url` (no redirects followed): status, headers, body."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with _raw_opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def feed_items(body: bytes) -> list[str]:
    """The links of the entries of an RSS or Atom feed, in order."""
    text = body.decode()
    rss = re.findall(r"<item>.*?<link>([^<]+)</link>", text, re.S)
    atom = re.findall(r'<entry>.*?<link href="([^"]+)" rel="alternate"', text, re.S)
    return rss or atom


def sitemap_urls(body: bytes) -> set[str]:
    return set(re.findall(r"<loc>([^<]+)</loc>", body.decode()))


def test_feeds_list_every_post_or_only_the_newest_ten(static_site: StaticSite) -> None:
    want = POST_COUNT if static_site.variant == "full" else FEED_LIMIT
    newest = sorted(static_site.published, key=lambda p: p.date, reverse=True)
    for url in static_site.feed_urls:
        status, headers, body = fetch(url)
        assert status == 200 and headers["Content-Type"] == "application/xml"
        links = feed_items(body)
        assert links == [static_site.post_url(p) for p in newest[:want]], url
        # No next page: the cut feed is all a feed reader gets.
        assert 'rel="next"' not in body.decode()


def test_sitemap_lists_every_post_and_the_listing_pages(static_site: StaticSite) -> None:
    status, _, body = fetch(static_site.sitemap_url)
    assert status == 200
    urls = sitemap_urls(body)
    assert set(static_site.expected()) <= urls
    listed_listings = urls - set(static_site.expected())
    assert f"{static_site.origin}/" in listed_listings
    assert static_site.post_url(static_site.draft) not in urls
    # Hugo has no robots.txt; Pelican's sitemap plugin writes none either.
    assert fetch(f"{static_site.origin}/robots.txt")[0] == 404


def test_pagination_pages_exist(static_site: StaticSite) -> None:
    pages = -(-POST_COUNT // PAGE_SIZE)
    o = static_site.origin
    if static_site.platform == "hugo":
        paths = [f"/page/{n}/" for n in range(2, pages + 1)]
        paths += [f"/posts/page/{n}/" for n in range(2, pages + 1)]
        paths += ["/tags/", "/categories/", "/tags/open-source/", "/tags/z%C3%BCrich/page/2/"]
        beyond = f"/page/{pages + 1}/"
    else:
        paths = [f"/index{n}.html" for n in range(2, pages + 1)]
        paths += ["/author/jorg-weber.html", "/tag/open-source.html", "/tag/zurich2.html"]
        paths += ["/category/world.html", "/archives.html", "/tags.html"]
        beyond = f"/index{pages + 1}.html"
    for path in paths:
        assert fetch(o + path)[0] == 200, path
        assert path in static_site.listing_paths() or path.endswith("/"), path
    assert fetch(o + beyond)[0] == 404
    # A listing page links on to the next one (Hugo: rel="next"; Pelican: a bare "&rang;").
    body = fetch(o + paths[0])[2].decode()
    assert f'href="{paths[1]}"' in body or f'href="{o}{paths[1]}"' in body


def _article_paragraphs(site: StaticSite, body: bytes) -> list[str]:
    tree = lxml.html.fromstring(body)
    box = "post-content" if site.platform == "hugo" else "entry-content"
    return [
        " ".join(p.text_content().split())
        for p in tree.xpath(f'//div[contains(@class, "{box}")]/p')
    ]


def test_posts_render_their_ground_truth(static_site: StaticSite) -> None:
    """Every post page shows its title, author, date, categories, tags and exactly its
    paragraphs (so Markdown escaping lost nothing)."""
    for url, want in static_site.expected().items():
        status, headers, body = fetch(url)
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8", url
        tree = lxml.html.fromstring(body)
        assert _article_paragraphs(static_site, body) == list(want.paragraphs), url
        assert tree.xpath("string(//article//h1)").strip() == want.title
        if static_site.platform == "hugo":
            stamp = tree.xpath("string(//article//time/@datetime)")
            author = tree.xpath('string(//meta[@name="author"]/@content)')
            tags = tree.xpath('//a[@rel="tag"]/text()')
            cats = tree.xpath('//a[@rel="category tag"]/text()')
        else:
            stamp = tree.xpath('string(//abbr[@class="published"]/@title)')
            author = tree.xpath('string(//address[contains(@class, "author")]/a)')
            tags = tree.xpath('//a[contains(@href, "/tag/")]/text()')
            cats = tree.xpath(
                '//footer[@class="post-info"]//a[contains(@href, "/category/")]/text()'
            )
        published = datetime.fromisoformat(stamp).astimezone(UTC).isoformat()
        assert published == want.published, url
        assert author.strip() == want.author
        assert set(tags) == want.tags and set(cats) == want.categories, url


def test_draft_is_not_published(static_site: StaticSite) -> None:
    draft_url = static_site.post_url(static_site.draft)
    assert fetch(draft_url)[0] == 404
    for url in [*static_site.feed_urls, static_site.sitemap_url, f"{static_site.origin}/"]:
        assert static_site.draft.slug not in fetch(url)[2].decode()


def test_some_dates_are_not_utc(static_site: StaticSite) -> None:
    offsets = {p.date.utcoffset() for p in static_site.published}
    assert len(offsets) >= 3 and any(p.naive_date for p in static_site.published)


def test_conditional_get_and_errors(static_site: StaticSite) -> None:
    url = next(iter(static_site.expected()))
    status, headers, _ = fetch(url)
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    assert fetch(url, **{"If-None-Match": headers["ETag"]})[0] == 304
    assert fetch(url, **{"If-None-Match": '"other"'})[0] == 200
    assert fetch(url, **{"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    earlier = email.utils.format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)
    assert fetch(url, **{"If-Modified-Since": earlier})[0] == 200
    assert fetch(static_site.origin + "/no/such/post/")[0] == 404
    assert fetch(static_site.origin + "/../../etc/passwd")[0] == 404
    if static_site.platform == "hugo":
        path = urlsplit(url).path.rstrip("/")
        status, headers, _ = fetch(static_site.origin + path)
        assert status == 301 and headers["Location"] == path + "/"
    before = len(static_site.server.requests)
    fetch(url)
    assert static_site.server.requests[before:] == [urlsplit(url).path]


@pytest.mark.parametrize("platform", ["hugo", "pelican"])
def test_rebuild_after_edits_serves_the_new_site(fresh_site, platform: str) -> None:
    site: StaticSite = fresh_site(platform, "cut")
    deleted = site.delete(3)
    edited = site.retitle(0, datetime(2024, 5, 1, 12, tzinfo=UTC))
    old_url = site.post_url(deleted)
    assert fetch(old_url)[0] == 200
    site.build()
    assert fetch(old_url)[0] == 404
    status, _, body = fetch(site.post_url(edited))
    assert status == 200 and edited.title.encode() in body
    status, _, body = fetch(site.sitemap_url)
    assert old_url not in sitemap_urls(body) and len(site.expected()) == POST_COUNT - 1
