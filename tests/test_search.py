"""`wirearchive search` filters: publication dates, wire service and source, on a real archive."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import TELESCOPE, Archive


def _hits(archive: Archive, *args: str) -> list[dict[str, Any]]:
    proc = archive.run("search", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _ids(hits: list[dict[str, Any]]) -> list[str]:
    return [hit["id"] for hit in hits]


def test_date_filters_bound_published_inclusive_and_keep_ranking(small_archive):
    archive, ids = small_archive
    everything = _hits(archive, "NATO")
    assert set(_ids(everything)) == {ids["seed"], ids["repost"]}
    assert [h["rank"] for h in everything] == sorted(h["rank"] for h in everything)
    assert all("[NATO]" in h["snippet"] for h in everything)
    # Both ends inclusive: the same hits, ranks and snippets, in the same order.
    assert _hits(archive, "NATO", "--since", "2022-01-09", "--until", "2022-01-10") == everything
    assert _ids(_hits(archive, "NATO", "--until", "2022-01-09")) == [ids["seed"]]
    assert _ids(_hits(archive, "NATO", "--since", "2022-01-10")) == [ids["repost"]]
    assert _hits(archive, "NATO", "--since", "2022-01-11") == []
    assert _ids(_hits(archive, "telescope", "--until", "2019-09-24")) == [ids[TELESCOPE]]
    assert _hits(archive, "telescope", "--since", "2019-09-25") == []
    proc = archive.run("search", "NATO", "--until", "2021-12-31")
    assert proc.returncode == 0 and proc.stdout == ""
    assert "no articles match 'NATO'" in proc.stderr


def test_wire_and_source_filters(small_archive):
    archive, ids = small_archive
    sputnik = _hits(archive, "NATO", "--wire", "Sputnik")
    assert _ids(sputnik) == [ids["seed"]] and sputnik[0]["wire_source"] == "Sputnik"
    assert _hits(archive, "NATO", "--wire", "Reuters") == []
    assert _hits(archive, "NATO", "--wire", "Sputnik", "--since", "2022-01-10") == []
    both = _hits(archive, "NATO", "--source", "on-demand", "--until", "2022-01-10")
    assert set(_ids(both)) == {ids["seed"], ids["repost"]}
    assert _hits(archive, "NATO", "--source", "wirewatch") == []
    text = archive.run("search", "NATO", "--wire", "Sputnik", "--since", "2022-01-01").stdout
    assert text.startswith(f"{ids['seed']}  2022-01-09  ") and "[Sputnik]" in text


def test_plain_queries_never_meet_fts5_syntax(tmp_path):
    # A word that starts with an unbalanced quote made sqlite-utils' quote_fts build a broken
    # query (the API answered 500 to schemathesis); every character is now literal.
    from archive.storage.catalog import Catalog

    catalog = Catalog(tmp_path / "a.db")
    for query in ['"abc\n$def', '"', 'a"b', "NOT OR", "*", "(", "title:x", "NEAR(a b)", "^x"]:
        assert catalog.search(query) == [], query
