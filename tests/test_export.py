"""`wirearchive export`: one schema in JSON lines, CSV and Parquet, filters, and streaming."""

from __future__ import annotations

import csv
import io
import json
import random
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from archive.app.export import FIELDS, WRITERS
from archive.storage.catalog import Catalog
from tests.conftest import Archive, archive_env
from tests.support.site import PAGES

NAMES = [name for name, _ in FIELDS]
DUCKDB_TYPES = {"string": "VARCHAR", "strings": "VARCHAR[]", "float": "DOUBLE", "int": "BIGINT"}
COPIED = "latimes.com.bloomberg.html"
LVMH = "observer.com-LVMH.html"  # published 2023-11-08, the latest page
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory, test_site) -> tuple[Archive, dict[str, str]]:
    """An archive of the seed, its near-duplicate repost, the corpus pages and an exact copy
    of one of them; and the article id of each, by name ("seed", "repost", "copy", file)."""
    origin, _ = test_site
    root = tmp_path_factory.mktemp("export")
    archive = Archive(root, archive_env(root))
    urls = {"seed": f"{origin}/seed-repost.html", "repost": f"{origin}/repost-elsewhere.html"}
    urls |= {name: f"{origin}/pages/{name}" for name in PAGES}
    # The seed on its own first, so that it names its story: within one `add` the pages are
    # fetched at once and archived in whatever order they come back.
    code, results = archive.add(urls["seed"])
    assert code == 0
    code, rest = archive.add(*list(urls.values())[1:])
    results |= rest
    assert code == 0 and {r["status"] for r in results.values()} == {"archived"}
    code, copied = archive.add(f"{origin}/copy/{COPIED}")  # after the original: a duplicate
    assert code == 0 and next(iter(copied.values()))["status"] == "duplicate"
    ids = {name: results[url]["id"] for name, url in urls.items()}
    return archive, ids | {"copy": next(iter(copied.values()))["id"]}


def _copy(archive: Archive, root: Path) -> Archive:
    """A copy of the archive's catalog (SQLite backup) to change without touching the shelf."""
    copy = Archive(root, archive_env(root))
    with sqlite3.connect(archive.db) as src, sqlite3.connect(copy.db) as dst:
        src.backup(dst)
    return copy


