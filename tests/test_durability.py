"""The archive loses nothing: rotating WARC files that warcio accepts, revisits, a store outage
in the middle of a crawl, and SIGKILL at random points."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.core.items import Capture
from archive.storage.spool import Spool, SpoolError
from archive.storage.store import LocalStore, S3Store
from archive.storage.warc import capture_records, scan_captures
from archive.storage.warcfile import WarcFile, truncate_to_committed
from tests.conftest import Archive, s3_env
from tests.support.audit import audit, integrity_ok
from tests.support.helpers import count, records, wait_for
from tests.support.platforms import PlatformSite, make_posts
from tests.support.s3server import s3_client, seaweedfs
from tests.support.site import PAGES


def warcio(*args: str) -> subprocess.CompletedProcess[str]:
    """The `warcio` command line."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from warcio.cli import main; main(sys.argv[1:])",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _sources(archive: Archive, site: PlatformSite, kind: str) -> Path:
    path = archive.root / "sources.toml"
    path.write_text(f'[[sources]]\nname = "src"\nurl = "{site.origin}/"\nkind = "{kind}"\n')
    return path


def test_warc_files_rotate_pass_warcio_check_and_index_where_the_catalog_says(archive, test_site):
    origin, _ = test_site
    archive.env["WIREARCHIVE_WARC_BYTES"] = "40000"
    urls = [f"{origin}/seed-repost.html"] + [f"{origin}/pages/{page}" for page in PAGES]
    code, results = archive.add(*urls)
    assert code == 0, results
    warcs = sorted(archive.objects.glob("raw/**/*.warc.gz"))
    assert len(warcs) >= 3  # rotated at the size limit
    check = warcio("check", "-v", *map(str, warcs))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout
    indexed = {}
    for warc in warcs:
        proc = warcio("index", "-f", "warc-type,warc-record-id,offset,length", str(warc))
        assert proc.returncode == 0, proc.stderr
        for line in proc.stdout.splitlines():
            entry = json.loads(line)
            record_id = entry["warc-record-id"].strip("<>").removeprefix("urn:uuid:")
            key = warc.relative_to(archive.objects).as_posix()
            indexed[record_id] = (
                entry["warc-type"],
                key,
                int(entry["offset"]),
                int(entry["length"]),
            )
    captures = records(archive.db, "select * from captures")
    assert len(captures) == len(urls)
    for row in captures:
        assert indexed[row["id"]] == (
            "response", row["warc_key"], row["warc_offset"], row["warc_length"]
        )  # fmt: skip
    # `show --raw` reads just that span and prints the response as served.
    some = results[urls[2]]["id"]
    raw = archive.run("show", "--raw", some)
    assert raw.returncode == 0 and raw.stdout.startswith("HTTP/1.1 200")
    assert list(PAGES.values())[1].read_text() in raw.stdout.replace("\r\n", "\n")


def test_unchanged_pages_are_kept_as_revisit_records(archive):
    posts = make_posts(3, list(PAGES.values()))
    with PlatformSite("site", posts) as site:  # no listing dates: conditional GETs, 304s
        sources = _sources(archive, site, "site")
        for _ in range(2):
            proc = archive.run("crawl", "--sources", str(sources))
            assert proc.returncode == 0, proc.stderr[-2000:]
    revisits = records(archive.db, "select * from captures where record_type = 'revisit'")
    assert len(revisits) == 3
    store = LocalStore(archive.objects)
    for row in revisits:
        with store.open(row["warc_key"]) as stream:
            scanned = {c.capture_id: c for c in scan_captures(stream)}
        record = scanned[row["id"]]
        assert record.status_code == 304 and record.refers_to == row["refers_to"]
        original = records(archive.db, "select * from captures where id = ?", row["refers_to"])[0]
        assert original["record_type"] == "response" and original["url"] == row["url"]
        span = store.get_range(row["warc_key"], row["warc_offset"], row["warc_length"])
        assert b"WARC-Profile: http://netpreserve.org/warc/1.0/revisit/server-not-modified" in (
            gzip.decompress(span)
        )
    check = warcio("check", *map(str, archive.objects.glob("raw/**/*.warc.gz")))
    assert check.returncode == 0, check.stdout


def test_recovery_cuts_a_dead_writers_file_back_to_committed_captures(tmp_path):
    spool = Spool(tmp_path / "spool", "unused")
    warc = WarcFile(spool)
    records = [
        capture_records(
            Capture(
                input_url=f"https://a.example/{n}",
                url=f"https://a.example/{n}",
                status_code=200,
                body=f"<p>page {n}</p>".encode(),
                fetched_at="2026-01-01T00:00:00+00:00",
            ),
            {"article-id": f"a{n}"},
        )
        for n in range(3)
    ]
    places = [warc.append(r) for r in records]
    assert warc._file is not None
    warc._file.write(records[0].data[:150])  # a torn record: the process died mid-write
    warc._file.close()  # its lock goes with it; the file stays open-named
    ((key, path),) = spool.abandoned()
    assert key == places[0].key
    kept = truncate_to_committed(path, {records[0].capture_id, records[1].capture_id})
    assert kept == places[2].offset
    with open(path, "rb") as stream:
        assert [c.capture_id for c in scan_captures(stream)] == [
            records[0].capture_id, records[1].capture_id
        ]  # fmt: skip
    check = warcio("check", str(path))
    assert check.returncode == 0, check.stdout


