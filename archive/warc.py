"""Raw captures as WARC (ISO 28500) request and response records, with warcio."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawlers.items import Capture

# The body Scrapy hands over is already decoded, so the stored headers must not claim otherwise.
_DROPPED_HEADERS = {"content-length", "content-encoding", "transfer-encoding"}
_REASONS = {200: "OK", 203: "Non-Authoritative Information"}


def payload_sha256(capture: Capture) -> str:
    """Hex sha256 of the response body."""
    return hashlib.sha256(capture.body).hexdigest()


def capture_key(capture: Capture) -> str:
    """The object key of a capture's WARC: one per distinct (URL, body)."""
    digest = hashlib.sha256(f"{capture.url}\n{payload_sha256(capture)}".encode()).hexdigest()
    return f"raw/{digest[:2]}/{digest}.warc.gz"


def capture_warc(capture: Capture) -> bytes:
    """A gzipped WARC file holding the capture's request and response records."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    date = capture.fetched_at.replace("+00:00", "Z")
    status = capture.status_code or 200
    response_headers = [(k, v) for k, v in capture.headers if k.lower() not in _DROPPED_HEADERS]
    response_headers.append(("Content-Length", str(len(capture.body))))
    response = writer.create_warc_record(
        capture.url,
        "response",
        payload=io.BytesIO(capture.body),
        length=len(capture.body),
        http_headers=StatusAndHeaders(
            f"{status} {_REASONS.get(status, '')}".strip(), response_headers, protocol="HTTP/1.1"
        ),
        warc_headers_dict={"WARC-Date": date, **_ip_header(capture)},
    )
    parts = urlsplit(capture.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_headers = [("Host", parts.netloc), *capture.request_headers]
    request = writer.create_warc_record(
        capture.url,
        "request",
        http_headers=StatusAndHeaders(
            f"GET {target} HTTP/1.1", request_headers, is_http_request=True
        ),
        warc_headers_dict={
            "WARC-Date": date,
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
        },
    )
    writer.write_record(response)
    writer.write_record(request)
    return out.getvalue()


@dataclass
class StoredResponse:
    """The response record of a capture's WARC."""

    url: str
    date: str  # ISO 8601, UTC
    headers: StatusAndHeaders
    body: bytes


def read_response(warc: bytes) -> StoredResponse:
    """The response record kept in a capture's WARC file."""
    for record in ArchiveIterator(io.BytesIO(warc)):
        if record.rec_type == "response":
            return StoredResponse(
                url=record.rec_headers.get_header("WARC-Target-URI"),
                date=record.rec_headers.get_header("WARC-Date", "").replace("Z", "+00:00"),
                headers=record.http_headers,
                body=record.content_stream().read(),
            )
    raise ValueError("no response record in this WARC")


def stored_response(warc: bytes) -> bytes:
    """The HTTP response kept in a capture's WARC: status line, headers, blank line, body."""
    response = read_response(warc)
    return response.headers.to_bytes() + response.body


def _ip_header(capture: Capture) -> dict[str, str]:
    return {"WARC-IP-Address": capture.ip_address} if capture.ip_address else {}
