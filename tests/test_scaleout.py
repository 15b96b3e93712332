"""Several crawler processes on one Redis frontier and one store, and one ingest: every post
archived once, the clusters of a single-process run, nothing lost when a worker is killed."""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from pipelines.neardup import NearDuplicateIndex
from tests.conftest import Archive, archive_env
from tests.support.helpers import rows
from tests.support.platforms import PlatformSite, make_posts
from tests.support.site import PAGES

# Posts made from a few pages, so some are near-duplicates of each other (same page, another
# title and first paragraph) and the clusters are worth comparing.
POSTS = make_posts(48, list(PAGES.values()))
LEASE = "2"  # seconds a killed worker's requests stay held before others take them


@pytest.fixture
def news() -> Iterator[PlatformSite]:
    with PlatformSite("news", POSTS) as site:
        site.delay = 0.03  # slow enough that every worker gets a share
        yield site


def sources_file(root: Path, site: PlatformSite) -> Path:
    path = root / "sources.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[[sources]]\nname = "news"\nurl = "{site.origin}/"\n')
    return path


def worker(root: Path, name: str, store: Path, redis_url: str, site: PlatformSite) -> Archive:
    """A worker's own archive folder (working catalog and spool) writing to the shared store."""
    env = archive_env(
        root / name,
        WIREARCHIVE_STORE=str(store),
        WIREARCHIVE_REDIS=redis_url,
        WIREARCHIVE_REDIS_LEASE=LEASE,
        WIREARCHIVE_UPLOAD_INTERVAL="0.5",
    )
    sources_file(root / name, site)
    return Archive(root / name, env)


def start(archive: Archive, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "archive", *args],
        env=archive.env,
        cwd=archive.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def crawl_all(workers: list[Archive]) -> list[tuple[int, str, str]]:
    procs = [start(w, "crawl", "--sources", "sources.toml") for w in workers]
    return [(p.wait(180), *p.communicate()) for p in procs]


def fetched_posts(site: PlatformSite) -> Counter[str]:
    return Counter(target for target in site.article_fetches())


def partition(db: Path) -> set[frozenset[str]]:
    """The near-duplicate clusters of a catalog, as sets of article URLs."""
    clusters: dict[str, set[str]] = {}
    for url, cluster in rows(db, "select url, cluster_id from articles"):
        clusters.setdefault(cluster, set()).add(url)
    return {frozenset(c) for c in clusters.values()}


def ingest(root: Path, store: Path) -> Archive:
    catalog = Archive(root / "catalog", archive_env(root / "catalog", WIREARCHIVE_STORE=str(store)))
    proc = catalog.run("ingest")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return catalog


