"""Request and response models of the HTTP API (they make its OpenAPI description)."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    create_model,
)

from archive.core.addresses import MAX_URL_LENGTH
from archive.core.records import Field as RecordField
from archive.core.records import api_fields

MAX_URLS = 100
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


def _json_object(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value or {}


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Url = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=MAX_URL_LENGTH,
        pattern=r"^[^\s\x00-\x1f\x7f]+$",  # one URL a line for `wirearchive add`
    ),
]


class Error(BaseModel):
    """An error: `detail` says what was wrong."""

    detail: str


class ArchiveOne(BaseModel):
    """Archive one URL."""

    model_config = ConfigDict(extra="forbid")
    url: Url


class ArchiveMany(BaseModel):
    """Archive several URLs in one job."""

    model_config = ConfigDict(extra="forbid")
    urls: list[Url] = Field(min_length=1, max_length=MAX_URLS)


def _body_kind(value: Any) -> str:
    return "urls" if isinstance(value, dict) and "urls" in value else "url"


ArchiveRequest = Annotated[
    Annotated[ArchiveOne, Tag("url")] | Annotated[ArchiveMany, Tag("urls")],
    Discriminator(_body_kind),  # errors name the fields of the form the body has
]


class UrlResult(BaseModel):
    """The line `wirearchive add` printed for one URL."""

    url: str
    status: str = Field(description="archived, duplicate, unchanged, pending, failed, refused")
    id: str | None = None
    reason: str | None = None
    final_url: str | None = None
    duplicate_of: str | None = None
    revised: bool | None = None


class JobOut(BaseModel):
    """An archive job and, once done, the result of each URL."""

    id: str
    status: Literal["queued", "running", "done", "failed"]
    urls: list[str]
    results: list[UrlResult]
    submitted_at: str
    started_at: str | None
    finished_at: str | None
    error: str | None


class ArticleSummary(BaseModel):
    """An article in a list; `snippet` and `rank` for search results."""

    id: str
    url: str
    title: str | None
    published: str | None
    sitename: str | None
    wire_source: str | None
    duplicate_of: str | None
    cluster_id: str | None
    first_seen: str | None = None
    snippet: str | None = None
    rank: float | None = None


class ArticlePage(BaseModel):
    """One page of articles; `next_offset` is null on the last page."""

    items: list[ArticleSummary]
    limit: int
    offset: int
    next_offset: int | None


class Revision(BaseModel):
    """An earlier text of an edited article."""

    id: str
    content_sha256: str | None
    title: str | None
    text: str | None
    json_key: str | None
    raw_key: str | None
    raw_offset: int | None
    raw_length: int | None
    fetched_at: str | None
    superseded_at: str | None


class CaptureOut(BaseModel):
    """One stored fetch: a WARC response or revisit record."""

    id: str
    url: str | None
    input_url: str | None
    status_code: int | None
    content_type: str | None
    fetched_at: str | None
    payload_sha256: str | None
    length: int | None
    record_type: str | None
    warc_key: str | None
    warc_offset: int | None
    warc_length: int | None
    refers_to: str | None
    source: str | None


class StoryMember(BaseModel):
    """A copy of a story."""

    id: str
    url: str
    title: str | None
    sitename: str | None
    published: str | None
    first_seen: str | None = None
    wire_source: str | None
    similarity: float | None
    duplicate_of: str | None


class Story(BaseModel):
    """A story (near-duplicate cluster) and its copies."""

    id: str
    size: int
    origin_id: str | None
    wire_source: str | None
    first_published: str | None
    updated_at: str | None
    members: list[StoryMember]


def _declared(field: RecordField) -> tuple[Any, Any]:
    """A declared article field as a pydantic field: its type, required, its meaning."""
    annotation = field.type | None if field.nullable else field.type
    return annotation, Field(description=field.meaning)


# An archived article with its revisions, captures and story: the declared record's API
# fields (archive/core/records.py), in their order, and what the API adds to them.
Article = create_model(
    "Article",
    __doc__="An archived article with its revisions, captures and story.",
    **{field.name: _declared(field) for field in api_fields()},  # type: ignore[call-overload]
    revisions=(list[Revision], ...),
    captures=(list[CaptureOut], ...),
    cluster=(Story | None, ...),
    raw_url=(str, Field(description="the stored HTTP response, as a download")),
)


class CrawlSource(BaseModel):
    """One source's counts in a crawl."""

    source: str
    kind: str | None
    via: str | None
    status: str | None
    reason: str | None
    discovered: int | None
    fetched: int | None
    not_modified: int | None
    skipped: int | None
    new_articles: int | None
    revisions: int | None
    duplicates: int | None
    unchanged: int | None
    failed: int | None
    errors: Annotated[dict[str, int], BeforeValidator(_json_object)]
    started_at: str | None
    finished_at: str | None


class Crawl(BaseModel):
    """A crawl run and its per-source counts."""

    id: int
    started_at: str | None
    finished_at: str | None
    status: str | None
    sources_file: str | None
    pid: int | None = None
    sources: list[CrawlSource]


class Stats(BaseModel):
    """What the archive holds, and the recent crawls."""

    articles: int
    duplicates: int
    captures: int
    pending: int
    sites: int
    wire_sources: dict[str, int]
    latest_fetch: str | None
    schema_version: int
    crawls: list[Crawl]
