"""The records' one declaration (archive.core.records) and the places that carry it: the
catalog's `articles` and `captures` tables, the stored JSON document, every export format and
the API."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sqlite3
import typing
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from archive.app.export import WRITERS, Selection, select_articles
from archive.core.items import Capture
from archive.core.records import (
    ARTICLE_FIELDS,
    CaptureRow,
    Field,
    api_fields,
    document_fields,
    export_fields,
)
from archive.service.apimodels import Article
from archive.storage.catalog import Catalog
from archive.storage.warcfile import WarcLocation
from pipelines.archive import article_row
from tests.conftest import Archive

# The SQLite column type a field's Python type is stored as (lists and dicts as JSON text,
# bools as 0/1).
SQLITE_TYPES: dict[Any, str] = {
    str: "TEXT",
    int: "INTEGER",
    bool: "INTEGER",
    float: "REAL",
    list[str]: "TEXT",
    dict[str, Any]: "TEXT",
}
EXPORT_NAMES = [field.name for field in export_fields()]


def _python_value_fits(field: Field, value: Any) -> bool:
    if value is None:
        return field.nullable
    kind = typing.get_origin(field.type) or field.type
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def test_the_declaration_names_each_field_once_with_a_meaning() -> None:
    names = [field.name for field in ARTICLE_FIELDS]
    assert len(names) == len(set(names))
    assert all(field.meaning and field.type in SQLITE_TYPES for field in ARTICLE_FIELDS)


def test_a_fresh_catalog_stores_every_declared_field_with_a_compatible_type(
    tmp_path: Path,
) -> None:
    catalog = Catalog(tmp_path / "archive.db")
    try:
        columns = {column.name: column for column in catalog.db.table("articles").columns}
    finally:
        catalog.close()
    assert set(columns) == {field.name for field in ARTICLE_FIELDS}
    for field in ARTICLE_FIELDS:
        column = columns[field.name]
        assert column.type == SQLITE_TYPES[field.type], field.name
        if not field.nullable:
            assert column.notnull or column.is_pk, field.name


def test_the_pipeline_builds_the_declared_row_but_the_index_fields() -> None:
    item = Capture(
        "https://example.org/a",
        "https://example.org/a",
        fetched_at="2026-01-01T00:00:00+00:00",
        article={"text": "Text."},
        article_id="a" * 20,
        canonical_url="https://example.org/a",
        content_sha256="b" * 64,
    )
    row = article_row(item, WarcLocation("warcs/x.warc.gz", 0, 10), "c", None)
    index = {"cluster_id", "similarity", "pending"}  # set by the story index and the spool
    assert set(row) == {field.name for field in ARTICLE_FIELDS} - index


def test_the_captures_row_has_the_catalog_columns(
    tmp_path: Path, small_archive: tuple[Archive, dict[str, str]]
) -> None:
    catalog = Catalog(tmp_path / "archive.db")
    try:
        columns = [column.name for column in catalog.db.table("captures").columns]
    finally:
        catalog.close()
    assert sorted(f.name for f in dataclasses.fields(CaptureRow)) == sorted(columns)
    archive, _ = small_archive
    db = sqlite3.connect(f"file:{archive.db}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        rows = [dict(row) for row in db.execute("select * from captures")]
    finally:
        db.close()
    assert rows
    for row in rows:  # a row add stored round-trips through the record
        assert CaptureRow(**row).row() == row


def test_the_api_article_carries_the_declared_fields_and_types() -> None:
    declared = {field.name: field for field in api_fields()}
    own = {"revisions", "captures", "cluster", "raw_url"}  # what the API adds to the record
    assert set(Article.model_fields) == set(declared) | own
    for name, field in declared.items():
        expected = field.type if not field.nullable else field.type | None
        assert Article.model_fields[name].annotation == expected, name


def test_every_export_format_carries_the_declared_fields_in_order(
    small_archive: tuple[Archive, dict[str, str]],
) -> None:
    archive, _ = small_archive
    outputs: dict[str, bytes] = {}
    db = sqlite3.connect(f"file:{archive.db}?mode=ro", uri=True)
    try:
        for name, write in WRITERS.items():
            sink = io.BytesIO()
            assert write(select_articles(db, Selection(include_duplicates=True)), sink) == 3
            outputs[name] = sink.getvalue()
    finally:
        db.close()
    lines = outputs["jsonl"].decode().splitlines()
    assert [list(json.loads(line)) for line in lines] == [EXPORT_NAMES] * 3
    for line in lines:
        record = json.loads(line)
        for field in export_fields():
            assert _python_value_fits(field, record[field.name]) or (
                field.type is bool and record[field.name] in (0, 1)
            ), field.name
    assert next(csv.reader(io.StringIO(outputs["csv"].decode()))) == EXPORT_NAMES
    schema = pq.read_schema(pa.BufferReader(outputs["parquet"]))
    assert schema.names == EXPORT_NAMES
    lists = {field.name for field in export_fields() if field.type == list[str]}
    assert {f.name for f in schema if pa.types.is_list(f.type)} == lists


def test_a_document_written_by_add_carries_the_declared_fields(
    small_archive: tuple[Archive, dict[str, str]],
) -> None:
    archive, ids = small_archive
    db = sqlite3.connect(f"file:{archive.db}?mode=ro", uri=True)
    try:
        keys = [row[0] for row in db.execute("select json_key from articles order by id")]
    finally:
        db.close()
    assert len(keys) == len(ids)
    fields = {field.name: field for field in ARTICLE_FIELDS}
    for key in keys:
        document = json.loads((archive.objects / key).read_bytes())
        assert set(document) == set(document_fields())
        for name, value in document.items():
            assert _python_value_fits(fields[name], value), (key, name, value)
