"""Replay as published, checked with the web-archiving community's own tools: a WACZ export of
an archive with edits, 304 answers and unchanged refetches passes `wacz validate`, lists
exactly the selected pages, and pywb replays every archived URL with the body the site
served at its latest capture, and an earlier capture by its timestamp."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.conftest import TELESCOPE, Archive, archive_env
from tests.support.archivetools import pywb, wacz_validate
from tests.support.platforms import PlatformSite, make_posts
from tests.support.site import PAGES

pytestmark = pytest.mark.slow

POSTS = make_posts(3, list(PAGES.values()))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, test_site):
    """An archive of three posts and a page fetched three times (the first post edited in
    between: a new version; the other posts answer 304, the page, which has no validators,
    the same bytes again: revisits of both kinds), its WACZ, the URLs, the bodies served."""
    root = tmp_path_factory.mktemp("replay")
    archive = Archive(root, archive_env(root))
    origin, _ = test_site
    page = f"{origin}/pages/{TELESCOPE}"
    with PlatformSite("news", POSTS) as site:
        urls = [site.post_url(post) for post in POSTS] + [page]
        bodies = [post.body_html for post in POSTS] + [PAGES[TELESCOPE].read_bytes()]
        first = dict(zip(urls, bodies, strict=True))
        assert archive.add(*urls)[0] == 0
        edited = POSTS[0].body_html.replace(b"this note makes", b"this corrected note makes")
        site.edit_post(POSTS[0].slug, edited, datetime.now(UTC) + timedelta(minutes=1))
        for _ in range(2):
            code, results = archive.add(*urls)
            assert code == 0, results
        latest = first | {urls[0]: edited}
    wacz = root / "posts.wacz"
    proc = archive.run("export", "--format", "wacz", "-o", str(wacz))
    assert proc.returncode == 0, proc.stderr
    return archive, wacz, urls, first, latest


def test_the_package_validates_and_lists_the_selected_pages(exported):
    archive, wacz, urls, _, _ = exported
    checked = wacz_validate(wacz)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with zipfile.ZipFile(wacz) as package:
        names = set(package.namelist())
        pages = package.read("pages/pages.jsonl").decode().splitlines()
        datapackage = json.loads(package.read("datapackage.json"))
        stored = package.getinfo("archive/data.warc.gz").compress_type
    assert {"archive/data.warc.gz", "indexes/index.cdxj", "pages/pages.jsonl"} <= names
    assert stored == zipfile.ZIP_STORED  # WARC files are stored, not deflated
    assert json.loads(pages[0])["format"] == "json-pages-1.0"
    listed = [json.loads(line) for line in pages[1:]]
    assert sorted(page["url"] for page in listed) == sorted(urls)
    assert all(page["title"] and page["text"] for page in listed)
    assert datapackage["wacz_version"] == "1.1.1"
    # A selection: one source's articles only, none of another source's.
    empty = archive.root / "none.wacz"
    proc = archive.run("export", "--format", "wacz", "--source", "nowhere", "-o", str(empty))
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(empty) as package:
        assert package.read("pages/pages.jsonl").decode().count("\n") == 1


def test_pywb_replays_every_url_and_every_capture(exported, tmp_path):
    _, wacz, urls, first, latest = exported
    collection = tmp_path / "collections" / "news"
    with zipfile.ZipFile(wacz) as package:  # the package's WARC and its own index
        package.extract("archive/data.warc.gz", collection)
        package.extract("indexes/index.cdxj", collection)
        lines = package.read("indexes/index.cdxj").decode().splitlines()
    captures: dict[str, list[str]] = {}
    for line in lines:
        _, timestamp, fields = line.split(" ", 2)
        captures.setdefault(json.loads(fields)["url"], []).append(timestamp)
    assert all(len(captures[url]) == 3 for url in urls), captures  # three fetches each
    kinds = {json.loads(line.split(" ", 2)[2])["mime"] for line in lines}
    assert "warc/revisit" in kinds  # the page's refetches: identical-payload revisits
    with pywb(tmp_path) as base:
        for url in urls:
            replayed = requests.get(f"{base}/news/id_/{url}", timeout=60)
            assert replayed.status_code == 200, (url, replayed.status_code)
            assert replayed.content == latest[url], url
            # Every capture by its time: the first fetch served the first text; the edit
            # came before the second, so the second and third (a new version, then 304s or
            # identical refetches) replay the latest.
            expected = [first[url], latest[url], latest[url]]
            for timestamp, body in zip(sorted(captures[url]), expected, strict=True):
                replayed = requests.get(f"{base}/news/{timestamp}id_/{url}", timeout=60)
                assert (replayed.status_code, replayed.content) == (200, body), (url, timestamp)


def test_a_missing_warc_file_is_one_clear_error_and_no_package(archive: Archive, test_site):
    origin, _ = test_site
    assert archive.add(f"{origin}/pages/{TELESCOPE}")[0] == 0
    for warc in archive.objects.rglob("*.warc.gz"):
        warc.unlink()
    out = archive.root / "broken.wacz"
    proc = archive.run("export", "--format", "wacz", "-o", str(out))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "cannot package the captures: the WARC file raw/" in proc.stderr
    assert "is neither in the store nor in the spool" in proc.stderr
    assert not out.exists() and not out.with_name("broken.wacz.part").exists()
    usage = archive.run("export", "--format", "wacz")
    assert usage.returncode == 2 and "-o FILE.wacz" in usage.stderr
