"""The demo, `scrapy crawl` in the checkout, and the CLI's read commands."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys

from tests.conftest import ROOT, Archive, archive_env
from tests.support.helpers import free_port


def test_demo_archives_the_sample_blog(archive: Archive):
    # The demo's defaults: wirearchive-data/ in the current folder.
    env = {k: v for k, v in archive.env.items() if k not in ("WIREARCHIVE_DB", "WIREARCHIVE_STORE")}
    demo = Archive(archive.root, env)
    proc = demo.run("demo")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("archived") >= 5
    assert "[wire: Sputnik]" in proc.stdout
    assert "Example search: wirearchive search NATO" in proc.stdout
    db = archive.root / "wirearchive-data" / "archive.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from articles").fetchone()[0] == 5
    # A second run finds everything unchanged and writes nothing new.
    again = demo.run("demo")
    assert again.returncode == 0 and again.stdout.count("unchanged") == 5


def test_demo_refuses_a_busy_port_rather_than_changing_ids(archive: Archive):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = archive.run("demo", "--port", str(busy.getsockname()[1]))
    assert proc.returncode == 1
    assert "cannot serve the sample blog" in proc.stderr and "--port" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not archive.db.exists()


def test_demo_serve_gives_a_site_that_crawl_can_archive(archive: Archive):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "archive", "demo", "--serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=archive.env,
        cwd=archive.root,
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(6)]
        assert f"http://127.0.0.1:{port}/" in lines[0], lines
        sources = archive.root / lines[1].split(": ", 1)[1].strip()
        assert f'url = "http://127.0.0.1:{port}/"' in sources.read_text()
        proc = archive.run("crawl", "--sources", str(sources))
        assert proc.returncode == 0, proc.stderr
        with sqlite3.connect(archive.db) as conn:
            urls = [r[0] for r in conn.execute("select url from articles")]
        assert len(urls) == 5 and all(u.startswith(f"http://127.0.0.1:{port}/") for u in urls)
        # Archived first by `add`, the posts keep that source; search --source says so.
        other = Archive(archive.root / "other", archive_env(archive.root / "other"))
        assert other.run("add", *urls).returncode == 0
        assert other.run("crawl", "--sources", str(sources)).returncode == 0
        none = other.run("search", "--source", "demo", "NATO")
        assert "the 5 articles 'demo' saw were archived before by another" in none.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_scrapy_crawl_in_the_checkout_archives_to_the_same_places(archive: Archive, test_site):
    origin, _ = test_site
    url = f"{origin}/pages/nature.com.telescope.html"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "urls", "-a", f"urls={url}"],
        cwd=ROOT,
        env=archive.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    article = archive.show(url)
    assert article["title"] == "Gigantic Chinese telescope opens to astronomers worldwide"
    assert (archive.objects / article["raw_key"]).is_file()


def test_read_commands_on_an_archive(archive: Archive, test_site):
    origin, _ = test_site
    _, results = archive.add(f"{origin}/seed-repost.html")
    article_id = results[f"{origin}/seed-repost.html"]["id"]
    search = archive.run("search", "Ryabkov")
    assert search.returncode == 0 and article_id in search.stdout and "[Ryabkov]" in search.stdout
    assert archive.run("search", "--wire", "Reuters", "Ryabkov").stdout == ""
    shown = archive.run("show", article_id)
    assert "wire_source: Sputnik" in shown.stdout and "capture:" in shown.stdout
    stats = json.loads(archive.run("stats", "--json").stdout)
    assert stats["articles"] == 1 and stats["captures"] == 1
    missing = archive.run("show", "no-such-article")
    assert missing.returncode == 1 and "no article" in missing.stderr


def test_clear_errors_for_bad_usage(archive: Archive):
    empty = archive.run("search", "x")
    assert empty.returncode == 1 and "no catalog" in empty.stderr
    assert archive.run("add").returncode == 2
    bad = Archive(archive.root, archive.env | {"WIREARCHIVE_ALLOW_PRIVATE": "not-a-network"})
    proc = bad.run("add", "https://example.com/")
    assert proc.returncode == 2 and "WIREARCHIVE_ALLOW_PRIVATE" in proc.stderr
    s3 = Archive(archive.root, archive.env | {"WIREARCHIVE_STORE": "gs://bucket/x"})
    proc = s3.run("add", "https://example.com/")
    assert proc.returncode == 1 and "unsupported store" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    # Global options after the command name are told where they go.
    late = archive.run("search", "--db", "x.db", "word")
    assert late.returncode == 2 and "--db goes before the command" in late.stderr
    # A catalog that is a folder, or not SQLite, is one line for every command.
    (archive.root / "folder.db").mkdir()
    (archive.root / "text.db").write_text("not a database")
    for db, why in (("folder.db", "it is a folder"), ("text.db", "file is not a database")):
        for command in (["stats"], ["flush"], ["reindex"], ["add", "https://example.com/"]):
            proc = archive.run("--db", str(archive.root / db), *command)
            assert proc.returncode == 1, (db, command, proc.stderr)
            assert f"cannot open the catalog {archive.root / db}: {why}" in proc.stderr
            assert "Traceback" not in proc.stderr, proc.stderr
    assert archive.run("reextract", "--since", "yesterday").returncode == 2
    # reindex from a store that holds nothing (a mistyped --store) is an error, not "0".
    typo = archive.run("--store", str(archive.root / "objcts"), "reindex")
    assert typo.returncode == 1 and "nothing to rebuild from" in typo.stderr
    # An empty --file is not "no URL given".
    empty = archive.run("add", "--file", "-", stdin="# only a comment\n\n")
    assert empty.returncode == 2 and "standard input holds no URL" in empty.stderr


def test_read_commands_meet_a_first_time_user_halfway(archive: Archive, test_site):
    origin, _ = test_site
    url = f"{origin}/seed-repost.html"
    _, results = archive.add(url)
    article_id = results[url]["id"]
    # show: the URL as `add` normalises it, and the start of an id.
    for name in (f"{url}?utm_source=x", url.replace("http://", "HTTP://"), article_id[:8]):
        shown = archive.run("show", name)
        assert shown.returncode == 0 and f"id: {article_id}" in shown.stdout, (name, shown.stderr)
    # --wire in any case; a wire no article has is named as the reason, not the query.
    assert article_id in archive.run("search", "--wire", "sputnik", "Ryabkov").stdout
    nowire = archive.run("search", "--wire", "Reuters", "Ryabkov")
    assert "no article is attributed to wire 'Reuters'" in nowire.stderr
    assert "Sputnik" in nowire.stderr
    for bad in ("0", "-1"):
        assert archive.run("search", "--limit", bad, "Ryabkov").returncode == 2
    # FTS syntax behind --fts: OR of terms; a broken query is a clear error.
    assert article_id in archive.run("search", "--fts", "Ryabkov OR zzzzqx").stdout
    assert archive.run("search", "Ryabkov OR zzzzqx").stdout == ""
    broken = archive.run("search", "--fts", '"unclosed')
    assert broken.returncode == 1 and "bad FTS query" in broken.stderr
    assert "Traceback" not in broken.stderr
    # A query that starts with '-': after '--', as the help says.
    search_help = " ".join(archive.run("search", "--help").stdout.split())
    assert "search -- -word" in search_help and "At most N articles" in search_help
    assert archive.run("search", "--", "-Ryabkov").returncode == 0
    dash = archive.run("search", "-Ryabkov")
    assert dash.returncode == 2 and "wirearchive search [OPTIONS] -- -R" in dash.stderr
    broken = archive.run("search", "--fts", "--", "-Ryabkov")
    assert "quote a word with - or : in it" in broken.stderr
    # An id prefix in upper case; a prefix too short says how long one must be.
    assert archive.run("show", article_id[:8].upper()).returncode == 0
    short = archive.run("show", article_id[:4])
    assert short.returncode == 1 and "6 or more characters" in short.stderr
    version = archive.run("--version")
    assert version.returncode == 0 and version.stdout.startswith("wirearchive, version ")
    assert "One JSON object" in archive.run("stats", "--help").stdout
