"""The stored article documents: one JSON object per text version, under a stable key."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from archive.core.records import document_fields

# The fields of a stored article document, declared in archive.core.records; the `articles`
# row's other fields (cluster, similarity, pending, gone_at, protected) are not stored in it.
DOCUMENT_FIELDS = document_fields()


def article_version(title: str | None, content_sha256: str) -> str:
    """What tells one version of an article from another: its text and its headline (a
    headline-only edit is a new version, like an edit of the text)."""
    return hashlib.sha256(f"{content_sha256}\n{title or ''}".encode()).hexdigest()


def article_key(article_id: str, version: str) -> str:
    """The object key of one version of one article (`article_version`; catalogs before
    schema 8 named versions by their text's content_sha256)."""
    return f"articles/{article_id[:2]}/{article_id}/{version[:16]}.json"


def article_document(row: dict[str, Any]) -> bytes:
    """The stored JSON of one article version, from its row (the same bytes from the row the
    pipeline built and from the catalog's copy of it)."""
    record = {name: row.get(name) for name in DOCUMENT_FIELDS}
    return json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")
