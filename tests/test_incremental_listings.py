"""Incremental crawls against the loopback platforms: what a rerun must not miss (posts with
old dates, edits a second listing dates, headline-only edits) and what it must notice (posts
that left the site), with the requests it takes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.helpers import crawl
from tests.support.platforms import DEFAULT_START, PlatformSite, make_posts
from tests.support.site import PAGES

POSTS = make_posts(8, list(PAGES.values()))


def _listing(path: str) -> bool:
    return path in ("/", "/robots.txt") or path.startswith("/wp-json/")


def rows(archive, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(archive.db) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.mark.slow
def test_wordpress_rerun_archives_backdated_posts_headline_edits_and_marks_deletions(archive):
    with PlatformSite("wordpress", POSTS) as site:
        proc, first = crawl(archive, site, kind="wordpress")
        assert proc.returncode == 0 and first["status"] == "ok", proc.stderr[-2000:]
        assert first["new_articles"] == len(POSTS)
        requests_before = len(site.requests)

        # Between the runs: a post imported with a date two years back (its modified date is
        # as old), a headline changed and nothing else, a post unpublished.
        backdated = make_posts(1, list(PAGES.values()), start=DEFAULT_START - timedelta(days=730),
                               first=40)[0]  # fmt: skip
        site.add_post(backdated)
        now = datetime.now(UTC).replace(microsecond=0)
        retitled, removed = POSTS[2], POSTS[5]
        headline = "A corrected headline"
        page = retitled.body_html.replace(retitled.title.encode(), headline.encode())
        assert page != retitled.body_html
        site.edit_post(retitled.slug, page, now, title=headline)
        site.remove_post(removed.slug)

        proc, second = crawl(archive, site, kind="wordpress")
        assert proc.returncode == 0 and second["status"] == "ok", proc.stderr[-2000:]
        rerun = site.requests[requests_before:]
        fetched = {path for path, status in rerun if status == 200 and not _listing(path)}
        paths = {site.post_url(p).removeprefix(site.origin) for p in (backdated, retitled)}
        assert fetched == paths  # and a 404 for the removed post; nothing unchanged
        assert (second["new_articles"], second["revisions"]) == (1, 1)
        [(title, versions)] = rows(
            archive,
            "select title, (select count(*) from revisions where article_id = articles.id) "
            "from articles where url = ?",
            site.post_url(retitled),
        )
        assert (title, versions) == (headline, 1)
        gone = rows(archive, "select url from articles where gone_at is not null")
        assert gone == [(site.post_url(removed),)]
        # Kept, and shown as gone by `show` and the exports.
        assert "gone_at" in archive.run("show", site.post_url(removed)).stdout
        exported = archive.run("export", "--format", "jsonl").stdout
        assert sum('"gone_at": null' not in line for line in exported.splitlines()) == 1
        assert (site.post_url(removed).removeprefix(site.origin), 404) in rerun
        # The rerun's cost: robots.txt, the home page, the API's page and its four name
        # lookups, the two changed posts and one check of the removed one.
        assert len(rerun) == 10, rerun

        # A third run: the removed post is not fetched again, nor anything unchanged.
        before = len(site.requests)
        proc, third = crawl(archive, site, kind="wordpress")
        assert proc.returncode == 0 and third["fetched"] == 0
        assert site.post_url(removed).removeprefix(site.origin) not in {
            path for path, _ in site.requests[before:]
        }


def test_an_edit_dated_by_a_second_sitemap_is_not_skipped(archive):
    # A news sitemap (no lastmod) named first, then the posts sitemap that dates the edit.
    recent = make_posts(4, list(PAGES.values()), start=datetime.now(UTC) - timedelta(hours=2))
    with PlatformSite("news", recent) as site:
        site.news_first = True
        proc, row = crawl(archive, site, kind="sitemap")
        assert proc.returncode == 0 and row["new_articles"] == 4, proc.stderr[-2000:]
        before = len(site.article_fetches())
        edited = recent[1]
        body = edited.body_html.replace(
            b"this note makes each copy of the story unique.",
            b"this note makes each copy of the story unique. Update: the talks ended.",
        )
        site.edit_post(edited.slug, body, datetime.now(UTC).replace(microsecond=0))
        proc, row = crawl(archive, site, kind="sitemap")
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert site.article_fetches()[before:] == [site.post_url(edited).removeprefix(site.origin)]
        assert row["revisions"] == 1


def test_a_feed_without_a_next_page_is_partial_and_auto_completes_it(archive):
    with PlatformSite("wordpress", POSTS + make_posts(6, list(PAGES.values()), first=20)) as site:
        # The WordPress feed lists the 10 newest of 14 posts and has no next page; this one
        # is no WordPress feed (no generator), so nothing says how to page it.
        proc, row = crawl(archive, site, kind="feed", name="feed-only")
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert row["status"] == "partial" and "no next page" in row["reason"]
        assert row["new_articles"] == 9  # and the tenth is the post robots.txt disallows
        assert "partial" in proc.stderr
