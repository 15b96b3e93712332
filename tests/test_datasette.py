"""The catalog opens in a real Datasette server with full-text search working as it is."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest

from tests.conftest import TELESCOPE
from tests.support.helpers import free_port, stop_process


@pytest.fixture(scope="module")
def served(small_archive) -> Iterator[tuple[str, dict]]:
    """(base URL, article ids by name) of `datasette serve archive.db` on a catalog built by
    the CLI (conftest.small_archive); the server is stopped at the end."""
    archive, ids = small_archive
    root = archive.root
    port = free_port()
    log = (root / "datasette.log").open("wb")
    server = subprocess.Popen(  # as docs/analysis.md says: the live catalog, opened read-only
        [sys.executable, "-m", "datasette", "serve", str(archive.db), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (root / "datasette.log").read_text()
            try:
                with urlopen(f"{base}/-/versions.json", timeout=2):
                    break
            except (URLError, ConnectionError):
                assert time.monotonic() < deadline, (root / "datasette.log").read_text()
                time.sleep(0.2)
        yield base, ids
    finally:
        stop_process(server, timeout=10)
        log.close()


def _get(url: str) -> dict[str, Any]:
    with urlopen(url, timeout=10) as response:
        assert response.status == 200
        return json.load(response)


def test_table_search_uses_the_fts_index(served):
    base, ids = served
    params = {"_search": "NATO", "pending": "0", "_col": "title", "_shape": "objects"}
    body = _get(f"{base}/archive/articles.json?{urlencode(params)}")
    assert "articles_fts" in body["query"]["sql"]  # Datasette found the FTS table itself
    titles = {row["id"]: row["title"] for row in body["rows"]}
    assert set(titles) == {ids["seed"], ids["repost"]}
    assert "NATO" in titles[ids["seed"]]
    # Porter stemming: the plural finds the page about one telescope.
    params = {"_search": "telescopes", "_col": "title", "_shape": "objects"}
    rows = _get(f"{base}/archive/articles.json?{urlencode(params)}")["rows"]
    assert [row["id"] for row in rows] == [ids[TELESCOPE]]


def test_sql_query_with_fts_match(served):
    base, ids = served
    sql = (
        "select articles.id, articles.title, articles.wire_source from articles_fts "
        "join articles on articles.rowid = articles_fts.rowid "
        "where articles_fts match :q and articles.pending = 0 order by articles_fts.rank"
    )
    body = _get(
        f"{base}/archive.json?{urlencode({'sql': sql, 'q': 'deescalation', '_shape': 'objects'})}"
    )
    rows = body["rows"]
    assert {row["id"] for row in rows} == {ids["seed"], ids["repost"]}
    seed = next(row for row in rows if row["id"] == ids["seed"])
    assert "NATO" in seed["title"] and seed["wire_source"] == "Sputnik"
