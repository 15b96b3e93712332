"""`wirearchive add` end to end: loopback site -> Scrapy -> pipelines -> store + catalog."""

from __future__ import annotations

import http.server
import io
import json
import sqlite3
import subprocess
import sys
import threading

from warcio.archiveiterator import ArchiveIterator

from archive.app.cli import url_lines
from tests.conftest import Archive, archive_env
from tests.support import site
from tests.support.helpers import count, free_port
from tests.support.site import SEED


def test_seed_repost_archived_with_metadata_and_wire_source(archive, test_site):
    origin, _ = test_site
    url = f"{origin}/seed-repost.html"
    code, results = archive.add(url)
    assert code == 0
    assert results[url]["status"] == "archived"
    article = archive.show(results[url]["id"])
    assert (
        article["title"]
        == "Moscow Won't Stoop To Discussing NATO Demands On 'Deescalation Measures'"
    )
    assert article["published"] == "2022-01-09T18:14:00+00:00"  # UTC, with its time
    assert article["author"] == "Wire Watch"
    assert article["wire_source"] == "Sputnik"
    assert "Russia is not prepared to discuss" in article["text"]
    assert "No comments" not in article["text"]
    # The raw response is a WARC record, at the offset the catalog gives, holding exactly the
    # served bytes; its WARC file also holds the request and the capture's metadata.
    warc = (archive.objects / article["raw_key"]).read_bytes()
    assert {r.rec_type for r in ArchiveIterator(io.BytesIO(warc))} == {
        "warcinfo", "response", "request", "metadata"
    }  # fmt: skip
    span = warc[article["raw_offset"] : article["raw_offset"] + article["raw_length"]]
    record = next(iter(ArchiveIterator(io.BytesIO(span))))
    assert record.rec_type == "response"
    assert record.rec_headers.get_header("WARC-Target-URI") == url
    assert record.rec_headers.get_header("WARC-Payload-Digest").startswith("sha1:")
    assert record.content_stream().read() == SEED.read_bytes()
    spooled = (archive.root / "archive.db.spool" / "objects").rglob("*.*")
    assert article["pending"] == 0 and not list(spooled)
    assert (archive.objects / article["json_key"]).is_file()
    # `show --raw` prints the stored response as it was served.
    shown = archive.run("show", "--raw", results[url]["id"])
    head, _, body = shown.stdout.partition("\n\n")  # text mode: CRLF read as \n
    assert head.startswith("HTTP/1.1 200") and "Content-Type: text/html" in head
    assert body == SEED.read_text()
    # Searchable right away.
    proc = archive.run("search", "--json", "deescalation")
    assert results[url]["id"] in proc.stdout


def test_adding_again_archives_nothing_new(archive, test_site):
    origin, _ = test_site
    urls = [f"{origin}/seed-repost.html", f"{origin}/pages/nature.com.telescope.html"]
    code, first = archive.add(*urls)
    assert code == 0 and {r["status"] for r in first.values()} == {"archived"}
    keys, articles = archive.stored_keys(), count(archive.db, "articles")
    code, again = archive.add(*urls)
    assert code == 0
    assert {r["status"] for r in again.values()} == {"unchanged"}
    assert {u: r["id"] for u, r in again.items()} == {u: r["id"] for u, r in first.items()}
    # No new article version; the refetch is kept as revisit records (no payload) that
    # refer to the first captures.
    new_keys = archive.stored_keys() - keys
    assert keys <= archive.stored_keys() and all(k.startswith("raw/") for k in new_keys)
    assert count(archive.db, "articles") == articles
    with sqlite3.connect(archive.db) as conn:
        rows = conn.execute(
            "select c.record_type, c.refers_to, o.id, c.payload_sha256 = o.payload_sha256 "
            "from captures c left join captures o on o.id = c.refers_to order by c.fetched_at"
        ).fetchall()
    assert sorted(r[0] for r in rows) == ["response", "response", "revisit", "revisit"]
    assert all(r[1] == r[2] and r[3] for r in rows if r[0] == "revisit")
    # `show` tells the response from its revisit, each with where its record starts.
    shown = archive.run("show", first[urls[0]]["id"]).stdout
    assert shown.count("capture: ") == 1 and shown.count("revisit: ") == 1, shown
    assert " @" in shown.split("revisit: ")[1].splitlines()[0]


def test_url_variants_share_one_identity(archive, test_site):
    origin, _ = test_site
    code, first = archive.add(f"{origin}/seed-repost.html")
    # A redirect to the same page with a tracking parameter is the same article.
    code, second = archive.add(f"{origin}/redirect.html")
    assert code == 0
    result = second[f"{origin}/redirect.html"]
    assert result["status"] == "unchanged"
    assert result["id"] == first[f"{origin}/seed-repost.html"]["id"]
    assert result["final_url"].endswith("/seed-repost.html?utm_source=newsletter")


