"""Raw captures as WARC (ISO 28500) records, with warcio.

One capture is a group of gzip members appended together to a WARC file: its response record
(or a revisit record when the payload is already archived, or the server answered 304), the
request record, and a metadata record that ties the capture to its article (and names the
article document a new text version brings), so that `wirearchive reindex` and `ingest` can
rebuild the catalog from the WARC files alone.
"""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.warcwriter import WARCWriter
from zlib_ng import gzip_ng

from archive.core.items import Capture

NOT_MODIFIED = "http://netpreserve.org/warc/1.0/revisit/server-not-modified"
METADATA_TYPE = "application/warc-fields"
GZIP_LEVEL = 6

# A response rebuilt from Scrapy's has the decoded body: its headers must not claim otherwise.
_DROPPED_HEADERS = {"content-length", "content-encoding", "transfer-encoding"}
_REASONS = {200: "OK", 203: "Non-Authoritative Information", 304: "Not Modified"}
_PARSER = StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1"], verify=False)


@dataclass(frozen=True)
class Earlier:
    """The archived capture a revisit record refers to."""

    record_id: str  # the capture id (a UUID)
    url: str
    fetched_at: str


@dataclass(frozen=True)
class CaptureRecords:
    """A capture's records, ready to append to a WARC file."""

    data: bytes  # gzip members: response or revisit, request, metadata
    capture_id: str  # the UUID of the first record's WARC-Record-ID
    record_type: str  # "response" or "revisit"
    first_length: int  # bytes of the first member: what `offset, length` of a capture span


def payload_sha256(body: bytes) -> str:
    """Hex sha256 of a response body."""
    return hashlib.sha256(body).hexdigest()


