"""`wirearchive export --format wacz`: the selected articles as a WACZ 1.1.1 package, what
ReplayWeb.page and pywb open: their captures' WARC records copied from the store, a CDXJ
index, the page list with each article's title and text (for full-text search), and a
datapackage.json with the hash of every file.

Streamed in bounded memory: records are copied one at a time into the package's WARC file;
the index lines and the record locations wait in a temporary SQLite file (the index is
written sorted from it), the page list in a temporary file.

Replay of a 304: a revisit record for a 304 answer keeps the server's `304 Not Modified`,
and replay tools treat any 3xx revisit as a redirect without a payload, so the page would
replay empty. Its index line points at the response it confirms instead (docs/storage.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator

from archive.storage.spool import read_span
from archive.storage.warc import package_version, warcinfo_record

WACZ_VERSION = "1.1.1"
WARC_NAME = "data.warc.gz"
WARCINFO_MAX = 64 * 1024  # bytes read for the warcinfo record that opens a WARC file
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages", "hasText": True}


class PackageError(Exception):
    """A capture the package needs cannot be read (its WARC file is not in the store)."""


class _Hashed(io.RawIOBase):
    """A write-only stream that counts and hashes what passes through to `sink`."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink = sink
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        data = bytes(data)
        self.sink.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)

    def resource(self, path: str) -> dict[str, Any]:
        """Its datapackage.json entry, under `path` in the package."""
        name = path.rsplit("/", 1)[-1]
        digest = f"sha256:{self.sha256.hexdigest()}"
        return {"name": name, "path": path, "hash": digest, "bytes": self.size}


