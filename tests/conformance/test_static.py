"""The contract on real static blogs: wirearchive crawls Hugo and Pelican sites (feed cut to 10
or not) with source kinds auto, feed, sitemap and site, and archives every published post once,
with its text and metadata, and no listing page as an article; a rerun after edits, a deletion
and a new post records exactly those changes.

The twelve crawls and the two change scenarios run four at a time in the background from the
first test on (each into an archive of its own); the tests wait for the ones they read. `-s`
prints the figures.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conformance.conftest import SITES, platform_available, require_platform
from tests.conformance.harness import (
    FIELDS,
    CrawlResult,
    crawl_site,
    format_figures,
    make_archive,
    score,
)
from tests.conformance.staticsites import (
    EDIT_PARAGRAPH,
    FEED_LIMIT,
    POST_COUNT,
    Expected,
    StaticSite,
    extra_post,
    serve_site,
)
from tests.conftest import Archive

# A test may wait on crawls that run in the background: more than the suite's 120 s per test.
pytestmark = [pytest.mark.platforms, pytest.mark.timeout(300)]

# Sitemap and listing pages are the same on both variants of a platform, so those kinds are
# crawled on the cut one only; auto and feed are where the variants differ.
CRAWLS = [(site, kind) for site in SITES for kind in ("auto", "feed")] + [
    (f"{platform}-cut", kind) for platform in ("hugo", "pelican") for kind in ("sitemap", "site")
]
CRAWL_IDS = [f"{site}/{kind}" for site, kind in CRAWLS]
F1_MEAN, F1_MIN = 0.97, 0.90

Crawls = dict[tuple[str, str], Future[Any]]
# Crawls at a time (each a crawl process and an extraction worker).
WORKERS = int(os.environ.get("WIREARCHIVE_CONFORMANCE_WORKERS", "4"))


@pytest.fixture(scope="session")
def static_crawls(
    static_site_factory: Callable[[str], StaticSite],
    tmp_path_factory: pytest.TempPathFactory,
    _site_stack: ExitStack,
) -> Iterator[Crawls]:
    """Every crawl of CRAWLS and both change scenarios (keyed (platform, "change")), started
    at once, WORKERS at a time. The sites of a platform that is not installed are left out;
    `crawl()` skips or fails for them."""
    sites = {name: static_site_factory(name) for name in SITES if platform_available(name)}
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="crawl") as pool:
        futures: Crawls = {}
        for platform in ("hugo", "pelican"):
            if platform_available(platform):
                root = tmp_path_factory.mktemp(f"{platform}-change")
                site = _site_stack.enter_context(serve_site(platform, "full", root / "site"))
                futures[platform, "change"] = pool.submit(
                    change_scenario, site, make_archive(root / "archive")
                )
        for name, kind in CRAWLS:
            if name in sites:
                archive = make_archive(tmp_path_factory.mktemp(f"{name}-{kind}"))
                futures[name, kind] = pool.submit(crawl_site, sites[name], kind, archive)
        yield futures
        for future in futures.values():
            future.cancel()


def crawl(crawls: Crawls, site: str, kind: str) -> Any:
    """The outcome of one crawl (or change scenario) of `crawls`, once it is done."""
    if (site, kind) not in crawls:
        require_platform(site.split("-")[0])
    return crawls[site, kind].result(timeout=300)


def truth_of(factory: Callable[[str], StaticSite], site: str) -> dict[str, Expected]:
    return factory(site).expected()


def _describe(result: CrawlResult, truth: dict[str, Expected]) -> str:
    got = set(result.urls)
    missing = sorted(set(truth) - got)
    extra = sorted(got - set(truth))
    return (
        f"{result.label}: {len(got & set(truth))}/{len(truth)} posts, {len(result.urls)} rows;"
        f" crawl_sources={ {k: result.source.get(k) for k in _SOURCE_KEYS} };"
        f" missing {len(missing)}: {missing[:5]}; not posts {len(extra)}: {extra[:8]}"
    )


_SOURCE_KEYS = ("status", "reason", "via", "discovered", "fetched", "new_articles", "failed")


@pytest.mark.parametrize("site", SITES)
def test_auto_archives_every_post_exactly_once(static_crawls, static_site_factory, site):
    """auto uses the union of feed, sitemap and listing pages when the feed is cut."""
    result = crawl(static_crawls, site, "auto")
    truth = truth_of(static_site_factory, site)
    assert result.returncode == 0, result.tail()
    assert sorted(result.urls) == sorted(truth), _describe(result, truth)
    exported = sorted(r["url"] for r in result.exported)
    assert exported == sorted(truth), f"export: {len(exported)} rows, {len(set(exported))} URLs"
    assert result.source.get("status") == "ok", _describe(result, truth)


@pytest.mark.parametrize("site", SITES)
def test_feed_kind_reports_a_cut_feed_as_partial(static_crawls, static_site_factory, site):
    """A feed with no next page is `partial` with a reason (never `ok`: nothing in it says
    whether it lists every post, and most lists 10), and the feed kind uses no other listing;
    an uncut feed still gives every post, and the exit status stays 0."""
    result = crawl(static_crawls, site, "feed")
    factory_site = static_site_factory(site)
    truth = factory_site.expected()
    assert result.returncode == 0, result.tail()
    assert result.source.get("status") == "partial", _describe(result, truth)
    assert "no next page" in (result.source.get("reason") or ""), _describe(result, truth)
    if factory_site.variant == "full":
        assert sorted(result.urls) == sorted(truth), _describe(result, truth)
        return
    newest = sorted(factory_site.published, key=lambda p: p.date, reverse=True)[:FEED_LIMIT]
    assert sorted(result.urls) == sorted(factory_site.post_url(p) for p in newest), _describe(
        result, truth
    )


@pytest.mark.parametrize(
    ("site", "kind"), [(s, k) for s, k in CRAWLS if k in ("sitemap", "site")], ids=str
)
def test_sitemap_and_site_archive_posts_and_no_listing_page(
    static_crawls, static_site_factory, site, kind
):
    """The site root is given (Hugo has no robots.txt: /sitemap.xml must be tried anyway);
    home, sections, taxonomies, terms, /page/N/, Pelican's author/tag/category pages and
    indexN.html are listings, not articles."""
    result = crawl(static_crawls, site, kind)
    truth = truth_of(static_site_factory, site)
    assert result.returncode == 0, result.tail()
    assert set(result.urls) == set(truth), _describe(result, truth)
    assert len(result.urls) == POST_COUNT, _describe(result, truth)
    assert result.source.get("status") == "ok", _describe(result, truth)


@pytest.mark.parametrize(("site", "kind"), CRAWLS, ids=CRAWL_IDS)
def test_text_and_metadata_match_the_posts(static_crawls, static_site_factory, site, kind):
    """Per archived post: text bag-of-words F1 (mean >= 0.97, min >= 0.90), title and author
    exact, published the same instant (UTC, to the second), categories and tags exact as sets,
    no URL twice. All failures of a crawl are reported together."""
    result = crawl(static_crawls, site, kind)
    truth = truth_of(static_site_factory, site)
    rows = result.exported or result.articles
    figures = score(result.label, rows, truth)
    print(f"\n{result.label}: {result.seconds:.1f} s, {result.requests} requests")
    print(format_figures([figures]))
    assert figures.archived_posts, _describe(result, truth)
    problems = []
    if figures.f1_mean < F1_MEAN or figures.f1_min < F1_MIN:
        worst = sorted(figures.f1.items(), key=lambda kv: kv[1])[:3]
        problems.append(
            f"text F1 mean {figures.f1_mean:.3f} min {figures.f1_min:.3f}; worst {worst}"
        )
    for name in FIELDS:
        if figures.wrong[name]:
            problems.append(
                f"{name}: {len(figures.wrong[name])}/{figures.archived_posts} wrong,"
                f" e.g. {figures.wrong[name][:2]}"
            )
    if figures.duplicate_urls:
        problems.append(f"{figures.duplicate_urls} URLs archived twice")
    assert not problems, f"{result.label}:\n" + "\n".join(problems)


@dataclass
class ChangeOutcome:
    """Two crawls of one site with edits between them, and what the catalog held between."""

    site: StaticSite
    first: CrawlResult
    second: CrawlResult | None = None
    urls: dict[str, str] = field(default_factory=dict)  # role -> URL
    before: dict[str, dict[str, Any]] = field(default_factory=dict)  # role -> article row
    versions: dict[str, int] = field(default_factory=dict)  # role -> revisions before
    revisions_before: int = 0
    log: list[tuple[str, str, int]] = field(default_factory=list)  # the rerun's requests
    titles: dict[str, str] = field(default_factory=dict)  # role -> title after the edits


def change_scenario(site: StaticSite, archive: Archive) -> ChangeOutcome:
    """Crawl (auto); edit one post's text, another's title only, delete a third, add a new
    one; rebuild; crawl again."""
    outcome = ChangeOutcome(site, crawl_site(site, "auto", archive))
    when = datetime(2024, 4, 10, 8, 30, tzinfo=UTC)
    posts = {
        "edited": site.edit_text(2, when),  # an old post
        "retitled": site.retitle(25, when),  # a recent one
        "deleted": site.delete(8),
        "added": site.add(extra_post()),
    }
    outcome.urls = {role: site.post_url(post) for role, post in posts.items()}
    outcome.titles = {role: post.title for role, post in posts.items()}
    with sqlite3.connect(archive.db) as db:
        for role, url in outcome.urls.items():
            row = _article(db, url)
            if row is not None:
                outcome.before[role] = row
                outcome.versions[role] = _revisions(db, row["id"])
        outcome.revisions_before = db.execute("select count(*) from revisions").fetchone()[0]
    site.build()
    site.server.clear_log()
    outcome.second = crawl_site(site, "auto", archive)
    outcome.log = list(site.server.log)
    return outcome


def _article(db: sqlite3.Connection, url: str) -> dict[str, Any] | None:
    db.row_factory = sqlite3.Row
    row = db.execute("select * from articles where url = ?", [url]).fetchone()
    return dict(row) if row is not None else None


def _revisions(db: sqlite3.Connection, article_id: str) -> int:
    query = "select count(*) from revisions where article_id = ?"
    return db.execute(query, [article_id]).fetchone()[0]


@pytest.mark.parametrize("platform", ["hugo", "pelican"])
def test_rerun_after_edits_deletion_and_a_new_post(static_crawls, platform):
    """Crawl (auto; the full feed, so that the first crawl does not hinge on the cut-feed case
    of test_auto_...); edit one post's text, another's title only, delete a third, add a new
    one; rebuild; crawl again: a new version of each edited post (one more row in
    `revisions`, the new text or title current), `gone_at` set on the deleted post, the new
    post archived, and no other revision."""
    outcome: ChangeOutcome = crawl(static_crawls, platform, "change")
    first, second, log = outcome.first, outcome.second, outcome.log
    assert first.returncode == 0, first.tail()
    assert second is not None and second.returncode == 0, second and second.tail()
    print(
        f"\n{platform} rerun: {second.seconds:.1f} s, {len(log)} requests"
        f" ({sum(s == 304 for _, _, s in log)} x 304, {sum(s == 404 for _, _, s in log)} x 404,"
        f" {sum(s == 200 for _, _, s in log)} x 200: {[p for _, p, _ in log]});"
        f" first crawl {first.seconds:.1f} s, {first.requests} requests;"
        f" rerun crawl_sources {second.source}"
    )
    missing = [r for r in ("edited", "retitled", "deleted") if r not in outcome.before]
    assert not missing, f"the first crawl did not archive the {missing} posts"
    problems = []
    with sqlite3.connect(first.archive.db) as db:
        current = {role: _article(db, url) for role, url in outcome.urls.items()}
        if EDIT_PARAGRAPH not in (current["edited"] or {}).get("text", ""):
            problems.append("edited post: the current text is the old one")
        for role in ("edited", "retitled"):
            count = _revisions(db, outcome.before[role]["id"])
            if count != outcome.versions[role] + 1:
                problems.append(
                    f"{role} post: {count} revisions (was {outcome.versions[role]}), want one more"
                )
        title = (current["retitled"] or {}).get("title")
        if title != outcome.titles["retitled"]:
            problems.append(f"retitled post: current title {title!r}")
        columns = {r[1] for r in db.execute("pragma table_info(articles)")}
        if "gone_at" not in columns:
            problems.append("deleted post: articles has no gone_at column")
        elif (current["deleted"] or {}).get("gone_at") is None:
            problems.append("deleted post: gone_at is NULL")
        if current["added"] is None:
            problems.append("new post: not archived")
        added = db.execute("select count(*) from revisions").fetchone()[0]
        added -= outcome.revisions_before
        if added != 2:
            problems.append(f"{added} new revisions in all, want 2 (the edit and the new title)")
    assert not problems, "\n".join(problems)


def test_print_figures(static_crawls, static_site_factory):
    """Per crawl: posts archived of published, listing pages archived, text F1, field accuracy
    (run with -s to see them; this test asserts nothing of its own)."""
    figures = []
    for site, kind in CRAWLS:
        if (site, kind) not in static_crawls:
            continue
        result = crawl(static_crawls, site, kind)
        rows = result.exported or result.articles
        figures.append(score(result.label, rows, truth_of(static_site_factory, site)))
        figures[-1].label += f" {result.seconds:.0f}s"
    print("\n" + format_figures(figures))