def payload_digest(body: bytes) -> str:
    """The WARC-Payload-Digest of a body, as warcio writes it (sha1, base32)."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def capture_records(
    capture: Capture,
    metadata: Mapping[str, str | None],
    earlier: Earlier | None = None,
    warcinfo_id: str | None = None,
) -> CaptureRecords:
    """The WARC records of one capture; `metadata` fields that are None are left out. With
    `earlier`, the response is a revisit record (server-not-modified for a 304,
    identical-payload-digest otherwise). `warcinfo_id`: the WARC-Record-ID of the warcinfo
    record of the file they go into, named by each of them."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False)
    date = _warc_date(capture.fetched_at)
    status = capture.status_code or 200
    http_headers, body = _http_response(capture)
    info = {"WARC-Warcinfo-ID": warcinfo_id} if warcinfo_id else {}
    warc_headers = {"WARC-Date": date, **info, **_ip_header(capture)}
    if earlier is None:
        first = writer.create_warc_record(
            capture.url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http_headers,
            warc_headers_dict=warc_headers,
        )
    else:
        first = writer.create_revisit_record(
            capture.url,
            payload_digest(body),
            earlier.url,
            _warc_date(earlier.fetched_at),
            http_headers=http_headers,
            warc_headers_dict=warc_headers | {"WARC-Refers-To": _record_id(earlier.record_id)},
        )
        if status == 304:
            first.rec_headers.replace_header("WARC-Profile", NOT_MODIFIED)
            first.rec_headers.remove_header("WARC-Payload-Digest")
    first_id = first.rec_headers.get_header("WARC-Record-ID")
    parts = urlsplit(capture.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = writer.create_warc_record(
        capture.url,
        "request",
        http_headers=StatusAndHeaders(
            f"GET {target} HTTP/1.1",
            [("Host", parts.netloc), *capture.request_headers],
            is_http_request=True,
        ),
        warc_headers_dict={"WARC-Date": date, **info, "WARC-Concurrent-To": first_id},
    )
    fields = "".join(f"{k}: {v}\r\n" for k, v in metadata.items() if v is not None).encode()
    meta = writer.create_warc_record(
        capture.url,
        "metadata",
        payload=io.BytesIO(fields),
        length=len(fields),
        warc_content_type=METADATA_TYPE,
        warc_headers_dict={"WARC-Date": date, **info, "WARC-Concurrent-To": first_id},
    )
    members = [_member(writer, out, record) for record in (first, request, meta)]
    return CaptureRecords(b"".join(members), _uuid(first_id), first.rec_type, len(members[0]))


def stored_payload(capture: Capture) -> bytes:
    """The body a capture's record keeps: as received (before content decoding) when the
    download handler kept it, else the decoded one."""
    if capture.wire_head is not None:
        return capture.wire_body or b""
    return capture.body


def _http_response(capture: Capture) -> tuple[StatusAndHeaders, bytes]:
    """The HTTP head and payload of a capture's record: as received (status line, header
    names, case and order; the body before content decoding, dechunked) when the download
    handler kept them, else rebuilt from Scrapy's response with the decoded body (and
    without the headers that would misdescribe it)."""
    if capture.wire_head is not None:
        head = io.BytesIO(capture.wire_head + b"\r\n\r\n")
        return _PARSER.parse(head), stored_payload(capture)
    status = capture.status_code or 200
    headers = [(k, v) for k, v in capture.headers if k.lower() not in _DROPPED_HEADERS]
    if status != 304:
        headers.append(("Content-Length", str(len(capture.body))))
    reason = f"{status} {_REASONS.get(status, '')}".strip()
    return StatusAndHeaders(reason, headers, protocol="HTTP/1.1"), capture.body


def _member(writer: WARCWriter, out: io.BytesIO, record: Any) -> bytes:
    """One record as its own gzip member: zlib-ng at level 6 (half of zlib's CPU for files
    1% larger; warcio's level 9 costs twice as much again for 1% smaller files)."""
    out.seek(0)
    out.truncate()
    writer.write_record(record)
    return gzip_ng.compress(out.getvalue(), compresslevel=GZIP_LEVEL, mtime=0)


def warcinfo_record(
    filename: str, info: Mapping[str, str | None] | None = None, record_id: str | None = None
) -> bytes:
    """The warcinfo record that opens each WARC file: the software and format, the robots
    policy, and `info` (operator, description, user agent, sources: those that are set);
    `record_id` is its WARC-Record-ID (a new one when None), which every record of the file
    names in its WARC-Warcinfo-ID."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    software = [f"{name}/{package_version(name)}" for name in ("wirearchive", "warcio")]
    fields = {
        "software": " ".join(software),
        "format": "WARC File Format 1.0",
        "conformsTo": "http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf",
        "robots": "obey",  # robots.txt is always obeyed (RFC 9309)
        **{name: value for name, value in (info or {}).items() if value},
    }
    record = writer.create_warcinfo_record(filename, fields)
    if record_id is not None:
        record.rec_headers.replace_header("WARC-Record-ID", record_id)
    writer.write_record(record)
    return out.getvalue()


def new_record_id() -> str:
    """A WARC-Record-ID: a UUID URN in angle brackets."""
    return _record_id(str(uuid.uuid4()))


def package_version(package: str) -> str:
    """The installed version of `package` ("unknown" for a checkout not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:  # a checkout run without installing it
        return "unknown"


@dataclass
class StoredResponse:
    """A response record read back from a WARC file."""

    url: str
    date: str  # ISO 8601, UTC
    headers: StatusAndHeaders  # as received (records before 0.9: rebuilt, see docs/storage.md)
    payload: bytes  # the body as stored: as received, before content decoding
    body: bytes  # the body decoded (Content-Encoding undone): what extraction reads


def read_response(data: bytes) -> StoredResponse:
    """The first response record in `data` (a capture's span of a WARC file, or a whole one)."""
    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type == "response":
            payload = record.raw_stream.read()
            return StoredResponse(
                url=record.rec_headers.get_header("WARC-Target-URI"),
                date=iso_date(record.rec_headers.get_header("WARC-Date", "")),
                headers=record.http_headers,
                payload=payload,
                body=_decoded(record.http_headers, payload),
            )
    raise ValueError("no response record here")


def _decoded(headers: StatusAndHeaders, payload: bytes) -> bytes:
    """`payload` with its Content-Encoding (and any chunked framing) undone, as warcio reads
    a record's content."""
    record = ArcWarcRecord("warc", "response", None, io.BytesIO(payload), headers, "", None)
    return bytes(record.content_stream().read())


def stored_response(data: bytes, decoded: bool = False) -> bytes:
    """The HTTP response kept in a WARC span: status line, headers, blank line, body, as
    received; `decoded`: with the body decoded and the headers that describe the encoding
    (Content-Encoding, Transfer-Encoding, Content-Length) replaced by the decoded length."""
    response = read_response(data)
    if not decoded:
        return response.headers.to_bytes() + response.payload
    headers = [(k, v) for k, v in response.headers.headers if k.lower() not in _DROPPED_HEADERS]
    headers.append(("Content-Length", str(len(response.body))))
    status = StatusAndHeaders(
        response.headers.statusline, headers, protocol=response.headers.protocol
    )
    return status.to_bytes() + response.body


@dataclass
class ScannedCapture:
    """One capture found by reading a WARC file through (for `wirearchive reindex`)."""

    capture_id: str
    record_type: str
    url: str
    fetched_at: str
    status_code: int | None
    content_type: str | None
    warc_offset: int
    warc_length: int
    length: int
    payload_sha256: str | None  # None for a revisit (it is its original's)
    refers_to: str | None
    metadata: dict[str, str]


def scan_captures(stream: IO[bytes]) -> Iterator[ScannedCapture]:
    """Every capture in a WARC file, with its metadata record's fields, in file order."""
    iterator = ArchiveIterator(stream)
    pending: ScannedCapture | None = None
    for record in iterator:
        kind = record.rec_type
        headers = record.rec_headers
        if kind in ("response", "revisit"):
            if pending is not None:
                yield pending
            body = record.raw_stream.read() if kind == "response" else b""  # as stored
            http = record.http_headers
            refers = headers.get_header("WARC-Refers-To")
            pending = ScannedCapture(
                capture_id=_uuid(headers.get_header("WARC-Record-ID")),
                record_type=kind,
                url=headers.get_header("WARC-Target-URI"),
                fetched_at=iso_date(headers.get_header("WARC-Date", "")),
                status_code=int(http.get_statuscode()) if http else None,
                content_type=http.get_header("Content-Type") if http else None,
                warc_offset=iterator.get_record_offset(),
                warc_length=0,
                length=len(body),
                payload_sha256=payload_sha256(body) if kind == "response" else None,
                refers_to=_uuid(refers) if refers else None,
                metadata={},
            )
            iterator.read_to_end(record)
            pending.warc_length = iterator.get_record_length()
        elif (
            kind == "metadata"
            and pending is not None
            and headers.get_header("WARC-Concurrent-To") == _record_id(pending.capture_id)
        ):
            pending.metadata = _fields(record.content_stream().read())
    if pending is not None:
        yield pending


def record_groups(stream: IO[bytes]) -> Iterator[tuple[str | None, int]]:
    """(capture id the record belongs to, offset just past it) for each record of a WARC
    file; None for records of no capture (warcinfo). Stops quietly at a truncated record."""
    iterator = ArchiveIterator(stream)
    try:
        for record in iterator:
            headers = record.rec_headers
            if record.rec_type in ("response", "revisit"):
                owner: str | None = headers.get_header("WARC-Record-ID")
            else:
                owner = headers.get_header("WARC-Concurrent-To")
            iterator.read_to_end(record)
            end = iterator.get_record_offset() + iterator.get_record_length()
            yield (_uuid(owner) if owner else None), end
    except Exception:  # a torn tail record ends the file; warcio raises several kinds
        return


def iso_date(warc_date: str) -> str:
    """A WARC-Date as the catalog's ISO 8601 form."""
    return warc_date.replace("Z", "+00:00")


def _warc_date(iso: str) -> str:
    return iso.replace("+00:00", "Z")


def _uuid(record_id: str) -> str:
    return record_id.strip("<>").removeprefix("urn:uuid:")


def _record_id(capture_id: str) -> str:
    return f"<urn:uuid:{capture_id}>"


def _fields(data: bytes) -> dict[str, str]:
    fields = {}
    for line in data.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def _ip_header(capture: Capture) -> dict[str, str]:
    return {"WARC-IP-Address": capture.ip_address} if capture.ip_address else {}