class Package:
    """One WACZ being written: the WARC file first (`add_article` for each selected article),
    then `close` writes the index, the page list and the datapackage."""

    def __init__(self, sink: IO[bytes], catalog: Any, store: Any, spool: Any, title: str) -> None:
        self.catalog = catalog
        self.store = store
        self.spool = spool
        self.title = title
        beside = Path(getattr(sink, "name", "") or tempfile.gettempdir()).resolve().parent
        self._work = tempfile.TemporaryDirectory(prefix="wacz-", dir=beside)
        self._index = sqlite3.connect(Path(self._work.name) / "index.db")
        self._index.execute(
            "create table written (id text primary key, offset int, length int, mime text, "
            "status text, digest text)"
        )
        self._index.execute("create table lines (key text, line text)")
        self._index.execute("create table infos (key text primary key)")
        self._pages = open(Path(self._work.name) / "pages.jsonl", "w+b")  # noqa: SIM115
        self._zip = zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED, allowZip64=True)
        info = zipfile.ZipInfo(f"archive/{WARC_NAME}", _zip_time())
        self._warc_entry = self._zip.open(info, "w", force_zip64=True)
        self._warc = _Hashed(self._warc_entry)
        self._warc.write(warcinfo_record(WARC_NAME))
        self.pages = 0

    def add_article(self, article: dict[str, Any]) -> None:
        """Copy the captures of `article` (and the responses its revisits confirm) and list
        it as a page, at the time of its latest capture of its URL."""
        captures = self.catalog.captures_of(article["id"])
        for capture in sorted(captures, key=_responses_first):
            self._copy(capture)
        latest = max(
            (c["fetched_at"] for c in captures if c["url"] == article["url"]),
            default=article["fetched_at"],
        )
        page = {
            "id": article["id"],
            "url": article["url"],
            "ts": latest,
            "title": article.get("title"),
            "text": article.get("text"),
        }
        self._pages.write(json.dumps(page, ensure_ascii=False).encode() + b"\n")
        self.pages += 1

    def _copy(self, capture: dict[str, Any]) -> None:
        """Append the capture's record to the package's WARC file and index it, once."""
        if self._index.execute("select 1 from written where id = ?", [capture["id"]]).fetchone():
            return
        original = None
        if capture["record_type"] == "revisit" and capture.get("refers_to"):
            found = self.catalog.capture(capture["refers_to"])
            if found is not None:
                self._copy(found)
                original = self._index.execute(
                    "select offset, length, mime, status, digest from written where id = ?",
                    [found["id"]],
                ).fetchone()
        key, offset, length = capture["warc_key"], capture["warc_offset"], capture["warc_length"]
        self._copy_warcinfo(key)
        try:
            data = read_span(self.store, self.spool, key, offset, length)
        except KeyError:
            raise PackageError(
                f"the WARC file {key} of capture {capture['id']} is neither in the store nor "
                "in the spool"
            ) from None
        record = next(iter(ArchiveIterator(io.BytesIO(data))))
        headers, http = record.rec_headers, record.http_headers
        offset = self._warc.size
        self._warc.write(data)
        status = http.get_statuscode() if http else "-"
        mime = ((http.get_header("Content-Type") if http else None) or "unk").split(";")[0]
        digest = headers.get_header("WARC-Payload-Digest") or "-"
        self._index.execute(
            "insert into written values (?, ?, ?, ?, ?, ?)",
            [capture["id"], offset, len(data), mime, status, digest],
        )
        url = headers.get_header("WARC-Target-URI")
        fields: dict[str, Any] = {
            "url": url,
            "mime": mime,
            "status": status,
            "digest": digest,
            "length": len(data),
            "offset": offset,
            "filename": WARC_NAME,
        }
        if record.rec_type == "revisit":
            if status.startswith("3") and original is not None:  # a 304: the response it confirms
                names = ("offset", "length", "mime", "status", "digest")
                fields |= dict(zip(names, original, strict=True))
            else:
                fields["mime"] = "warc/revisit"
        key = f"{_surt(url)} {_timestamp(headers.get_header('WARC-Date'))}"
        self._index.execute("insert into lines values (?, ?)", [key, f"{key} {json.dumps(fields)}"])

    def _copy_warcinfo(self, key: str) -> None:
        """Copy the warcinfo record that opens the WARC file `key`, once: the records copied
        from it name it (WARC-Warcinfo-ID)."""
        if self._index.execute("select 1 from infos where key = ?", [key]).fetchone():
            return
        self._index.execute("insert into infos values (?)", [key])
        try:
            head = read_span(self.store, self.spool, key, 0, WARCINFO_MAX)
        except KeyError:
            return  # its captures say so (_copy)
        records = ArchiveIterator(io.BytesIO(head))
        first = next(iter(records), None)
        if first is not None and first.rec_type == "warcinfo":
            records.read_to_end(first)
            self._warc.write(head[: records.get_record_length()])

    def close(self) -> None:
        """Write the index, the page list and the datapackage; the package is complete."""
        self._warc_entry.close()
        resources = [self._warc.resource(f"archive/{WARC_NAME}")]
        resources.append(self._entry("indexes/index.cdxj", self._index_lines(), deflate=True))
        self._pages.seek(0)
        header = [json.dumps(PAGES_HEADER).encode() + b"\n"]
        resources.append(
            self._entry("pages/pages.jsonl", [*header, *iter(self._pages.readline, b"")], True)
        )
        package = {
            "profile": "data-package",
            "wacz_version": WACZ_VERSION,
            "title": self.title,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "software": f"wirearchive {package_version('wirearchive')}",
            "resources": resources,
        }
        data = json.dumps(package, indent=2).encode()
        self._zip.writestr(_info("datapackage.json"), data)
        digest = {"path": "datapackage.json", "hash": f"sha256:{hashlib.sha256(data).hexdigest()}"}
        self._zip.writestr(_info("datapackage-digest.json"), json.dumps(digest).encode())
        self._zip.close()
        self.discard()

    def discard(self) -> None:
        """Drop the temporary files, and let go of the package (the caller's to keep, or to
        delete when it is not complete)."""
        self._warc_entry.close()
        self._zip.close()
        self._pages.close()
        self._index.close()
        self._work.cleanup()

    def _index_lines(self) -> Iterable[bytes]:
        for (line,) in self._index.execute("select line from lines order by key"):
            yield line.encode() + b"\n"

    def _entry(self, path: str, chunks: Iterable[bytes], deflate: bool) -> dict[str, Any]:
        info = _info(path, deflate)
        with self._zip.open(info, "w", force_zip64=True) as entry:
            hashed = _Hashed(entry)
            for chunk in chunks:
                hashed.write(chunk)
        return hashed.resource(path)


def write_wacz(
    articles: Iterable[list[dict[str, Any]]],
    sink: IO[bytes],
    catalog: Any,
    store: Any,
    spool: Any,
    title: str = "wirearchive export",
) -> int:
    """Write the articles of `articles` (batches of export records) as a WACZ to `sink` (a
    seekable file); how many pages it lists."""
    package = Package(sink, catalog, store, spool, title)
    try:
        for batch in articles:
            for article in batch:
                package.add_article(article)
        package.close()
    except BaseException:
        package.discard()
        raise
    return package.pages


def _responses_first(capture: dict[str, Any]) -> tuple[bool, str]:
    return capture["record_type"] == "revisit", capture["fetched_at"]


def _info(path: str, deflate: bool = True) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, _zip_time())
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    return info


def _zip_time() -> tuple[int, int, int, int, int, int]:
    now = datetime.now(UTC)
    return (now.year, now.month, now.day, now.hour, now.minute, now.second)


def _surt(url: str) -> str:
    """The index key of `url`, as pywb and cdxj-indexer make it (surt: imported here, as it
    loads tldextract and requests)."""
    from surt import surt

    return str(surt(url))


def _timestamp(warc_date: str) -> str:
    """A WARC-Date as the 14 digits of a CDXJ line."""
    return "".join(c for c in warc_date if c.isdigit())[:14]
