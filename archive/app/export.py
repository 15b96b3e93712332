"""`wirearchive export`: the catalog's articles as JSON lines, CSV or Parquet, streamed.

Rows are read from one SQL cursor in batches of BATCH_ROWS and written batch by batch, so an
export of any size runs in constant memory. Every format has the fields of FIELDS, in order.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from archive.app.progress import Report
from archive.core.records import export_fields

BATCH_ROWS = 1000

# The export schema: (field, kind), derived from the article record's exported fields. Kinds:
# "string"; "strings", a list of strings (a JSON array in CSV); "float"; "int" (bools are 0/1).
# Dates are ISO strings in UTC: `published` and `modified` are ISO 8601 with time
# ("2024-03-01T03:30:00+00:00") when the source gave a time, else a YYYY-MM-DD date;
# `first_seen`, `fetched_at` and `gone_at` ISO 8601.
_KINDS: dict[Any, str] = {
    str: "string",
    list[str]: "strings",
    float: "float",
    int: "int",
    bool: "int",
}
FIELDS: tuple[tuple[str, str], ...] = tuple((f.name, _KINDS[f.type]) for f in export_fields())
_LISTS = tuple(name for name, kind in FIELDS if kind == "strings")

Record = dict[str, Any]
Batches = Iterable[list[Record]]


@dataclass(frozen=True)
class Selection:
    """Which articles to export: `since`/`until` bound `published` (YYYY-MM-DD, inclusive)."""

    since: str | None = None
    until: str | None = None
    source: str | None = None
    cluster: str | None = None
    include_duplicates: bool = False
    all_versions: bool = False  # every text of each article, not only its current one


def _where(selection: Selection) -> tuple[str, dict[str, Any]]:
    """The SQL condition and parameters that pick the selected articles (`a`)."""
    where = ["a.pending = 0"]
    params: dict[str, Any] = {}
    if selection.since:
        where.append("a.published >= :since")
        params["since"] = selection.since
    if selection.until:  # a published value with a time of day still counts for its day
        where.append("a.published < date(:until, '+1 day')")
        params["until"] = selection.until
    if selection.source:
        where.append("a.source = :source")
        params["source"] = selection.source
    if selection.cluster:
        where.append("a.cluster_id = :cluster")
        params["cluster"] = selection.cluster
    if not selection.include_duplicates:
        where.append("a.duplicate_of is null")
    return " and ".join(where), params


def count_articles(db: sqlite3.Connection, selection: Selection) -> int:
    """How many records `select_articles` yields."""
    where, params = _where(selection)
    count = db.execute(f"select count(*) from articles a where {where}", params).fetchone()[0]
    if selection.all_versions:
        count += db.execute(
            f"select count(*) from revisions r join articles a on a.id = r.article_id "
            f"where {where}",
            params,
        ).fetchone()[0]
    return int(count)


# Fields an article's earlier version has of its own (the rest are the article's).
_REVISION_FIELDS = frozenset(
    {"title", "text", "content_sha256", "json_key", "raw_key", "raw_offset", "raw_length"}
    | {"fetched_at", "superseded_at"}
)


def _query(selection: Selection) -> str:
    """The SQL of the selected records, oldest article first, its versions in order."""
    where, _ = _where(selection)
    current = ", ".join(
        "(select count(*) + 1 from revisions v where v.article_id = a.id) as version"
        if name == "version"
        else "null as superseded_at"
        if name == "superseded_at"
        else f"a.{name}"
        for name, _ in FIELDS
    )
    query = f"select {current} from articles a where {where}"
    if selection.all_versions:
        earlier = ", ".join(
            f"r.{name}" if name in _REVISION_FIELDS | {"version"} else f"a.{name}"
            for name, _ in FIELDS
        )
        query += (
            f" union all select {earlier} from (select *, row_number() over "
            "(partition by article_id order by fetched_at, id) as version from revisions) r "
            f"join articles a on a.id = r.article_id where {where}"
        )
    return f"select * from ({query}) order by first_seen, id, version"


def select_articles(
    db: sqlite3.Connection, selection: Selection, progress: Report | None = None
) -> Iterator[list[Record]]:
    """The selected articles in batches of export records, oldest first (first_seen, id);
    with `all_versions`, each article's earlier versions too, before its current one.

    Rows still pending (their objects wait in the spool, not yet in the store) are never
    selected; duplicates only with `include_duplicates`. `progress` hears of the records
    the consumer has taken (and then the selection is counted first).
    """
    _, params = _where(selection)
    total = count_articles(db, selection) if progress else 0
    done = 0
    cursor = db.execute(_query(selection), params)
    try:
        while rows := cursor.fetchmany(BATCH_ROWS):
            yield [_record(row) for row in rows]
            done += len(rows)
            if progress:
                progress(done, max(done, total))
    finally:
        cursor.close()


def _record(row: tuple[Any, ...]) -> Record:
    record = {name: value for (name, _), value in zip(FIELDS, row, strict=True)}
    for name in _LISTS:
        if record[name] is not None:
            record[name] = [str(item) for item in json.loads(record[name])]
    return record


def write_jsonl(batches: Batches, sink: BinaryIO) -> int:
    """One JSON object per line (UTF-8); the number of records written."""
    count = 0
    for batch in batches:
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in batch)
        sink.write(lines.encode())
        count += len(batch)
    return count


def write_csv(batches: Batches, sink: BinaryIO) -> int:
    """A header row and one row per record (UTF-8); lists as JSON arrays, null as empty."""
    text = io.TextIOWrapper(sink, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(name for name, _ in FIELDS)
    count = 0
    for batch in batches:
        writer.writerows(
            [
                json.dumps(r[name], ensure_ascii=False)
                if name in _LISTS and r[name] is not None
                else r[name]
                for name, _ in FIELDS
            ]
            for r in batch
        )
        count += len(batch)
    text.detach()  # leave `sink` open for the caller
    return count


def parquet_schema() -> Any:
    """FIELDS as a pyarrow schema."""
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "strings": pa.list_(pa.string()),
        "float": pa.float64(),
        "int": pa.int64(),
    }
    return pa.schema([(name, types[kind]) for name, kind in FIELDS])


def write_parquet(batches: Batches, sink: BinaryIO) -> int:
    """A Parquet file (zstd), one row group per batch; `sink` need not be seekable."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    count = 0
    with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


WRITERS: dict[str, Callable[[Batches, BinaryIO], int]] = {
    "jsonl": write_jsonl,
    "csv": write_csv,
    "parquet": write_parquet,
}
