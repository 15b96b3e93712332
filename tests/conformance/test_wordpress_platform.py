"""The real-WordPress fixture itself: where each site keeps its API, feeds and sitemaps, and that
the change helpers do to WordPress what they say. Fast; no crawls."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from tests.conformance.conftest import WordPressSites
from tests.conformance.wordpress import AUTHORS, COMMENTERS, Site, http_get, wp_datetime

pytestmark = pytest.mark.platforms

SITES = ("pretty", "plain", "prefix")
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def feed_url(site: Site) -> str:
    return site.home + ("feed/" if site.spec.permalinks else "?feed=rss2")


def sitemap_url(site: Site) -> str:
    return site.home + ("wp-sitemap.xml" if site.spec.permalinks else "?sitemap=index")


def published_links(site: Site) -> set[str]:
    return {post["link"] for post in site.expected()}


@pytest.mark.parametrize("name", SITES)
def test_rest_api_root_is_announced_and_answers(wp: WordPressSites, name: str) -> None:
    site = wp.sites[name]
    status, headers, body = http_get(site.home)
    assert status == 200
    assert f'<{site.api_root}>; rel="https://api.w.org/"' in headers.get_all("Link")
    assert f'<link rel="https://api.w.org/" href="{site.api_root}" />' in body.decode()
    status, headers, body = http_get(site.api("/wp/v2/posts", per_page=5))
    assert status == 200, body[:300]
    assert headers["Content-Type"].startswith("application/json")
    total = len(site.expected())
    assert int(headers["X-WP-Total"]) == total
    assert int(headers["X-WP-TotalPages"]) == -(-total // 5)
    assert 'rel="next"' in headers["Link"]
    posts = json.loads(body)
    assert {p["link"] for p in posts} <= published_links(site)


def test_plain_permalinks_have_no_wp_json_path(wp: WordPressSites) -> None:
    """Under plain permalinks /wp-json/ is not the API: WordPress answers with its home page
    (200, HTML) and /wp-json/wp/v2/posts with a redirect to a trailing-slash URL that is HTML
    too; only ?rest_route= (the api.w.org link) reaches the API."""
    site = wp.sites["plain"]
    status, headers, _ = http_get(site.origin + "/wp-json/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    status, headers, _ = http_get(site.origin + "/wp-json/wp/v2/posts")
    assert status == 301 and headers["Location"].endswith("/wp-json/wp/v2/posts/")
    status, headers, _ = http_get(site.origin + "/?rest_route=/wp/v2/posts")
    assert status == 200 and headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("name", SITES)
def test_feed_pages_with_paged(wp: WordPressSites, name: str) -> None:
    """10 items a page, newest first, more with ?paged=N (no rel=next link); all of them
    together are the published posts."""
    site = wp.sites[name]
    status, _, home = http_get(site.home)
    assert (
        f'type="application/rss+xml" title="{site.spec.blogname.replace("&", "&amp;")}'
        f' &raquo; Feed" href="{feed_url(site)}"' in home.decode()
    )
    links: list[str] = []
    for page in range(1, 20):
        url = feed_url(site) + ("&" if "?" in feed_url(site) else "?") + f"paged={page}"
        status, _, body = http_get(url)
        if status == 404:
            break
        items = ET.fromstring(body).findall("./channel/item")
        if not items:
            break
        assert page > 1 or len(items) == 10
        links += [item.findtext("link") or "" for item in items]
    assert page > 3  # 30+ posts: at least three pages
    assert len(links) == len(set(links))
    assert set(links) == published_links(site)
    assert b'rel="next"' not in body


@pytest.mark.parametrize("name", SITES)
def test_sitemap_lists_posts_pages_terms_and_users(wp: WordPressSites, name: str) -> None:
    site = wp.sites[name]
    status, _, body = http_get(sitemap_url(site))
    assert status == 200, body[:300]
    maps = [loc.text or "" for loc in ET.fromstring(body).iter(f"{SITEMAP}loc")]
    assert len(maps) == 5  # posts, pages, categories, tags, users
    status, _, body = http_get(maps[0])
    assert "post" in maps[0]
    posts = {loc.text for loc in ET.fromstring(body).iter(f"{SITEMAP}loc")}
    assert posts == published_links(site)
    assert b"<lastmod>" not in body  # WordPress 6.1's own sitemaps carry no dates
    status, _, robots = http_get(site.origin + "/robots.txt")
    if name == "pretty":
        assert f"Sitemap: {sitemap_url(site)}" in robots.decode()
    else:  # plain: a redirect to /robots.txt/; prefix: nothing at the server's root
        assert status in (301, 404)


def test_users_endpoint_is_public_and_lists_authors_only(wp: WordPressSites) -> None:
    site = wp.sites["pretty"]
    status, _, body = http_get(site.api("/wp/v2/users", per_page=100))
    assert status == 200
    names = {u["name"] for u in json.loads(body)}
    assert set(AUTHORS) <= names
    assert not names & set(COMMENTERS)


def test_post_page_shows_author_terms_and_comments(wp: WordPressSites) -> None:
    """Twenty Twenty-Three prints the author after "by", categories and tags as links, and
    the comments (author name, avatar alt "NAME Avatar") below the post, outside <article>."""
    site = wp.sites["pretty"]
    statuses = site.statuses()  # a change scenario may have trashed some
    post_id = next(i for i in wp.populations["pretty"].commented if statuses[i] == "publish")
    truth = site.post(post_id)
    assert truth is not None
    status, headers, body = http_get(truth["link"])
    page = body.decode()
    assert status == 200
    assert "ETag" not in headers and "Last-Modified" not in headers
    assert f'<p class="wp-block-post-author__name">{truth["author"]}</p>' in page
    assert "wp-block-comment-author-name" in page
    assert any(f"{c} Avatar" in page for c in COMMENTERS)
    assert f'<link rel="canonical" href="{truth["link"]}" />' in page


def test_pages_are_published_and_not_posts(wp: WordPressSites) -> None:
    site = wp.sites["prefix"]
    pages = site.expected("page")
    assert {p["id"] for p in pages} == set(wp.populations["prefix"].pages)
    assert not {p["link"] for p in pages} & published_links(site)


def test_unpublished_posts_are_not_public(wp: WordPressSites) -> None:
    site = wp.sites["plain"]
    population = wp.populations["plain"]
    statuses = site.statuses()
    for role in ("draft", "private", "future", "trashed"):
        post_id = getattr(population, role)
        if role == "future" and statuses[post_id] != "future":
            continue  # a change scenario published it
        assert statuses[post_id] == {"trashed": "trash"}.get(role, role)
        status, _, _ = http_get(site.api(f"/wp/v2/posts/{post_id}"))
        assert status in (401, 404)
        assert post_id not in {p["id"] for p in site.expected()}


def test_new_backdated_post_keeps_an_old_modified_date(wp: WordPressSites) -> None:
    """wp_insert_post with a past date sets post_modified to that date, as an import does."""
    site = wp.sites["prefix"]
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=730)
    post_id = site.create_post(
        "A backdated helper check",
        ["Backdated on purpose."],
        author=AUTHORS[2],
        date_gmt=old,
        categories=["World"],
    )
    truth = site.post(post_id)
    assert truth is not None
    assert truth["date_gmt"] == truth["modified_gmt"] == wp_datetime(old)
    # Backdating an existing post through wp_update_post makes post_modified now...
    older = old - timedelta(days=10)
    truth = site.backdate(post_id, older)
    assert truth["date_gmt"] == wp_datetime(older)
    assert truth["modified_gmt"] > wp_datetime(datetime.now(UTC) - timedelta(hours=1))
    # ...unless the helper forces it old, as an importer leaves it.
    truth = site.backdate(post_id, older, modified_gmt=older)
    assert truth["modified_gmt"] == wp_datetime(older)
    site.delete_post(post_id)


def test_scheduled_post_published_late_keeps_its_scheduling_day(wp: WordPressSites) -> None:
    site = wp.sites["prefix"]
    now = datetime.now(UTC).replace(microsecond=0)
    post_id = site.create_post(
        "A scheduled helper check",
        ["Due later."],
        author=AUTHORS[0],
        date_gmt=now + timedelta(days=5),
        status="future",
    )
    assert site.statuses()[post_id] == "future"
    due, scheduled = now - timedelta(hours=2), now - timedelta(days=10)
    truth = site.publish_scheduled(post_id, date_gmt=due, scheduled_on=scheduled)
    assert truth["status"] == "publish"
    assert truth["date_gmt"] == wp_datetime(due)
    assert truth["modified_gmt"] == wp_datetime(scheduled)
    status, _, _ = http_get(truth["link"])
    assert status == 200
    site.delete_post(post_id)


def test_edits_password_trash_and_delete(wp: WordPressSites) -> None:
    site = wp.sites["prefix"]
    old = datetime(2022, 6, 1, 12, tzinfo=UTC)
    post_id = site.create_post(
        "Helper check & edits",
        ["First text.", "Second paragraph."],
        author=AUTHORS[1],
        date_gmt=old,
        tags=["R&D"],
    )
    before = site.post(post_id)
    assert before is not None and before["tags"] == ["R&D"]
    assert before["title"] == "Helper check & edits"
    truth = site.update_post(post_id, title="Helper check, retitled")
    assert truth["title"] == "Helper check, retitled"
    assert truth["content_html"] == before["content_html"]
    assert truth["modified_gmt"] > before["modified_gmt"]
    truth = site.update_post(post_id, paragraphs=["First text.", "A new second paragraph."])
    assert "A new second paragraph." in truth["content_html"]
    truth = site.update_post(post_id, password="secret")
    assert truth["protected"] is True
    assert truth["title"] == "Helper check, retitled"  # without "Protected: "
    status, _, body = http_get(site.api(f"/wp/v2/posts/{post_id}"))
    api = json.loads(body)
    assert api["content"]["protected"] is True and api["content"]["rendered"] == ""
    assert api["title"]["rendered"] == "Helper check, retitled"
    status, _, body = http_get(truth["link"])
    assert b"This content is password protected" in body
    assert "Protected: Helper check, retitled" in re.sub(r"&#8217;", "'", body.decode())
    site.trash_post(post_id)
    assert site.statuses()[post_id] == "trash"
    status, _, _ = http_get(truth["link"])
    assert status == 404
    site.delete_post(post_id)
    assert site.post(post_id) is None
    assert post_id not in site.statuses()


def test_comment_helper(wp: WordPressSites) -> None:
    site = wp.sites["prefix"]
    post_id = wp.populations["prefix"].published[1]
    comment = site.add_comment(post_id, "A Passing Reader", "A helper check comment.")
    assert comment > 0
    truth = site.post(post_id)
    assert truth is not None
    _, _, body = http_get(truth["link"])
    assert b"A Passing Reader" in body and b"A helper check comment." in body
    assert truth["author"] in AUTHORS


def test_access_log_has_a_line_per_request(wp: WordPressSites) -> None:
    site = wp.sites["plain"]
    mark = site.log_mark()
    for _ in range(3):
        http_get(site.home + "?p=4", User_Agent="wirearchive-log-check")
    lines = [r for r in site.requests(mark) if r.user_agent == "wirearchive-log-check"]
    assert [(r.method, r.target, r.status) for r in lines] == [("GET", "/?p=4", 200)] * 3
    assert urlsplit(site.home).port == site.port