def test_exact_copy_elsewhere_is_a_duplicate(archive, test_site):
    origin, _ = test_site
    page = "latimes.com.bloomberg.html"
    original, copy = f"{origin}/pages/{page}", f"{origin}/copy/{page}"
    code, results = archive.add(original)
    code, results2 = archive.add(copy)
    assert code == 0
    assert results2[copy]["status"] == "duplicate"
    assert results2[copy]["duplicate_of"] == results[original]["id"]
    assert archive.show(results2[copy]["id"])["duplicate_of"] == results[original]["id"]
    # Searching finds the story once as an original.
    with sqlite3.connect(archive.db) as conn:
        originals = conn.execute(
            "select count(*) from articles where duplicate_of is null"
        ).fetchone()[0]
    assert originals == 1


def test_bad_inputs_get_a_clear_status_and_leave_nothing_behind(archive, test_site):
    origin, _ = test_site
    # /slow.html outlasts it; the other pages have 3 s for a first attempt, however busy the
    # machine.
    archive.env["WIREARCHIVE_DOWNLOAD_TIMEOUT"] = "6"
    expected = {
        "not a url": ("refused", "invalid URL: no scheme (expected http:// or https://)"),
        "http://": ("refused", "invalid URL: no host"),
        "file:///etc/passwd": ("refused", "scheme file"),
        "data:text/html,<p>hi</p>": ("refused", "scheme data"),
        "ftp://ftp.example.com/file.html": ("refused", "scheme ftp"),
        "http://nonexistent-host.invalid/post.html": ("failed", "DNS lookup failed"),
        f"http://127.0.0.1:{free_port()}/post.html": ("failed", "connection refused"),
        f"{origin}/slow.html": ("failed", "timed out"),
        f"{origin}/missing.html": ("failed", "HTTP 404"),
        f"{origin}/error.html": ("failed", "HTTP 500"),
        f"{origin}/report.pdf": ("failed", "not HTML: application/pdf"),
        f"{origin}/photo.png": ("failed", "not HTML: image/png"),
        f"{origin}/huge.html": ("failed", "size limit"),
        f"{origin}/gzip-bomb.html": ("failed", "size limit"),
        f"{origin}/empty.html": ("failed", "no extractable article text"),
        f"{origin}/loop.html": ("failed", "redirect"),
        f"{origin}/private/page.html": ("failed", "robots.txt"),
        f"{origin}/to-private.html": ("refused", "169.254.169.254 is link-local"),
    }
    code, results = archive.add(*expected)
    assert code == 1
    for url, (status, reason) in expected.items():
        assert results[url]["status"] == status, (url, results[url])
        assert reason in results[url]["reason"], (url, results[url])
        assert results[url]["id"] is None
    assert "final_url" not in results["http://"]  # not Scrapy's "http:///"
    # Nothing half-written: no rows, no objects.
    assert count(archive.db, "articles") == 0
    assert count(archive.db, "captures") == 0
    assert archive.stored_keys() == set()


def test_broken_encoding_is_archived_readably(archive, test_site):
    origin, _ = test_site
    url = f"{origin}/mislabelled.html"
    code, results = archive.add(url)
    assert code == 0 and results[url]["status"] == "archived"
    text = archive.show(results[url]["id"])["text"]
    assert "residents came out to enjoy the first warm weekend" in text


def test_private_addresses_refused_by_default(tmp_path, test_site):
    origin, requested = test_site
    port = origin.rsplit(":", 1)[1]
    archive = Archive(tmp_path, archive_env(tmp_path, WIREARCHIVE_ALLOW_PRIVATE=""))
    before = len(requested)
    urls = {
        f"{origin}/seed-repost.html": "127.0.0.1 is loopback",
        f"http://localhost:{port}/seed-repost.html": "resolves to a refused address",
        f"http://[::1]:{port}/seed-repost.html": "is loopback",
        "http://169.254.169.254/latest/meta-data/": "is link-local",
        "http://10.20.30.40/admin": "is private",
        "http://0.0.0.0/": "is unspecified",
        "http://[::ffff:127.0.0.1]/": "is loopback",
    }
    code, results = archive.add(*urls)
    assert code == 1
    for url, reason in urls.items():
        assert results[url]["status"] == "refused", results[url]
        assert reason in results[url]["reason"], results[url]
        assert "set WIREARCHIVE_ALLOW_PRIVATE=1" in results[url]["reason"], results[url]
    assert len(requested) == before  # not one request reached the loopback site