def _export(archive: Archive, *args: str) -> list[dict[str, Any]]:
    """`export --format jsonl ARGS` to stdout, as records."""
    proc = archive.run("export", "--format", "jsonl", *args)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _ids(records: list[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in records}


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row typed back by FIELDS: empty is null, lists are JSON arrays."""
    convert = {"string": str, "strings": json.loads, "float": float, "int": int}
    return {name: convert[kind](row[name]) if row[name] else None for name, kind in FIELDS}


def test_formats_agree_on_rows_and_fields(shelf, tmp_path):
    archive, ids = shelf
    for fmt in WRITERS:
        proc = archive.run("export", "--format", fmt, "-o", str(tmp_path / f"out.{fmt}"))
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.strip() == f"exported 10 articles to {tmp_path / f'out.{fmt}'}"
        assert not (tmp_path / f"out.{fmt}.part").exists()
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    from_jsonl = [json.loads(line) for line in lines]
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        from_csv = [_from_csv(row) for row in reader]
        assert reader.fieldnames == NAMES
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.schema.names == NAMES
    assert all(list(record) == NAMES for record in from_jsonl)
    assert from_jsonl == from_csv == table.to_pylist()
    # Originals only (the copy is a duplicate), oldest first; typed values.
    assert _ids(from_jsonl) == set(ids.values()) - {ids["copy"]}
    order = [(r["first_seen"], r["id"]) for r in from_jsonl]
    assert order == sorted(order)
    seed = next(r for r in from_jsonl if r["id"] == ids["seed"])
    assert seed["published"] == "2022-01-09T18:14:00+00:00" and seed["wire_source"] == "Sputnik"
    assert isinstance(seed["raw_offset"], int) and isinstance(seed["similarity"], float)
    assert all(
        isinstance(r["categories"], list) and isinstance(r["tags"], list) for r in from_jsonl
    )
    assert "Russia is not prepared to discuss" in seed["text"]


def test_parquet_reads_in_duckdb_with_typed_columns(shelf, tmp_path):
    archive, ids = shelf
    out = tmp_path / "articles.parquet"
    proc = archive.run("export", "--format", "parquet", "--include-duplicates", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    described = duckdb.sql(f"describe select * from read_parquet('{out}')").fetchall()
    assert [(name, kind) for name, kind, *_ in described] == [
        (name, DUCKDB_TYPES[kind]) for name, kind in FIELDS
    ]
    assert duckdb.sql(f"select count(*) from read_parquet('{out}')").fetchall() == [(11,)]
    politics = duckdb.sql(
        f"select id from read_parquet('{out}') where list_contains(categories, 'Politics') "
        "and duplicate_of is null"
    ).fetchall()
    assert politics == [(ids[COPIED],)]
    stories = duckdb.sql(
        f"select cluster_id, count(*), min(published) from read_parquet('{out}') "
        "group by cluster_id having count(*) > 1 order by cluster_id"
    ).fetchall()
    assert stories == sorted(
        [
            (ids["seed"], 2, "2022-01-09T18:14:00+00:00"),
            (ids[COPIED], 2, "2020-02-19T12:00:10+00:00"),
        ]
    )


def test_stdout_for_every_format(shelf, tmp_path):
    archive, _ = shelf
    for fmt in WRITERS:
        in_file = tmp_path / f"file.{fmt}"
        assert archive.run("export", "--format", fmt, "-o", str(in_file)).returncode == 0
        with (tmp_path / f"stdout.{fmt}").open("wb") as out:  # a pipe or file, not a terminal
            proc = subprocess.run(
                [sys.executable, "-m", "archive", "export", "--format", fmt, "-o", "-"],
                stdout=out,
                stderr=subprocess.PIPE,
                env=archive.env,
                cwd=archive.root,
                timeout=60,
            )
        assert (
            proc.returncode == 0
            and proc.stderr.decode().strip() == "exported 10 articles to stdout"
        )
        if fmt == "parquet":  # the same rows; the file's bytes may differ in metadata only
            read = pq.read_table(tmp_path / f"stdout.{fmt}").to_pylist()
            assert read == pq.read_table(in_file).to_pylist()
        else:
            assert (tmp_path / f"stdout.{fmt}").read_bytes() == in_file.read_bytes()


def test_filters(shelf, tmp_path):
    archive, ids = shelf
    everything = set(ids.values())
    assert _ids(_export(archive, "--include-duplicates")) == everything
    assert _ids(_export(archive)) == everything - {ids["copy"]}
    # A story: exactly its members; the copy of a page only with --include-duplicates.
    assert _ids(_export(archive, "--cluster", ids["seed"])) == {ids["seed"], ids["repost"]}
    assert _ids(_export(archive, "--cluster", ids[COPIED])) == {ids[COPIED]}
    both = _export(archive, "--cluster", ids[COPIED], "--include-duplicates")
    assert _ids(both) == {ids[COPIED], ids["copy"]}
    assert _export(archive, "--cluster", "no-such-story") == []
    # Dates bound `published`, both ends inclusive.
    window = _export(archive, "--since", "2020-01-06", "--until", "2020-09-15")
    assert sorted(r["published"][:10] for r in window) == ["2020-01-06", "2020-02-19", "2020-09-15"]
    assert _ids(_export(archive, "--since", "2022-01-10")) == {ids["repost"], ids[LVMH]}
    assert _ids(_export(archive, "--until", "2019-06-19")) == {
        ids["blog.wordpress.com.diverse.html"]
    }
    # Sources: every `add` is on-demand; a crawled source is named in the row.
    copy = _copy(archive, tmp_path / "sourced")
    with sqlite3.connect(copy.db) as conn:
        conn.execute(
            "update articles set source = 'wirewatch' where id in (?, ?)",
            [ids["seed"], ids["repost"]],
        )
    assert _ids(_export(copy, "--source", "wirewatch")) == {ids["seed"], ids["repost"]}
    assert ids["seed"] not in _ids(_export(copy, "--source", "on-demand"))
    assert _ids(_export(copy, "--source", "wirewatch", "--until", "2022-01-09")) == {ids["seed"]}


def test_pending_rows_are_never_exported(shelf, tmp_path):
    archive, ids = shelf
    copy = _copy(archive, tmp_path / "pending")
    with sqlite3.connect(copy.db) as conn:  # as if the upload of its objects had not finished
        conn.execute("update articles set pending = 1 where id = ?", [ids["seed"]])
    for args in ((), ("--include-duplicates",), ("--cluster", ids["seed"])):
        assert ids["seed"] not in _ids(_export(copy, *args))
    proc = copy.run("export", "--format", "parquet", "-o", str(tmp_path / "p.parquet"))
    assert proc.returncode == 0
    assert ids["seed"] not in {r["id"] for r in pq.read_table(tmp_path / "p.parquet").to_pylist()}


@pytest.mark.parametrize(
    "args",
    [
        ("export", "--format", "csv", "--since", "2022-13-01"),
        ("export", "--format", "jsonl", "--until", "yesterday"),
        ("search", "NATO", "--since", "09/01/2022"),
    ],
)
def test_bad_dates_are_usage_errors(shelf, args):
    archive, _ = shelf
    proc = archive.run(*args)
    assert proc.returncode == 2
    option = args[-2]
    assert f"Invalid value for '{option}': '{args[-1]}' is not a date (YYYY-MM-DD)" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_export_errors(shelf, tmp_path):
    archive, _ = shelf
    proc = archive.run("export", "--format", "xml")
    assert proc.returncode == 2 and "'xml' is not one of" in proc.stderr
    proc = archive.run("export", "--format", "csv", "-o", str(tmp_path / "no" / "dir" / "x.csv"))
    assert proc.returncode == 1 and "Error: cannot write" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = Archive(tmp_path, archive_env(tmp_path / "empty")).run("export", "--format", "csv")
    assert proc.returncode == 1 and "no catalog at" in proc.stderr


def _record(number: int, kind_values: dict[str, Any]) -> dict[str, Any]:
    return {name: kind_values[kind] or f"{name}-{number}" for name, kind in FIELDS}


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_writers_emit_each_batch_before_reading_the_next(fmt):
    """Streaming: each batch reaches the sink before the next one is asked for."""
    sink = io.BytesIO()
    written_before: list[int] = []
    values = {"string": None, "strings": ["a", "b"], "float": 0.5, "int": 7}

    def batches():
        for start in range(0, 400, 100):
            written_before.append(sink.tell())
            yield [_record(n, values) for n in range(start, start + 100)]
        written_before.append(sink.tell())

    assert WRITERS[fmt](batches(), sink) == 400
    assert all(a < b for a, b in pairwise(written_before))
    assert not sink.closed


def _synthetic_catalog(path: Path, rows: int, start: int = 0) -> None:
    """`rows` articles of ~1.5 KB text each, inserted straight into a real catalog."""
    rng = random.Random(start)
    words = [f"word{n}" for n in range(300)]
    catalog = Catalog(path)
    catalog.db["articles"].insert_all(
        (
            {
                "id": f"{n:020d}",
                "url": f"https://example.org/{n}",
                "canonical_url": f"https://example.org/{n}",
                "title": f"Post {n}",
                "text": " ".join(rng.choices(words, k=200)),
                "content_sha256": f"{n:064x}",
                "categories": json.dumps(["news", f"c{n % 7}"]),
                "published": "2024-01-01",
                "first_seen": (EPOCH + timedelta(seconds=n)).isoformat(),
                "similarity": 1.0,
                "raw_key": "raw/x.warc.gz",
                "raw_offset": n * 1000,
                "raw_length": 1000,
                "json_key": f"articles/{n}.json",
            }
            for n in range(start, start + rows)
        ),
        batch_size=1000,
    )
    catalog.close()


def _peak_rss_mb(db: Path, fmt: str, out: Path) -> float:
    """Peak RSS of one `export` process, measured by a fresh parent that runs only it."""
    export = [sys.executable, "-m", "archive", "--db", str(db), "export", "--format", fmt]
    measure = (
        "import resource, subprocess, sys; "
        f"subprocess.run({[*export, '-o', str(out)]!r}, check=True, stderr=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", measure],
        capture_output=True,
        text=True,
        timeout=60,
        env=archive_env(db.parent),
    )
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout) / 1024  # ru_maxrss is in KiB on Linux


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss units differ")
def test_memory_does_not_grow_with_the_export(tmp_path):
    """5,000 then 25,000 articles (~8 then ~40 MB of text): peak memory stays where it was.
    Loading every row would add well over 40 MB; streaming adds next to nothing."""
    db = tmp_path / "archive.db"
    _synthetic_catalog(db, 5000)
    small = {fmt: _peak_rss_mb(db, fmt, tmp_path / f"small.{fmt}") for fmt in WRITERS}
    _synthetic_catalog(db, 20000, start=5000)
    large = {fmt: _peak_rss_mb(db, fmt, tmp_path / f"large.{fmt}") for fmt in WRITERS}
    for fmt in WRITERS:
        assert (tmp_path / f"large.{fmt}").stat().st_size > 4 * (
            tmp_path / f"small.{fmt}"
        ).stat().st_size
        assert large[fmt] - small[fmt] < 20, (fmt, small, large)
