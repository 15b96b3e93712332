"""A full disk under the catalog and spool (a small tmpfs; root only): the crawl stops with
a clear error, a summary and exit 1, and once there is space `flush` and a rerun finish it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Archive, archive_env
from tests.support.platforms import PlatformSite, make_posts
from tests.support.site import PAGES

POSTS = make_posts(200, list(PAGES.values()))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs, unmounted at the end."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)])
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


@pytest.mark.slow
def test_a_full_disk_stops_the_crawl_and_a_rerun_finishes_it(tmp_path, small_disk):
    archive = Archive(tmp_path, archive_env(tmp_path, WIREARCHIVE_DB=str(small_disk / "a.db")))
    with PlatformSite("news", POSTS) as site:
        sources = tmp_path / "sources.toml"
        sources.write_text(f'[[sources]]\nname = "src"\nurl = "{site.origin}/"\n')
        proc = archive.run("crawl", "--sources", str(sources), timeout=120)
        assert proc.returncode == 1, proc.stderr[-3000:]
        assert "interrupted" in proc.stdout and "disk full: " in proc.stdout  # the summary
        assert "src: interrupted: disk full: " in proc.stderr
        assert "the disk under the catalog" in proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]

        subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
        flushed = archive.run("flush", timeout=120)
        assert flushed.returncode == 0, flushed.stderr[-3000:]
        rerun = archive.run("crawl", "--sources", str(sources), timeout=120)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr[-3000:]
    with sqlite3.connect(small_disk / "a.db") as conn:
        urls = {url for (url,) in conn.execute("select url from articles")}
        pending = conn.execute("select count(*) from articles where pending = 1").fetchone()
    assert urls == {site.post_url(p) for p in POSTS}
    assert pending == (0,)