def test_recovery_drops_half_written_files_a_killed_run_left(tmp_path):
    # A SIGKILL between a spool write's temporary file and its rename left the file for ever.
    spool = Spool(tmp_path / "spool", "unused")
    spool.put("articles/ab/abc.json", b"{}")
    torn = spool.path("articles/ab/abc.json").with_name(".tmp-x1y2z3")
    torn.write_bytes(b'{"half')
    assert spool.drop_temporaries() == 1
    assert not torn.exists() and spool.path("articles/ab/abc.json").exists()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_store_outage_mid_crawl_spools_and_flush_archives_everything_once(
    tmp_path_factory, tmp_path
):
    posts = make_posts(30, list(PAGES.values()))
    with (
        seaweedfs(tmp_path_factory.mktemp("weed-outage")) as s3,
        PlatformSite("news", posts) as site,
    ):
        site.delay = 0.05
        client = s3_client(s3.endpoint)
        client.create_bucket(Bucket="outage")
        env = s3_env(tmp_path, s3.endpoint, "s3://outage/a")
        env |= {"WIREARCHIVE_WARC_BYTES": "200000", "WIREARCHIVE_UPLOAD_INTERVAL": "0.3"}
        archive = Archive(tmp_path, env)
        crawl = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "archive",
                "crawl",
                "--sources",
                str(_sources(archive, site, "sitemap")),
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(lambda: count(archive.db, "articles", missing_ok=True) >= 8, timeout=120)
        s3.stop()
        _, err = crawl.communicate(timeout=240)
        assert crawl.returncode == 1, err[-3000:]
        assert "wirearchive flush" in err
        pending = count(archive.db, "articles where pending = 1")
        assert pending > 0
        assert count(archive.db, "articles") == len(posts)
        # Pending rows are not shown as archived: search leaves them out, show says so.
        found = archive.run("search", "--json", "--limit", "100", posts[0].title.split()[0])
        assert len(found.stdout.splitlines()) <= len(posts) - pending
        # While the store is down, flush keeps everything and says so.
        down = archive.run("flush")
        assert down.returncode == 1
        s3.start()
        flushed = archive.run("flush")
        assert flushed.returncode == 0, flushed.stdout + flushed.stderr
        assert "0 objects still waiting" in flushed.stdout
        store = S3Store("outage", "a", client=client)
        counts = audit(archive.db, store)
        assert counts["articles"] == len(posts)
        assert not list((tmp_path / "archive.db.spool" / "objects").rglob("*.*"))
        # And a second flush has nothing to do.
        again = archive.run("flush")
        assert again.returncode == 0 and "uploaded 0 objects" in again.stdout


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_sigkill_at_random_points_loses_and_duplicates_nothing(archive):
    seed = int(os.environ.get("WIREARCHIVE_TEST_SEED", "7"))
    rng = random.Random(seed)
    posts = make_posts(80, list(PAGES.values()))
    archive.env |= {"WIREARCHIVE_WARC_BYTES": "300000", "WIREARCHIVE_UPLOAD_INTERVAL": "0.2"}
    with PlatformSite("news", posts) as site:
        site.delay = 0.05
        sources = str(_sources(archive, site, "sitemap"))
        args = [sys.executable, "-m", "archive", "crawl", "--sources", sources]
        kills = 0
        for _ in range(4):
            proc = subprocess.Popen(
                args,
                env=archive.env,
                cwd=archive.root,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its extraction workers die with it
            )
            # Kill while it archives: once a random number more of posts are in, plus a
            # random fraction of a second (mid-write, mid-commit, mid-upload...).
            archived = count(archive.db, "articles", missing_ok=True)
            target = archived + rng.randint(1, len(posts) // 6)
            wait_for(
                lambda p=proc, n=target: (
                    count(archive.db, "articles", missing_ok=True) >= n or p.poll() is not None
                ),
                timeout=120,
            )
            time.sleep(rng.uniform(0, 0.3))
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
            integrity_ok(archive.db)
        assert kills >= 2, f"the crawl finished before it could be killed (seed {seed})"
        final = archive.run("crawl", "--sources", sources, timeout=300)
        assert final.returncode == 0, final.stderr[-3000:]
    counts = audit(archive.db, LocalStore(archive.objects))
    assert counts["articles"] == len(posts), f"seed {seed}"
    assert not list((archive.root / "archive.db.spool" / "objects").rglob("*.*"))


def test_a_spool_holding_objects_refuses_another_store(tmp_path):
    Spool(tmp_path / "spool", "s3://first/a").put("articles/ab/x.json", b"{}")
    with pytest.raises(SpoolError, match="s3://first/a"):
        Spool(tmp_path / "spool", "s3://second/b")
    Spool(tmp_path / "spool", "s3://first/a").discard(["articles/ab/x.json"])
    Spool(tmp_path / "spool", "s3://second/b")  # empty: it may change hands
    assert (tmp_path / "spool" / "STORE").read_text().strip() == "s3://second/b"
