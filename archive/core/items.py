"""The item that travels through the pipelines: one fetch of one URL and what became of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Outcomes of one URL, as `wirearchive add` reports them. Skipped: fetched, and not an
# article to archive (a listing page, a post behind a password with no public text yet).
ARCHIVED, DUPLICATE, UNCHANGED, SKIPPED, FAILED, REFUSED = (
    "archived",
    "duplicate",
    "unchanged",
    "skipped",
    "failed",
    "refused",
)


@dataclass
class Capture:
    """One fetch (or failed fetch) of a URL; pipelines fill in the article and the outcome."""

    input_url: str  # the URL as asked for (before redirects)
    url: str  # the final URL after redirects
    source: str = "on-demand"
    status_code: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""  # decoded (Content-Encoding undone): what extraction reads
    # The response as it came off the wire, for the WARC record (crawlers/handlers.py): the
    # status line and header lines, CRLF-separated, and the body before content decoding;
    # None when the download handler did not keep them (the record is then rebuilt from
    # `status_code`, `headers` and `body`).
    wire_head: bytes | None = None
    wire_body: bytes | None = None
    fetched_at: str = ""
    ip_address: str | None = None
    # What the feed, sitemap or API listing said about the post (archive.core.entries.Entry).
    entry: dict[str, Any] | None = None
    # Filled in by pipelines/extract.
    article: dict[str, Any] | None = None
    # Filled in by pipelines/dedup.
    article_id: str | None = None
    canonical_url: str | None = None
    content_sha256: str | None = None
    duplicate_of: str | None = None
    revision_of: str | None = None  # the version (article_version) this capture's replaces
    version: str | None = None  # archive.storage.documents.article_version of title and text
    protected: bool = False  # behind a password: the archived text stays current
    # Filled in by pipelines/archive: the keys of the objects (WARC file, article document)
    # this capture's archiving waits on the store for.
    objects: tuple[str, ...] = ()
    # False: the URL ledger keeps nothing of this fetch, so that the next crawl fetches it
    # again in full (a post skipped as older than --since).
    remember: bool = True
    # The outcome: set once, by whichever stage decides it; later stages pass it through.
    status: str | None = None
    reason: str | None = None

    def settle(self, status: str, reason: str | None = None) -> Capture:
        """Record the outcome of this URL and drop the body that is no longer needed."""
        self.status, self.reason = status, reason
        if status in (FAILED, REFUSED):
            self.body = self.wire_body = b""
        return self

    def result(self) -> dict[str, Any]:
        """The line `wirearchive add` prints for this URL."""
        line: dict[str, Any] = {"url": self.input_url, "status": self.status, "id": self.article_id}
        if self.url != self.input_url:
            line["final_url"] = self.url
        if self.duplicate_of:
            line["duplicate_of"] = self.duplicate_of
        if self.revision_of:
            line["revised"] = True
        if self.reason:
            line["reason"] = self.reason
        return line
