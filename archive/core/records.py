"""The records, declared once: the article's fields (name, Python type, nullability, meaning) and
the captures row.

The catalog's `articles` row holds every field. The stored JSON document, the export schema
and the HTTP API's article model (made from it: archive/service/apimodels.py) each carry a
subset, chosen here with the `document`, `export` and `api` flags, in the order of
ARTICLE_FIELDS; `tests/test_records.py` checks that the catalog, the document, the export
formats and the API agree with this declaration.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    """One field of a record: `type` is str, int, float, bool, list[str] or dict[str, Any]
    (lists and dicts are JSON text in the catalog; bools are 0/1 integers there)."""

    name: str
    type: Any
    meaning: str
    nullable: bool = True
    document: bool = True  # in the stored JSON document of an article version
    export: bool = True  # in `wirearchive export`
    api: bool = True  # in the HTTP API's article


ARTICLE_FIELDS: tuple[Field, ...] = (
    Field(
        "id",
        str,
        "article id: the first 20 hex digits of the canonical URL's sha256",
        nullable=False,
    ),
    Field("url", str, "where it was fetched, after redirects", nullable=False),
    Field("canonical_url", str, "its identity URL", nullable=False),
    Field("title", str, "metadata"),
    Field("author", str, "metadata"),
    Field("published", str, "publication date (see above)"),
    Field("modified", str, "modification date (see above)"),
    Field("sitename", str, "metadata"),
    Field("hostname", str, "metadata"),
    Field("language", str, "metadata"),
    Field("description", str, "metadata"),
    Field(
        "categories", list[str], "as the page or platform gives them (JSON array in the catalog)"
    ),
    Field("tags", list[str], "as the page or platform gives them (JSON array in the catalog)"),
    Field("image", str, "the page's image URL"),
    Field("text", str, "the extracted text", nullable=False),
    Field("wire_source", str, "the wire service the copy is attributed to, or null"),
    Field(
        "content_sha256",
        str,
        "hash of the normalised text (NFKC, case folded, whitespace collapsed)",
        nullable=False,
    ),
    Field(
        "cluster_id",
        str,
        "the story (near-duplicate cluster), named by its first-seen member",
        document=False,
    ),
    Field(
        "similarity",
        float,
        "estimated similarity to the story's first-seen member (1.0 for that member)",
        document=False,
    ),
    Field("duplicate_of", str, "id of the first article with the same text, or null"),
    Field("source", str, "source name, or `on-demand`"),
    Field("first_seen", str, "first archived"),
    Field("fetched_at", str, "last fetched"),
    Field(
        "capture_id",
        str,
        "the capture (response record) the text was extracted from",
        export=False,
    ),
    Field(
        "raw_key",
        str,
        "the WARC file in the store holding the response record the text came from",
        nullable=False,
    ),
    Field("raw_offset", int, "byte offset of that response record in the WARC file"),
    Field("raw_length", int, "byte length of that response record"),
    Field("json_key", str, "the article's JSON document in the store", nullable=False),
    Field("extractor", str, "the extractor version that produced `text`"),
    Field("guid", str, "the feed's guid", export=False),
    Field(
        "listing",
        dict[str, Any],
        "what the feed, sitemap or API listed (URL, guid, title, published, updated, "
        "author, categories, tags, terms, site name, protected, platform), as JSON",
        export=False,
    ),
    Field(
        "pending",
        bool,
        "1 while the store lacks one of its objects (they wait in the spool); "
        "pending articles are left out of search and exports",
        nullable=False,
        document=False,
        export=False,
    ),
    Field(
        "gone_at",
        str,
        "when the post answered 404/410 after leaving its site's listing "
        "(null while live; it stays archived)",
        document=False,
    ),
    Field(
        "protected",
        bool,
        "1 while the post is behind a password (`text` is its last public one)",
        nullable=False,
        document=False,
    ),
)


# What an export adds to each article: which of the article's versions the record is. Not
# catalog columns: the current text is the article's row, earlier ones its `revisions`.
VERSION_FIELDS: tuple[Field, ...] = (
    Field(
        "version",
        int,
        "which text of the article this is: 1 for the first, the current one the highest",
        nullable=False,
        document=False,
        api=False,
    ),
    Field(
        "superseded_at",
        str,
        "when a later version replaced this text (null for the current one)",
        document=False,
        api=False,
    ),
)


def document_fields() -> tuple[str, ...]:
    """The names of the fields of a stored article document."""
    return tuple(field.name for field in ARTICLE_FIELDS if field.document)


def export_fields() -> tuple[Field, ...]:
    """The fields `wirearchive export` writes, in order: the article's, then its version's."""
    return tuple(field for field in ARTICLE_FIELDS if field.export) + VERSION_FIELDS


def api_fields() -> tuple[Field, ...]:
    """The fields of the HTTP API's article (it adds revisions, captures, story, raw_url)."""
    return tuple(field for field in ARTICLE_FIELDS if field.api)


@dataclass(frozen=True)
class CaptureRow:
    """The `captures` row of one stored fetch (a WARC response or revisit record): the crawl
    pipeline and `wirearchive ingest` both build it here, so the row has one shape."""

    id: str  # the UUID of its WARC-Record-ID
    url: str | None  # the URL fetched, after redirects
    input_url: str | None  # the URL as given or listed
    status_code: int | None
    content_type: str | None
    fetched_at: str | None
    payload_sha256: str | None  # sha256 of the body
    length: int | None  # body length in bytes (a revisit's is its original's)
    record_type: str  # "response" or "revisit"
    warc_key: str
    warc_offset: int
    warc_length: int
    refers_to: str | None  # a revisit's original capture
    article_id: str | None
    source: str | None

    def row(self) -> dict[str, Any]:
        """The row as the catalog takes it, column by column."""
        return asdict(self)
