"""`wirearchive crawl` against loopback sites that behave like Blogger, WordPress, a news site
with only sitemaps, plain feeds, and a site with only archive pages."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Archive
from tests.support.helpers import crawl, free_port, wait_for
from tests.support.platforms import PRIVATE_PATH, PlatformSite, _Response, make_posts
from tests.support.site import PAGES

POSTS = make_posts(12, list(PAGES.values()))
WAY_IN = {
    "blogger": "blogger",
    "wordpress": "wordpress",
    "news": "sitemap",
    "rss": "feed",
    "atom": "feed",
    "jsonfeed": "feed",
    "site": "site",
}


def archived_urls(archive: Archive) -> list[str]:
    with sqlite3.connect(archive.db) as conn:
        return sorted(r[0] for r in conn.execute("select url from articles"))


@pytest.mark.parametrize("kind", list(WAY_IN))
def test_auto_detect_first_crawl_and_unchanged_rerun(archive, kind):
    with PlatformSite(kind, POSTS) as site:
        proc, row = crawl(archive, site)
        assert proc.returncode == 0, proc.stderr[-3000:]
        # The right way in, every post, nothing from the robots-disallowed path.
        assert row["via"].split(" ")[0] == WAY_IN[kind], row["via"]
        assert archived_urls(archive) == sorted(site.post_url(p) for p in POSTS)
        assert row["new_articles"] == len(POSTS)
        # The private post is listed but robots.txt disallows it: counted, never requested.
        assert json.loads(row["errors"]) == {"robots": 1}
        assert not [p for p, _ in site.requests if p.startswith("/private/")]
        assert PRIVATE_PATH not in site.article_fetches()
        first_fetches = len(site.article_fetches())
        assert first_fetches == len(POSTS)

        # An unchanged site: no article page is fetched again.
        proc, row = crawl(archive, site)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert len(site.article_fetches()) == first_fetches
        assert row["new_articles"] == 0 and row["fetched"] == 0
        if kind == "news":
            # Sitemap lastmod: the unchanged child sitemaps are not even read.
            assert row["discovered"] == 0
        else:
            assert row["skipped"] + row["not_modified"] == len(POSTS)
        assert "crawl" in proc.stdout and "ok" in proc.stdout


@pytest.mark.parametrize("kind", ["blogger", "wordpress", "news", "atom", "site"])
def test_new_and_edited_posts_are_picked_up_exactly(archive, kind):
    with PlatformSite(kind, POSTS) as site:
        assert crawl(archive, site, kind=WAY_IN[kind])[0].returncode == 0
        before = set(site.article_fetches())
        # New and edited today, as a real site's would be (listing dates vs the last crawl).
        now = datetime.now(UTC).replace(microsecond=0)
        new = make_posts(1, list(PAGES.values()), start=now, first=13)[0]
        site.add_post(new)
        edited = POSTS[3]
        body = edited.body_html.replace(
            b"this note makes each copy of the story unique.",
            b"this note makes each copy of the story unique. Correction: an earlier version "
            b"of this post misstated the date of the talks.",
        )
        assert body != edited.body_html
        site.edit_post(edited.slug, body, now - timedelta(minutes=5))
        proc, row = crawl(archive, site, kind=WAY_IN[kind])
        assert proc.returncode == 0, proc.stderr[-3000:]
        fetched_now = site.article_fetches()[len(before) :]
        new_path, edited_path = (site.post_url(p).removeprefix(site.origin) for p in (new, edited))
        assert sorted(fetched_now) == sorted([new_path, edited_path])
        assert (row["new_articles"], row["revisions"]) == (1, 1)
        shown = archive.show(site.post_url(edited))
        assert "Correction: an earlier version" in shown["text"]
        assert len(shown["revisions"]) == 1
        assert "Correction" not in shown["revisions"][0]["text"]
        text = archive.run("show", site.post_url(edited)).stdout
        assert "revision 1" in text


def test_feed_metadata_is_kept_with_the_article(archive):
    with PlatformSite("rss", POSTS[:2]) as site:
        proc, _ = crawl(archive, site, kind="feed")
        assert proc.returncode == 0, proc.stderr[-3000:]
        shown = archive.show(site.post_url(POSTS[0]))
    listing = shown["listing"]
    assert listing["url"] == site.post_url(POSTS[0]) and listing["guid"] == shown["guid"]
    assert listing["title"] == POSTS[0].title and listing["author"] == "Wire Watch"
    assert listing["published"].startswith(POSTS[0].published.strftime("%Y-%m-%dT%H:%M"))


def test_blogger_pages_through_the_whole_blog(archive):
    posts = make_posts(160, list(PAGES.values()))  # more than one page of 150
    with PlatformSite("blogger", posts) as site:
        proc, row = crawl(archive, site, kind="blogger")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert row["new_articles"] == 160
        feed_pages = [p for p, _ in site.requests if p.startswith("/feeds/posts/default")]
        assert any("start-index=151" in p for p in feed_pages)


def test_wordpress_falls_back_to_the_feed_when_the_api_is_gone(archive):
    with PlatformSite("wordpress", POSTS) as site:
        site._routes.pop("/wp-json/wp/v2/posts")  # a site with the REST API switched off
        proc, row = crawl(archive, site, kind="wordpress")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "fallback" in row["via"]
        assert row["new_articles"] == 9  # the feed lists the latest 10


def test_crawl_with_the_extractor_warmed_up(archive):
    """The warm-up the other tests switch off (WIREARCHIVE_WARM_UP=0), on as by default."""
    archive.env["WIREARCHIVE_WARM_UP"] = "1"
    with PlatformSite("rss", POSTS[:3]) as site:
        proc, row = crawl(archive, site)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "warm-up failed" not in proc.stderr
        assert archived_urls(archive) == sorted(site.post_url(p) for p in POSTS[:3])
        assert row["new_articles"] == 3


def test_calendar_trap_is_bounded(archive):
    with PlatformSite("site", POSTS) as site:
        proc, row = crawl(archive, site, kind="site")
        assert proc.returncode == 0
        calendar = [p for p, _ in site.requests if p.startswith("/calendar/")]
        assert 0 < len(calendar) <= 10
        assert row["new_articles"] == len(POSTS)


def test_source_that_fails_entirely_exits_non_zero(archive):
    with PlatformSite("rss", POSTS) as site:
        site._routes.pop("/feed.rss")
        proc, row = crawl(archive, site, kind="feed", name="broken")
    assert proc.returncode == 1
    assert row["status"] == "failed" and "404" in row["reason"]
    assert "broken: failed" in proc.stderr


def test_overlapping_runs_are_refused(archive):
    with PlatformSite("rss", POSTS) as site:
        site.open.clear()  # the first crawl waits on its post pages until the second has run
        sources = archive.root / "sources.toml"
        sources.write_text(f'[[sources]]\nname = "slow"\nurl = "{site.origin}/"\n')
        first = subprocess.Popen(
            [sys.executable, "-m", "archive", "crawl", "--sources", str(sources)],
            # Its held pages must not time out before the second run has had its answer.
            env=archive.env | {"WIREARCHIVE_DOWNLOAD_TIMEOUT": "120"},
            cwd=archive.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(lambda: any(p.startswith("/posts/") for p, _ in site.requests))
            second = archive.run("crawl", "--sources", str(sources))
            assert second.returncode == 1
            assert "another crawl (pid" in second.stderr and "Traceback" not in second.stderr
        finally:
            site.open.set()
            first.communicate(timeout=120)
        assert first.returncode == 0


def test_interrupted_crawl_resumes_without_loss_or_refetch(archive):
    posts = make_posts(40, list(PAGES.values()))
    with PlatformSite("news", posts) as site:
        site.delay = 0.05
        sources = archive.root / "sources.toml"
        sources.write_text(
            f'[[sources]]\nname = "news"\nurl = "{site.origin}/"\nkind = "sitemap"\n'
        )
        job = archive.root / "job"
        args = [
            sys.executable,
            "-m",
            "archive",
            "crawl",
            "--sources",
            str(sources),
            "--job-dir",
            str(job),
        ]
        first = subprocess.Popen(
            args,
            env=archive.env,
            cwd=archive.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(lambda: len(site.article_fetches()) >= 8)
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=120)
        assert first.returncode == 1, err[-3000:]
        assert "interrupted" in err
        done_first = len(site.article_fetches())
        assert 8 <= done_first < len(posts)
        assert (job / "news").is_dir()

        second = subprocess.run(
            args, env=archive.env, cwd=archive.root, capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 0, second.stderr[-3000:]
        fetches = site.article_fetches()
        assert sorted(fetches) == sorted(set(fetches))  # no post page fetched twice
        assert archived_urls(archive) == sorted(site.post_url(p) for p in posts)
        assert not (job / "news").exists()  # finished: the next run starts afresh
    with sqlite3.connect(archive.db) as conn:
        statuses = [r[0] for r in conn.execute("select status from crawls order by id")]
    assert statuses == ["interrupted", "ok"]


def _failing_posts(site: PlatformSite, slugs: set[str]) -> None:
    """Make the post pages of `slugs` answer 500 (until the set is emptied)."""
    serve = site._post_page

    def post_page(entry, headers):
        if entry.post.slug in slugs:
            return _Response(500, b"<html><body>Server error</body></html>")
        return serve(entry, headers)

    site._post_page = post_page


def test_failed_source_is_fetched_again_from_its_job_dir(archive):
    # A job dir of a failed run kept Scrapy's seen-set: the next run filtered every post
    # request, said ok and cleared the dir, and the posts were never fetched again.
    posts = make_posts(6, list(PAGES.values()))
    with PlatformSite("news", posts) as site:
        failing = {p.slug for p in posts}
        _failing_posts(site, failing)
        job = str(archive.root / "job")
        proc, row = crawl(archive, site, "--job-dir", job, kind="sitemap", name="news")
        assert proc.returncode == 1 and row["status"] == "failed", row
        failing.clear()
        proc, row = crawl(archive, site, "--job-dir", job, kind="sitemap", name="news")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert row["status"] == "ok" and row["new_articles"] == len(posts), row
        assert archived_urls(archive) == sorted(site.post_url(p) for p in posts)


def test_listing_window_does_not_pass_posts_that_failed(archive):
    # A run where some posts failed must not let the next one skip the sitemaps listing them.
    posts = make_posts(6, list(PAGES.values()))
    with PlatformSite("news", posts) as site:
        failing = {p.slug for p in posts[3:]}
        _failing_posts(site, failing)
        proc, row = crawl(archive, site, kind="sitemap", name="news")
        assert row["new_articles"] == 3 and json.loads(row["errors"])["http_5xx"] == 3, row
        failing.clear()
        proc, row = crawl(archive, site, kind="sitemap", name="news")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert archived_urls(archive) == sorted(site.post_url(p) for p in posts)


def test_run_that_archived_nothing_it_discovered_is_not_ok():
    from crawlers.extensions.runstats import CrawlRecorder

    class Stats:
        def get_value(self, key, default=None):
            return {"wa/discovered": 5}.get(key, default)

    recorder = CrawlRecorder.__new__(CrawlRecorder)
    recorder.crawler = type("C", (), {"stats": Stats(), "spider": None})()
    recorder.counts = __import__("collections").Counter()
    status, reason = recorder._verdict("finished")
    assert status == "failed" and "5" in reason


def test_stats_shows_recent_runs(archive):
    with PlatformSite("atom", POSTS[:3]) as site:
        crawl(archive, site, name="atomsite")
    proc = archive.run("stats")
    assert proc.returncode == 0 and "crawl 1" in proc.stdout and "atomsite" in proc.stdout
    figures = json.loads(archive.run("stats", "--json").stdout)
    assert figures["crawls"][0]["sources"][0]["new_articles"] == 3
    # The same record as GET /api/stats: errors by kind as an object, the run's pid kept.
    run = figures["crawls"][0]
    assert run["sources"][0]["errors"] == {"robots": 1} and isinstance(run["pid"], int)


def test_progress_line_on_a_terminal(archive):
    import os
    import pty

    with PlatformSite("atom", POSTS[:3]) as site:
        sources = archive.root / "sources.toml"
        sources.write_text(f'[[sources]]\nname = "tty"\nurl = "{site.origin}/"\n')
        controller, terminal = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "archive", "crawl", "--sources", str(sources)],
            env=archive.env,
            cwd=archive.root,
            stdout=subprocess.PIPE,
            stderr=terminal,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the crawl closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        proc.communicate(timeout=120)
        os.close(controller)
    assert proc.returncode == 0
    assert b"\r\x1b[Ktty: " in shown and b"posts" in shown
    assert b"INFO" not in shown  # the log stays quiet under the progress line


def test_memory_guard_counts_the_crawl_process_not_the_one_that_started_it():
    # ru_maxrss (what Scrapy's MemoryUsage reads) keeps the peak of the process before exec:
    # started by a process holding 400 MB, a crawl would count them as its own.
    code = (
        "import resource; from crawlers.extensions.memusage import OwnMemoryUsage; "
        "own = OwnMemoryUsage.__new__(OwnMemoryUsage).get_virtual_size(); "
        "print(own, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)"
    )
    ballast = b"x" * (400 * 2**20)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    del ballast
    own, inherited = map(int, out.stdout.split())
    assert inherited > 400 * 2**20 > own > 0


def test_crawl_without_a_terminal_logs_warnings_only(archive):
    sources = archive.root / "sources.toml"
    sources.write_text('[[sources]]\nname = "gone"\nurl = "http://nonexistent-host.invalid/"\n')
    proc = archive.run("crawl", "--sources", str(sources))
    assert proc.returncode == 1
    assert "gone" in proc.stdout
    # Not Scrapy's INFO log nor a traceback: the summary and the failed source's reason.
    assert " INFO: " not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert "gone: failed:" in proc.stderr
    assert len(proc.stderr.splitlines()) <= 3, proc.stderr


def test_summary_table_has_a_short_reason_column():
    from archive.app.crawl import COUNT_COLUMNS, summary_table

    counts = dict.fromkeys(COUNT_COLUMNS, 1)
    long_reason = "the feed lists only its newest 10 posts; " * 3
    rows = [
        {"source": "a", "status": "ok", "via": "feed", "errors": {}, "reason": None} | counts,
        {"source": "b", "status": "partial", "via": "feed", "errors": {}}
        | counts
        | {"reason": long_reason},
    ]
    header, ok, partial = summary_table(rows).splitlines()
    assert header.split()[-1] == "reason"
    assert ok.endswith(" -")
    assert "the feed lists only its newest" in partial and partial.endswith("...")
    assert len(partial) < len(header) + 45


@pytest.mark.parametrize("kind", ["sitemap", "site", "feed"])
def test_since_applies_to_every_kind_and_counts_what_it_skips(archive, kind):
    # The sample blog's posts date from 2019 to 2023; its sitemap and pages list no dates
    # (skipped after extraction), its feed does (skipped unfetched): 3 skipped either way.
    from archive.app.demo import DEMO_SITE, serve_site

    sources = archive.root / "sources.toml"
    with serve_site(DEMO_SITE, free_port()) as origin:
        sources.write_text(f'[[sources]]\nname = "demo"\nurl = "{origin}/"\nkind = "{kind}"\n')
        proc = archive.run("crawl", "--sources", str(sources), "--since", "2022-01-01")
        assert proc.returncode == 0, proc.stderr
        with sqlite3.connect(archive.db) as conn:
            published = sorted(r[0][:10] for r in conn.execute("select published from articles"))
            skipped, discovered = conn.execute(
                "select skipped, discovered from crawl_sources"
            ).fetchone()
        assert published == ["2022-01-09", "2023-11-08"], proc.stdout
        assert (skipped, discovered) == (3, 5), proc.stdout
        # Nothing of the skipped posts is remembered: without --since they are archived.
        proc = archive.run("crawl", "--sources", str(sources))
        assert proc.returncode == 0, proc.stderr
        with sqlite3.connect(archive.db) as conn:
            assert conn.execute("select count(*) from articles").fetchone()[0] == 5


@pytest.mark.parametrize(
    ("published", "before"),
    [
        ("2023-12-31", True),
        ("2024-01-01", False),  # the day of --since is in
        ("2023-12-31T23:59:59+00:00", True),
        ("2024-01-01T00:00:00+00:00", False),
        (None, False),  # unknown: kept
        ("not a date", False),
    ],
)
def test_published_before_since(published, before):
    from pipelines.dedup import published_before

    assert published_before(published, "2024-01-01T00:00:00+00:00") is before