def single_process_partition(root: Path, site: PlatformSite) -> set[frozenset[str]]:
    alone = Archive(root / "alone", archive_env(root / "alone"))
    sources_file(alone.root, site)
    proc = alone.run("crawl", "--sources", "sources.toml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return partition(alone.db)


@pytest.mark.slow
def test_workers_share_one_frontier_and_archive_every_post_once(tmp_path, news, redis_url):
    store = tmp_path / "objects"
    workers = [worker(tmp_path, f"w{n}", store, redis_url, news) for n in range(3)]
    results = crawl_all(workers)
    for code, _, err in results:
        assert code == 0, err[-3000:]

    # One frontier: each post fetched once in all, by more than one worker.
    fetches = fetched_posts(news)
    assert sorted(fetches) == sorted(news.post_url(p).removeprefix(news.origin) for p in POSTS)
    assert set(fetches.values()) == {1}
    shares = [len(rows(w.db, "select id from articles")) for w in workers]
    assert sum(shares) == len(POSTS) and sum(1 for s in shares if s) >= 2, shares

    # One catalog, built from the store: every post once, one text each, and the clusters a
    # single process makes of the same site.
    catalog = ingest(tmp_path, store)
    urls = rows(catalog.db, "select url from articles")
    assert sorted(u for (u,) in urls) == sorted(news.post_url(p) for p in POSTS)
    assert rows(catalog.db, "select count(*) from revisions")[0][0] == 0
    clusters = partition(catalog.db)
    assert any(len(c) > 1 for c in clusters)
    assert clusters == single_process_partition(tmp_path, news)
    # The clusters the workers built together in Redis as they crawled are the same.
    shared = NearDuplicateIndex.for_redis(redis_url)
    seen: dict[str, set[str]] = {}
    for article_id, url in rows(catalog.db, "select id, url from articles"):
        seen.setdefault(shared.store.cluster_of(article_id) or "", set()).add(url)
    assert {frozenset(c) for c in seen.values()} == clusters


def test_next_run_starts_afresh_and_knows_what_other_workers_archived(tmp_path, news, redis_url):
    store = tmp_path / "objects"
    first = worker(tmp_path, "first", store, redis_url, news)
    ((code, _, err),) = crawl_all([first])
    assert code == 0, err[-3000:]
    run = redis.Redis.from_url(redis_url).get("wirearchive:news:run")
    assert run is None  # the run ended with its frontier

    # A worker that never crawled this site: a new run, every post fetched again and found
    # unchanged through Redis, nothing archived twice.
    late = worker(tmp_path, "late", store, redis_url, news)
    before = len(news.article_fetches())
    proc = late.run("crawl", "-v", "--sources", "sources.toml")  # -v: the INFO log says the run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(news.article_fetches()) - before == len(POSTS)
    counts = rows(late.db, "select new_articles, unchanged from crawl_sources")
    assert counts == [(0, len(POSTS))]
    joined = [line for line in proc.stderr.splitlines() if "joined run" in line]
    assert joined and all(f"run {run!r}" not in line for line in joined)


def test_a_killed_worker_loses_nothing(tmp_path, news, redis_url):
    news.delay = 0.15
    store = tmp_path / "objects"
    victim, survivor = (worker(tmp_path, name, store, redis_url, news) for name in ("a", "b"))
    procs = [start(w, "crawl", "--sources", "sources.toml") for w in (victim, survivor)]
    deadline = time.monotonic() + 60
    while len(news.article_fetches()) < len(POSTS) // 3:
        assert time.monotonic() < deadline and procs[0].poll() is None, "crawl too quick"
        time.sleep(0.05)
    procs[0].send_signal(signal.SIGKILL)
    procs[0].wait(10)
    client = redis.Redis.from_url(redis_url)
    victim_key = next(
        key
        for key in client.scan_iter("wirearchive:news:*:held:*")
        if f":{procs[0].pid}:".encode() in key
    )
    posts = {news.post_url(p) for p in POSTS}
    held = {pickle.loads(data)["url"] for data in client.hkeys(victim_key)} & posts
    code, _, err = procs[1].wait(120), *procs[1].communicate()
    assert code == 0, err[-3000:]
    # The victim held requests when it died, and the survivor fetched every one of them.
    assert held
    survivor_fetched = {u for (u,) in rows(survivor.db, "select url from captures")}
    assert held <= survivor_fetched, held - survivor_fetched

    # What the victim had archived waits in its spool; its restart (here `flush`) stores it.
    flushed = victim.run("flush")
    assert flushed.returncode == 0, flushed.stderr[-3000:]
    catalog = ingest(tmp_path, store)
    urls = [u for (u,) in rows(catalog.db, "select url from articles")]
    assert sorted(urls) == sorted(news.post_url(p) for p in POSTS)
    assert rows(catalog.db, "select count(*) from revisions")[0][0] == 0


def test_seeders_starting_at_once_queue_each_seed_once(tmp_path, news, redis_url):
    seeders = [worker(tmp_path, f"s{n}", tmp_path / "objects", redis_url, news) for n in range(3)]
    procs = [start(s, "seed", "--sources", "sources.toml") for s in seeders]
    outputs = [(p.wait(60), *p.communicate()) for p in procs]
    for code, _, err in outputs:
        assert code == 0, err[-3000:]
    runs = {out.split("run ")[1].split(",")[0] for _, out, _ in outputs}
    assert len(runs) == 1, outputs
    queued = sorted(int(out.split(", ")[1].split()[0]) for _, out, _ in outputs)
    assert queued == [0, 0, 1]  # robots.txt, the news source's way in, queued once
    assert news.requests == []  # seeding fetches nothing
    client = redis.Redis.from_url(redis_url)
    assert client.zcard(f"wirearchive:news:{runs.pop()}:requests") == 1

    # A worker then crawls the seeded run to the end.
    code, _, err = crawl_all([seeders[0]])[0]
    assert code == 0, err[-3000:]
    assert len(set(news.article_fetches())) == len(POSTS)


@pytest.mark.parametrize(
    ("url", "code", "message"),
    [
        ("redis://127.0.0.1:1/0", 1, "cannot reach Redis at redis://127.0.0.1:1/0"),
        ("localhost:6379", 2, "--redis: 'localhost:6379' is not a Redis URL"),  # a bad setting
    ],
)
def test_bad_redis_is_refused_before_anything_is_fetched(tmp_path, news, url, code, message):
    archive = Archive(tmp_path, archive_env(tmp_path))
    sources_file(tmp_path, news)
    proc = archive.run("crawl", "--sources", "sources.toml", "--redis", url)
    assert proc.returncode == code
    assert message in proc.stderr
    assert news.requests == []


def test_job_dir_and_redis_do_not_go_together(tmp_path, news, redis_url):
    archive = Archive(tmp_path, archive_env(tmp_path))
    sources_file(tmp_path, news)
    proc = archive.run(
        "crawl", "--sources", "sources.toml", "--redis", redis_url, "--job-dir", "jobs"
    )
    assert proc.returncode == 1
    assert "--job-dir and --redis do not go together" in proc.stderr
