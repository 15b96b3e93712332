"""Response records as received: the status line, header names, case and order, and the body
before content decoding, checked against what warcio's own recorder (`capture_http`) keeps
for the same server responses; and records of both formats (as received, and the decoded ones
written before 0.9) read back alike."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.capture_http import capture_http
from warcio.warcwriter import WARCWriter

from archive.core.items import Capture
from archive.storage.warc import capture_records, read_response, scan_captures
from tests.conftest import Archive, archive_env
from tests.support.site import PAGES, SEED

PAGE = SEED.read_bytes()
GZIPPED = gzip.compress(PAGE, mtime=0)
# Another page for the chunked answer (the same page under two URLs would be one article).
CHUNKED = gzip.compress(PAGES["nature.com.telescope.html"].read_bytes(), mtime=0)
FRAMED = (
    b"".join(  # CHUNKED as sent: in chunks of 4 KiB, each with its size line
        b"%x\r\n%s\r\n" % (len(CHUNKED[i : i + 4096]), CHUNKED[i : i + 4096])
        for i in range(0, len(CHUNKED), 4096)
    )
    + b"0\r\n\r\n"
)
# Names in the case and order a server sends them, a repeated one, and ones Scrapy re-cases
# (ETag, X-XSS-Protection) or drops from its response (Connection, Transfer-Encoding).
HEADERS = [
    ("Date", "Tue, 01 Dec 2026 10:00:00 GMT"),
    ("content-type", "text/html; charset=utf-8"),
    ("ETag", '"v1-abc"'),
    ("X-XSS-Protection", "0"),
    ("Set-Cookie", "a=1; Path=/"),
    ("Set-Cookie", "b=2; Path=/"),
    ("Content-Encoding", "gzip"),
    ("Vary", "Accept-Encoding"),
]


class _Server(http.server.BaseHTTPRequestHandler):
    """/gzip.html: the seed page gzipped, with Content-Length; /chunked.html: another page
    gzipped and sent chunked; robots.txt: 404. The same bytes every time."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path not in ("/gzip.html", "/chunked.html"):
            self.send_response_only(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response_only(200, "Fine")  # a reason phrase of its own
        for name, value in HEADERS:
            self.send_header(name, value)
        if self.path == "/chunked.html":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(FRAMED)
        else:
            self.send_header("Content-Length", str(len(GZIPPED)))
            self.end_headers()
            self.wfile.write(GZIPPED)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _responses(folder: Path) -> dict[str, tuple]:
    """URL: (WARC-Payload-Digest, HTTP status line and headers, payload) of each response
    record in the WARC files under `folder`."""
    found = {}
    for path in folder.rglob("*.warc.gz"):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    digest = record.rec_headers.get_header("WARC-Payload-Digest")
                    head = (record.http_headers.protocol, record.http_headers.statusline)
                    found[url] = (
                        digest,
                        head,
                        record.http_headers.headers,
                        record.raw_stream.read(),
                    )
    return found


def test_records_equal_what_warcio_records_for_the_same_responses(
    archive: Archive, origin, tmp_path
):
    urls = [f"{origin}/gzip.html", f"{origin}/chunked.html"]
    code, results = archive.add(*urls)
    assert code == 0 and {r["status"] for r in results.values()} == {"archived"}, results
    ours = _responses(archive.objects)

    theirs_dir = tmp_path / "warcio"
    theirs_dir.mkdir()
    with open(theirs_dir / "capture.warc.gz", "wb") as out, capture_http(WARCWriter(out)):
        for url in urls:  # urllib: it finds http.client's connection, which warcio patches
            with urllib.request.urlopen(url, timeout=30) as answer:
                answer.read()
    theirs = _responses(theirs_dir)

    for url in urls:
        digest, head, headers, payload = ours[url]
        # The bytes as sent: before content decoding, chunked framing and all, as warcio.
        assert payload == (FRAMED if url.endswith("chunked.html") else GZIPPED)
        assert (digest, payload) == (theirs[url][0], theirs[url][3]), url
        assert head == ("HTTP/1.1", "200 Fine")
        sent = HEADERS + (
            [("Transfer-Encoding", "chunked")]
            if url.endswith("chunked.html")
            else [("Content-Length", str(len(GZIPPED)))]
        )
        assert headers == sent  # names, case, order and repeats as sent
        assert headers == theirs[url][2]
    # Extraction again from the records (chunked and gzipped as received) finds the same texts.
    again = archive.run("reextract")
    assert again.returncode == 0 and "0 new texts, 2 unchanged" in again.stdout, again.stdout


def test_show_raw_gives_the_response_as_received_or_decoded(archive: Archive, origin):
    url = f"{origin}/gzip.html"
    code, results = archive.add(url)
    assert code == 0, results
    article_id = results[url]["id"]
    head, _, body = _binary(archive, "show", "--raw", article_id).partition(b"\r\n\r\n")
    assert body == GZIPPED and b"\r\nContent-Encoding: gzip\r\n" in head
    assert head.startswith(b"HTTP/1.1 200 Fine\r\nDate: Tue, 01 Dec 2026")
    decoded = _binary(archive, "show", "--raw", "--decoded", article_id)
    head, _, body = decoded.partition(b"\r\n\r\n")
    assert body == PAGE and b"Content-Encoding" not in head
    assert f"\r\nContent-Length: {len(PAGE)}".encode() in head and b"\r\nETag: " in head
    assert archive.run("show", "--decoded", article_id).returncode == 2


def _binary(archive: Archive, *args: str) -> bytes:
    """The CLI's stdout, as bytes."""
    proc = subprocess.run(
        [sys.executable, "-m", "archive", *args],
        capture_output=True,
        env=archive.env,
        cwd=archive.root,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _capture(**fields) -> Capture:
    base = dict(
        input_url="http://example.com/a",
        url="http://example.com/a",
        status_code=200,
        body=PAGE,
        fetched_at="2026-12-01T10:00:00+00:00",
        headers=[("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")],
    )
    return Capture(**(base | fields))


@pytest.mark.parametrize("received", [True, False], ids=["as-received", "before-0.9"])
def test_both_record_formats_read_back_alike(received: bool):
    # Before 0.9 a record held the decoded body, without Content-Encoding; now the body as
    # received. Extraction (reextract), reindex and ingest read both.
    head = b"HTTP/1.1 200 OK\r\n" + b"\r\n".join(f"{k}: {v}".encode() for k, v in HEADERS)
    wire = {"wire_head": head, "wire_body": GZIPPED} if received else {}
    records = capture_records(_capture(**wire), {"article-id": "x"})
    response = read_response(records.data)
    assert response.body == PAGE
    assert response.payload == (GZIPPED if received else PAGE)
    [scanned] = list(scan_captures(io.BytesIO(records.data)))
    assert scanned.length == len(response.payload)
    assert scanned.payload_sha256 == hashlib.sha256(response.payload).hexdigest()


def test_every_record_names_the_warcinfo_that_says_who_made_it(tmp_path, origin):
    archive = Archive(
        tmp_path,
        archive_env(
            tmp_path,
            WIREARCHIVE_OPERATOR="Wire Watch desk <desk@example.org>",
            WIREARCHIVE_DESCRIPTION="Reposts of wire stories",
        ),
    )
    code, results = archive.add(f"{origin}/gzip.html")
    assert code == 0, results
    [path] = list(archive.objects.rglob("*.warc.gz"))
    with open(path, "rb") as stream:
        records = [(r, r.content_stream().read()) for r in ArchiveIterator(stream)]
    (info, block), *rest = records
    fields = dict(line.split(": ", 1) for line in block.decode().splitlines() if line)
    assert info.rec_type == "warcinfo" and rest
    assert fields["operator"] == "Wire Watch desk <desk@example.org>"
    assert fields["description"] == "Reposts of wire stories"
    assert fields["robots"] == "obey" and fields["sources"] == "on-demand"
    assert fields["software"].startswith("wirearchive/") and "http-header-user-agent" in fields
    warcinfo_id = info.rec_headers.get_header("WARC-Record-ID")
    assert {r.rec_headers.get_header("WARC-Warcinfo-ID") for r, _ in rest} == {warcinfo_id}
