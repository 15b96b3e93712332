"""`wirearchive ingest`: many workers write one store, one machine builds the catalog from it."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archive.app.ingest import ingest, new_warc_keys
from archive.app.reindex import reindex
from archive.core.items import Capture
from archive.storage.catalog import Catalog
from archive.storage.documents import DOCUMENT_FIELDS, article_document, article_key
from archive.storage.store import LocalStore
from archive.storage.warc import capture_records, payload_sha256, warcinfo_record
from pipelines.neardup import NearDuplicateIndex
from tests.conftest import Archive, archive_env, s3_env
from tests.support.helpers import rows, wait_for
from tests.support.platforms import PlatformSite, Post, make_posts
from tests.support.s3server import s3_client
from tests.support.site import PAGES

PASS_LINE = re.compile(
    r"ingested (\d+) WARC files: (\d+) captures, (\d+) articles \((\d+) texts\); (\d+) deferred"
)


def _on_store(root: Path, store: Path) -> Archive:
    """An archive (catalog, spool) in `root` whose objects go to the shared `store`."""
    return Archive(root, archive_env(root, WIREARCHIVE_STORE=str(store)))


def _ingest(archive: Archive, *args: str) -> tuple[int, ...]:
    """`wirearchive ingest ARGS`: (WARC files, captures, articles, texts, deferred)."""
    proc = archive.run("ingest", *args)
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    match = PASS_LINE.fullmatch(line)
    assert match, line
    return tuple(int(n) for n in match.groups())


def _add(archive: Archive, *urls: str) -> dict[str, str]:
    """Archive `urls` (each archived anew); the article id of each."""
    code, results = archive.add(*urls)
    assert code == 0 and {r["status"] for r in results.values()} == {"archived"}, results
    return {url: result["id"] for url, result in results.items()}


def _snapshot(db: Path) -> dict[str, Any]:
    """What ingest and reindex must agree on: articles (but for the cluster names), revisions,
    captures, and the partition of articles into stories."""
    clusters: dict[str, set[str]] = {}
    for article_id, cluster_id in rows(db, "select id, cluster_id from articles"):
        clusters.setdefault(cluster_id, set()).add(article_id)
    return {
        "articles": rows(
            db,
            "select id, url, canonical_url, title, text, wire_source, content_sha256,"
            " duplicate_of, raw_key, raw_offset, raw_length, capture_id, json_key, first_seen,"
            " fetched_at, pending from articles order by id",
        ),
        "revisions": rows(db, "select * from revisions order by id"),
        "captures": rows(
            db,
            "select id, url, input_url, status_code, content_type, fetched_at, payload_sha256,"
            " length, record_type, warc_key, warc_offset, warc_length, refers_to, article_id,"
            " source from captures order by id",
        ),
        "stories": sorted(sorted(members) for members in clusters.values()),
    }


def _reindexed(tmp_path: Path, store: Path) -> dict[str, Any]:
    """The snapshot of a fresh catalog that `wirearchive reindex` built from `store`."""
    rebuilt = _on_store(tmp_path / "reindexed", store)
    proc = rebuilt.run("reindex")
    assert proc.returncode == 0, proc.stderr
    return _snapshot(rebuilt.db)


@pytest.mark.slow
def test_ingest_of_two_workers_equals_reindex_and_is_incremental(tmp_path, test_site):
    origin, _ = test_site
    store = tmp_path / "shared-objects"
    one, two = _on_store(tmp_path / "w1", store), _on_store(tmp_path / "w2", store)
    page = "latimes.com.bloomberg.html"
    ids = _add(one, f"{origin}/seed-repost.html", f"{origin}/pages/{page}")
    # The other worker's copies of the same two stories: a near copy and the same bytes
    # elsewhere, which neither worker's own catalog can tell.
    ids |= _add(two, f"{origin}/repost-elsewhere.html", f"{origin}/copy/{page}")
    assert not (one.objects.exists() or two.objects.exists())  # all in the shared store

    main = _on_store(tmp_path / "main", store)
    assert _ingest(main) == (2, 4, 4, 4, 0)
    ingested = _snapshot(main.db)
    assert ingested == _reindexed(tmp_path, store)
    # The stories span the workers.
    by_url = {url.removeprefix(origin): article_id for url, article_id in ids.items()}
    assert ingested["stories"] == sorted(
        [
            sorted([by_url["/seed-repost.html"], by_url["/repost-elsewhere.html"]]),
            sorted([by_url[f"/pages/{page}"], by_url[f"/copy/{page}"]]),
        ]
    )
    assert len(rows(main.db, "select key from ingested_warcs")) == 2

    # One more worker run: the next pass reads its WARC file only.
    before = rows(main.db, "select key, ingested_at from ingested_warcs order by key")
    telescope = _add(two, f"{origin}/pages/nature.com.telescope.html")
    assert _ingest(main) == (1, 1, 1, 1, 0)
    after = rows(main.db, "select key, ingested_at from ingested_warcs order by key")
    assert set(before) < set(after) and len(after) == 3
    (new_key,) = {key for key, _ in after} - {key for key, _ in before}
    assert rows(main.db, f"select article_id from captures where warc_key = '{new_key}'") == [
        tuple(telescope.values())
    ]
    assert _snapshot(main.db) == _reindexed(tmp_path / "again", store)
    # Nothing new: nothing read, nothing written.
    assert _ingest(main) == (0, 0, 0, 0, 0)
    assert rows(main.db, "select key, ingested_at from ingested_warcs order by key") == after


CORRECTION = "Correction: an earlier version of this post misstated the date of the talks."


def _correct(site: PlatformSite, post: Post) -> None:
    """Edit the post on the site: a correction at the end of a paragraph."""
    note = b"this note makes each copy of the story unique."
    body = post.body_html.replace(note, note + b" " + CORRECTION.encode())
    assert body != post.body_html
    site.edit_post(post.slug, body, datetime.now(UTC))


def test_a_new_text_of_a_known_article_is_ingested_as_a_revision(tmp_path):
    store = tmp_path / "shared-objects"
    worker, main = _on_store(tmp_path / "w", store), _on_store(tmp_path / "main", store)
    (post,) = make_posts(1, [next(iter(PAGES.values()))])
    with PlatformSite("rss", [post]) as site:
        url = site.post_url(post)
        (article_id,) = _add(worker, url).values()
        assert _ingest(main) == (1, 1, 1, 1, 0)
        _correct(site, post)
        assert _add(worker, url) == {url: article_id}
    assert _ingest(main) == (1, 1, 1, 1, 0)
    shown = main.show(article_id)
    assert CORRECTION in shown["text"]
    assert [CORRECTION in r["text"] for r in shown["revisions"]] == [False]
    assert shown["first_seen"] == shown["revisions"][0]["fetched_at"]
    assert len(shown["captures"]) == 2
    assert _snapshot(main.db) == _reindexed(tmp_path, store)


def test_a_warc_file_waits_for_its_article_document(tmp_path, test_site):
    origin, _ = test_site
    store = tmp_path / "shared-objects"
    worker, main = _on_store(tmp_path / "w", store), _on_store(tmp_path / "main", store)
    (article_id,) = _add(worker, f"{origin}/seed-repost.html").values()
    (document,) = store.glob(f"articles/*/{article_id}/*.json")
    held = tmp_path / "held.json"
    document.rename(held)  # as if the worker had uploaded its WARC file first

    proc = main.run("ingest")
    assert proc.returncode == 0, proc.stderr
    assert PASS_LINE.fullmatch(proc.stdout.strip()).groups() == ("0", "0", "0", "0", "1")
    assert "deferred raw/" in proc.stderr and "is not stored yet" in proc.stderr
    for table in ("articles", "captures", "ingested_warcs"):
        assert rows(main.db, f"select count(*) from {table}") == [(0,)], table
    assert _ingest(main) == (0, 0, 0, 0, 1)  # still waiting

    held.rename(document)
    assert _ingest(main) == (1, 1, 1, 1, 0)
    assert main.show(article_id)["json_key"] == document.relative_to(store).as_posix()
    assert _ingest(main) == (0, 0, 0, 0, 0)


def test_an_earlier_text_that_arrives_late_becomes_a_revision(tmp_path):
    store = tmp_path / "shared-objects"
    worker, main = _on_store(tmp_path / "w", store), _on_store(tmp_path / "main", store)
    (post,) = make_posts(1, [next(iter(PAGES.values()))])
    with PlatformSite("rss", [post]) as site:
        url = site.post_url(post)
        (article_id,) = _add(worker, url).values()
        (first,) = store.glob(f"articles/*/{article_id}/*.json")
        _correct(site, post)
        _add(worker, url)
    held = tmp_path / "held.json"
    first.rename(held)
    assert _ingest(main) == (1, 1, 1, 1, 1)  # the later text; the earlier one's file waits
    held.rename(first)
    assert _ingest(main) == (1, 1, 1, 1, 0)
    shown = main.show(article_id)
    assert CORRECTION in shown["text"]  # the later text stays the article's
    assert [CORRECTION in r["text"] for r in shown["revisions"]] == [False]
    assert shown["revisions"][0]["superseded_at"] == shown["fetched_at"]
    assert _snapshot(main.db) == _reindexed(tmp_path, store)


def test_follow_picks_up_new_objects_until_sigterm(tmp_path, test_site):
    origin, _ = test_site
    store = tmp_path / "shared-objects"
    worker, main = _on_store(tmp_path / "w", store), _on_store(tmp_path / "main", store)
    (first,) = _add(worker, f"{origin}/seed-repost.html").values()
    follower = subprocess.Popen(
        [sys.executable, "-m", "archive", "ingest", "--follow", "--interval", "0.2"],
        env=main.env,
        cwd=main.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_article(main.db, first, follower)
        # The catalog is the follower's alone meanwhile.
        locked = main.run("ingest")
        assert locked.returncode == 1 and "cannot ingest: another crawl" in locked.stderr
        (second,) = _add(worker, f"{origin}/pages/nature.com.telescope.html").values()
        _wait_for_article(main.db, second, follower)
        follower.send_signal(signal.SIGTERM)
        out, err = follower.communicate(timeout=30)
    finally:
        follower.kill()
        follower.wait()
    assert follower.returncode == 0, err
    passes = [[int(n) for n in PASS_LINE.fullmatch(line).groups()] for line in out.splitlines()]
    assert len(passes) >= 3 and passes[0][:4] == [1, 1, 1, 1]
    assert [sum(column) for column in zip(*passes, strict=True)][:4] == [2, 2, 2, 2]
    assert rows(main.db, "select count(*) from ingested_warcs") == [(2,)]


def test_follow_reports_store_errors_and_carries_on(tmp_path, test_site, s3):
    origin, _ = test_site
    client = s3_client(s3.endpoint)
    client.create_bucket(Bucket="wa-follow")
    store = "s3://wa-follow/shared"
    worker = Archive(tmp_path / "w", s3_env(tmp_path / "w", s3.endpoint, store))
    main = Archive(tmp_path / "main", s3_env(tmp_path / "main", s3.endpoint, store))
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        follower = subprocess.Popen(
            [sys.executable, "-m", "archive", "ingest", "--follow", "--interval", "0.2"],
            env=main.env,
            cwd=main.root,
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
    try:
        _wait_until(lambda: PASS_LINE.match(out.read_text()), follower)
        client.delete_bucket(Bucket="wa-follow")  # the store goes away
        _wait_until(lambda: "store error, trying again next pass" in err.read_text(), follower)
        client.create_bucket(Bucket="wa-follow")
        (article_id,) = _add(worker, f"{origin}/seed-repost.html").values()
        _wait_for_article(main.db, article_id, follower)
        follower.send_signal(signal.SIGTERM)
        follower.wait(timeout=30)
    finally:
        follower.kill()
        follower.wait()
    assert follower.returncode == 0, err.read_text()
    assert "NoSuchBucket" in err.read_text() and "Traceback" not in err.read_text()


def _wait_until(condition: Callable[[], Any], follower: subprocess.Popen[str]) -> None:
    """Poll `condition` while the follower runs (at most 60 s)."""

    def met() -> Any:
        assert follower.poll() is None, f"the follower exited with {follower.returncode}"
        return condition()

    wait_for(met)


def _wait_for_article(db: Path, article_id: str, follower: subprocess.Popen[str]) -> None:
    """Poll the catalog until it has the article."""

    def ingested() -> bool:
        try:
            return db.exists() and bool(
                rows(db, f"select 1 from articles where id = '{article_id}'")
            )
        except sqlite3.OperationalError:  # no schema yet
            return False

    _wait_until(ingested, follower)


def test_incremental_passes_list_only_recent_day_folders(tmp_path):
    today = datetime.now(UTC).date()

    def key(days: int) -> str:
        return f"raw/{today + timedelta(days=days):%Y/%m/%d}/w.warc.gz"

    store = LocalStore(tmp_path / "objects")
    for days in (-5, -4, -3, -1, 0, 1, 2):
        store.put_if_absent(key(days), b"", "application/warc")
    store.put_if_absent(f"raw/{today:%Y/%m/%d}/notes.txt", b"", "text/plain")
    catalog = Catalog(tmp_path / "archive.db")
    assert new_warc_keys(store, catalog) == [key(d) for d in (-5, -4, -3, -1, 0, 1, 2)]
    catalog.db.execute(
        "insert into ingested_warcs (key, captures, ingested_at) values (?, 0, ''), (?, 0, '')",
        [key(-1), key(-5)],
    )
    # From the newest day ingested less the lookback, through tomorrow.
    assert new_warc_keys(store, catalog) == [key(d) for d in (-3, 0, 1)]
    assert new_warc_keys(store, catalog, lookback_days=3) == [key(d) for d in (-4, -3, 0, 1)]
    assert new_warc_keys(store, catalog, full=True) == [key(d) for d in (-4, -3, 0, 1, 2)]
    catalog.close()


def test_reindex_finds_documents_no_warc_file_names(tmp_path):
    # An archive from before `article-key`: its WARC metadata names the article, not the
    # document, so only a listing of articles/ (reindex, never ingest) finds the document.
    url, body, fetched = "https://blog.example/post", b"<p>A post.</p>", "2024-05-01T00:00:00Z"
    records = capture_records(
        Capture(input_url=url, url=url, status_code=200, body=body, fetched_at=fetched),
        {"article-id": "ab" * 10, "source": "on-demand", "payload-sha256": payload_sha256(body)},
    )
    store = LocalStore(tmp_path / "objects")
    head = warcinfo_record("legacy.warc.gz")
    warc_key = "raw/2024/05/01/legacy.warc.gz"
    store.put_if_absent(warc_key, head + records.data, "application/warc")
    document = dict.fromkeys(DOCUMENT_FIELDS) | {
        "id": "ab" * 10,
        "url": url,
        "canonical_url": url,
        "title": "A post",
        "text": "A post.",
        "content_sha256": "cd" * 32,
        "source": "on-demand",
        "first_seen": fetched,
        "fetched_at": fetched,
        "capture_id": records.capture_id,
        "raw_key": warc_key,
        "raw_offset": len(head),
        "raw_length": records.first_length,
        "json_key": article_key("ab" * 10, "cd" * 32),
    }
    store.put_if_absent(document["json_key"], article_document(document), "application/json")

    for name, rebuild, articles in (("ingest", ingest, 0), ("reindex", reindex, 1)):
        catalog = Catalog(tmp_path / f"{name}.db")
        counts = rebuild(store, catalog, NearDuplicateIndex(catalog.db))
        assert (counts.warcs, counts.captures, counts.articles) == (1, 1, articles), name
        assert catalog.capture(records.capture_id)["warc_key"] == warc_key
        assert (catalog.article("ab" * 10) is not None) == bool(articles)
        catalog.close()
