"""Hostile inputs (tests/support/hostile.py): each URL ends with a clear status and reason, nothing
hangs, and the good pages archived in the same run are never lost."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Archive, archive_env
from tests.support import hostile
from tests.support.helpers import records, rows
from tests.support.hostile import GROUPS, SOURCES, TIMED_OUT_TWICE, Case

ADD_SECONDS = 30  # an `add` of a whole group, retries of the timeouts included, ends by then
PAGE_LIMIT = {"WIREARCHIVE_DOWNLOAD_TIMEOUT": "2"}  # where a stalled page ends

# Good pages, one on the hostile server itself (its connections and slots are shared with
# the hostile ones) and one on the test site.
OWN_GOOD = "/pages/latimes.com.bloomberg.html"
SITE_GOOD = "/pages/nature.com.telescope.html"


@dataclass
class Run:
    """One `add` of a group's hostile URLs and the good pages."""

    archive: Archive
    code: int
    results: dict[str, dict[str, Any]]
    seconds: float
    stderr: str


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[tuple[str, list[str]]]:
    with hostile.serve() as served:
        yield served


@pytest.fixture(scope="module")
def group_run(
    hostile_server: tuple[str, list[str]],
    test_site: tuple[str, list[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], Run]:
    """`add` each group once, in an archive of its own, on first use."""
    runs: dict[str, Run] = {}

    def run(group: str) -> Run:
        if group not in runs:
            root = tmp_path_factory.mktemp(f"hostile-{group}")
            archive = Archive(root, archive_env(root, **PAGE_LIMIT))
            urls = [hostile_server[0] + c.path for c in GROUPS[group]]
            urls += [hostile_server[0] + OWN_GOOD, test_site[0] + SITE_GOOD]
            started = time.monotonic()
            proc = archive.run("add", *urls, timeout=2 * ADD_SECONDS)
            lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
            results = {line["url"]: line for line in lines}
            assert len(results) == len(urls), proc.stdout + proc.stderr
            seconds = time.monotonic() - started
            runs[group] = Run(archive, proc.returncode, results, seconds, proc.stderr)
        return runs[group]

    return run


@pytest.mark.parametrize(
    ("group", "case"),
    [(group, case) for group, cases in GROUPS.items() for case in cases],
    ids=lambda value: value.path.strip("/") if isinstance(value, Case) else value,
)
def test_hostile_input_ends_with_a_clear_outcome(group_run, hostile_server, group, case):
    run = group_run(group)
    url = hostile_server[0] + case.path
    result = run.results[url]
    assert result["status"] == case.status, result
    if case.status == "failed":
        assert case.reason in result["reason"], result
        # Nothing half-written for it.
        assert result["id"] is None
        assert rows(run.archive.db, "select id from captures where input_url = ?", url) == []
        return
    article = run.archive.show(result["id"])
    for field in ("text", "title"):
        assert isinstance(article[field], str) and "\0" not in article[field], article[field]
    assert case.text in article["text"], article["text"][:500]


@pytest.mark.parametrize("group", list(GROUPS))
def test_good_pages_in_the_same_run_are_archived_and_nothing_hangs(
    group_run, hostile_server, test_site, group
):
    run = group_run(group)
    assert run.seconds < ADD_SECONDS, run.seconds
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    for url in (hostile_server[0] + OWN_GOOD, test_site[0] + SITE_GOOD):
        assert run.results[url]["status"] == "archived", run.results[url]
    failed = any(c.status == "failed" for c in GROUPS[group])
    assert run.code == int(failed)
    # Every failure falls in a known kind of error: none is left as "other".
    ((errors,),) = rows(run.archive.db, "select errors from crawl_sources")
    assert "other" not in json.loads(errors), errors
    # Retries are bounded: no hostile path was asked for more than 1 + RETRY_TIMES times, and
    # a page that timed out was asked for twice: retried once, within its time limit.
    asked = Counter(hostile_server[1])
    assert all(asked[c.path] <= 3 for c in GROUPS[group]), asked
    timed_out = [c.path for c in GROUPS[group] if c.reason == TIMED_OUT_TWICE]
    assert all(asked[path] == 2 for path in timed_out), asked


@pytest.mark.parametrize("case", SOURCES, ids=lambda c: c.path.strip("/"))
def test_hostile_listing_crawl_ends_with_a_clear_status(hostile_server, tmp_path, case):
    origin, requested = hostile_server
    archive = Archive(tmp_path, archive_env(tmp_path, **PAGE_LIMIT))
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[sources]]\nname = "hostile"\nurl = "{origin}{case.path}"\nkind = "{case.kind}"\n'
        f"{case.extra}\n"
    )
    before, started = len(requested), time.monotonic()
    proc = archive.run("crawl", "--sources", str(sources), timeout=2 * ADD_SECONDS)
    assert time.monotonic() - started < ADD_SECONDS
    assert proc.returncode == (0 if case.status in ("ok", "partial") else 1), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    (row,) = records(archive.db, "select * from crawl_sources")
    assert row["status"] == case.status, row
    assert case.reason in (row["reason"] or ""), row
    assert row["new_articles"] == case.new_articles, row
    # Not one URL fetched twice: the sitemap loop is read once round.
    asked = Counter(requested[before:])
    assert max(asked.values()) == 1, asked