def test_add_reads_urls_from_stdin(archive, test_site):
    origin, _ = test_site
    proc = archive.run(
        "add", "--file", "-", stdin=f"# a comment\n{origin}/pages/nature.com.telescope.html\n\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert '"status": "archived"' in proc.stdout


def test_robots_txt_server_error_disallows_the_host(archive):
    # RFC 9309: a 5xx on robots.txt means the whole site is disallowed for now.
    with site.serve(robots_status=503) as (origin, requested):
        code, results = archive.add(f"{origin}/seed-repost.html")
    assert code == 1
    assert results[f"{origin}/seed-repost.html"]["reason"] == "disallowed by robots.txt"
    assert set(requested) == {"/robots.txt"}


def test_robots_txt_missing_allows_everything(archive):
    with site.serve(robots_status=404) as (origin, _):
        code, results = archive.add(f"{origin}/seed-repost.html")
    assert code == 0 and results[f"{origin}/seed-repost.html"]["status"] == "archived"


def test_configured_agencies_file_changes_attribution(archive, test_site, tmp_path):
    origin, _ = test_site
    agencies = tmp_path / "agencies.toml"
    agencies.write_text('"Sputnik Radio" = ["Sputnik"]\nReuters = ["Reuters"]\n')
    custom = Archive(archive.root, archive.env | {"WIREARCHIVE_WIRE_AGENCIES": str(agencies)})
    code, results = custom.add(f"{origin}/seed-repost.html")
    assert code == 0
    assert (
        custom.show(results[f"{origin}/seed-repost.html"]["id"])["wire_source"] == "Sputnik Radio"
    )
    agencies.write_text("not toml [")
    proc = custom.run("add", f"{origin}/seed-repost.html")
    assert (
        proc.returncode == 1 and "WIRE_AGENCIES" in proc.stderr and "Traceback" not in proc.stderr
    )


def test_retry_after_is_honoured(archive):
    with site.serve() as (origin, requested):
        code, results = archive.add(f"{origin}/busy.html")
    assert code == 0 and results[f"{origin}/busy.html"]["status"] == "archived"
    first, second = (
        t for p, t in zip(requested, requested.times, strict=True) if p == "/busy.html"
    )
    assert second - first >= 1.0  # waited as long as Retry-After asked


def test_retry_after_longer_than_the_limit_gives_up(archive):
    with site.serve() as (origin, requested):
        code, results = archive.add(f"{origin}/overloaded.html")
    assert code == 1 and results[f"{origin}/overloaded.html"]["reason"] == "HTTP 429"
    assert requested.count("/overloaded.html") == 1


def test_reposts_of_one_story_form_one_cluster(archive, test_site):
    origin, _ = test_site
    first, repost = f"{origin}/seed-repost.html", f"{origin}/repost-elsewhere.html"
    other = f"{origin}/pages/latimes.com.bloomberg.html"
    code, results = archive.add(first, repost, other)
    assert code == 0 and {r["status"] for r in results.values()} == {"archived"}
    a, b, c = (archive.show(results[u]["id"]) for u in (first, repost, other))
    assert a["cluster_id"] == b["cluster_id"] != c["cluster_id"]
    assert b["duplicate_of"] is None  # a near copy, not an exact one
    # Whichever copy was archived first names the cluster; the other is a near copy of it.
    near, head = sorted([a["similarity"], b["similarity"]])
    assert head == 1.0 and 0.5 <= near < 1.0
    assert a["cluster"]["size"] == 2 and a["cluster"]["wire_source"] == "Sputnik"
    # The cluster's origin is the earliest published copy.
    assert a["cluster"]["origin_id"] == a["id"]
    listing = archive.run("clusters")
    assert (
        listing.returncode == 0
        and "2 copies" in listing.stdout
        and "[wire: Sputnik]" in (listing.stdout)
    )
    assert listing.stdout.count("\n") == 3  # one story, two copies
    shown = archive.run("show", results[first]["id"]).stdout
    assert "2 copies" in shown and results[repost]["id"] in shown


def test_reindex_rebuilds_the_catalog_from_the_store_alone(archive, test_site):
    origin, _ = test_site
    page = "latimes.com.bloomberg.html"
    urls = [
        f"{origin}/seed-repost.html",
        f"{origin}/repost-elsewhere.html",
        f"{origin}/pages/{page}",
        f"{origin}/copy/{page}",
    ]
    for url in urls:  # one at a time: first-seen order is then the input order
        assert archive.add(url)[0] == 0

    def snapshot() -> dict[str, list]:
        with sqlite3.connect(archive.db) as conn:
            return {
                "articles": conn.execute(
                    "select id, url, canonical_url, title, author, published, text, wire_source,"
                    " content_sha256, duplicate_of, cluster_id, similarity, raw_key, raw_offset,"
                    " raw_length, capture_id, json_key, first_seen, fetched_at, pending"
                    " from articles order by id"
                ).fetchall(),
                "captures": conn.execute(
                    "select id, url, input_url, status_code, content_type, payload_sha256, length,"
                    " record_type, warc_key, warc_offset, warc_length, refers_to, article_id,"
                    " source from captures order by id"
                ).fetchall(),
                "clusters": conn.execute(
                    "select id, size, origin_id, wire_source, first_published from clusters"
                    " order by id"
                ).fetchall(),
            }

    before = snapshot()
    for path in archive.root.glob("archive.db*"):
        if path.is_file():  # the catalog's files; its spool (a folder) is empty
            path.unlink()
    proc = archive.run("reindex")
    assert proc.returncode == 0, proc.stderr
    assert "reindexed 4 articles" in proc.stdout and "4 captures, 2 stories" in proc.stdout
    assert snapshot() == before


def test_reextract_makes_a_new_version_from_the_stored_capture(archive, test_site):
    origin, requested = test_site
    url = f"{origin}/seed-repost.html"
    _, results = archive.add(url)
    article_id = results[url]["id"]
    # As if an older extractor had produced a shorter text.
    with sqlite3.connect(archive.db) as conn:
        conn.execute(
            "update articles set text = 'An older, shorter extraction.', content_sha256 = 'old',"
            " extractor = 'trafilatura 1.0' where id = ?",
            [article_id],
        )
    before = len(requested)
    proc = archive.run("reextract")
    assert proc.returncode == 0, proc.stderr
    assert "1 new texts" in proc.stdout
    assert len(requested) == before  # no network: the stored WARC record was read
    shown = archive.show(article_id)
    assert "Russia is not prepared to discuss" in shown["text"]
    assert shown["extractor"].startswith("trafilatura 2")
    assert [r["text"] for r in shown["revisions"]] == ["An older, shorter extraction."]
    assert (archive.objects / shown["json_key"]).is_file()
    again = archive.run("reextract", "--source", "on-demand")
    assert "0 new texts, 1 unchanged" in again.stdout


def test_unreachable_hosts_give_one_stderr_line_each(archive):
    urls = [
        "http://nonexistent-host.invalid/post.html",
        f"http://127.0.0.1:{free_port()}/post.html",
    ]
    proc = archive.run("add", *urls)
    assert proc.returncode == 1
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["status"] for r in results] == ["failed", "failed"]
    dns = results[0]["reason"]
    assert dns.startswith("DNS lookup failed") and dns.count("DNS lookup failed") == 1, dns
    # No Scrapy tracebacks nor its retry/robots.txt errors: one line a failure.
    assert "Traceback" not in proc.stderr
    assert sorted(proc.stderr.splitlines()) == sorted(
        f"failed: {r['url']}: {r['reason']}" for r in results
    ), proc.stderr


class _HeldPage(http.server.BaseHTTPRequestHandler):
    """Answers /held with a page only once the test sets its server's `release`."""

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            self.send_error(404)
            return
        self.server.release.wait(300)  # type: ignore[attr-defined]
        body = SEED.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_add_file_prints_each_line_as_its_url_is_archived(archive, test_site):
    # Piped, a long `add --file` tells each URL once the store has it, not at the end: the
    # held page is answered only after the other URL's line has come out.
    origin, _ = test_site
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HeldPage)
    server.release = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    held = f"http://127.0.0.1:{server.server_address[1]}/held"
    good = f"{origin}/pages/nature.com.telescope.html"
    env = archive.env | {"WIREARCHIVE_DOWNLOAD_TIMEOUT": "600"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "archive", "add", "--file", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=archive.root,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"{good}\n{held}\n")
        proc.stdin.close()
        first = json.loads(proc.stdout.readline())
        assert (first["url"], first["status"]) == (good, "archived"), first
        server.release.set()  # type: ignore[attr-defined]
        second = json.loads(proc.stdout.readline())
        assert (second["url"], second["status"]) == (held, "archived"), second
        assert proc.wait(120) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        server.release.set()  # type: ignore[attr-defined]
        proc.kill()
        server.shutdown()


def test_url_file_lines_drop_comments_blanks_and_a_byte_order_mark():
    lines = ["\ufeffhttp://a.example/x#part\n", "# note\n", "http://b.example/y  # why\n", "\n"]
    assert url_lines(lines) == ["http://a.example/x#part", "http://b.example/y"]
