"""Crawl a static site with the real CLI and score what was archived against its ground truth.

`crawl_site()` runs `wirearchive crawl --sources FILE` into an archive of its own and reads the
outcome back from the catalog and `wirearchive export --format jsonl`. `score()` gives the
figures a doc can quote (posts archived of published, text F1, per-field accuracy), and
`format_figures()` prints them as a table.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean
from typing import Any

from tests.conformance.staticsites import Expected, StaticSite
from tests.conftest import Archive, archive_env

# Any request to a host other than loopback goes to a closed loopback port instead of out:
# the Pelican theme links getpelican.com and python.org from every page.
NO_EGRESS = {
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "no_proxy": "127.0.0.1,localhost",
}


@dataclass
class CrawlResult:
    """One `wirearchive crawl` of one source: the process, its crawl_sources row, the
    articles in the catalog (lists decoded) and the export's rows."""

    site: str
    kind: str
    archive: Archive
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    requests: int  # requests the site saw during the crawl (exact only when crawled alone)
    source: dict[str, Any]
    articles: list[dict[str, Any]]
    exported: list[dict[str, Any]]

    @property
    def label(self) -> str:
        return f"{self.site}/{self.kind}"

    @property
    def urls(self) -> list[str]:
        return [a["url"] for a in self.articles]

    def tail(self, chars: int = 3000) -> str:
        return f"--- stdout\n{self.stdout[-chars:]}\n--- stderr\n{self.stderr[-chars:]}"


def make_archive(root: Path) -> Archive:
    """An empty archive in `root` whose crawls can reach loopback only."""
    return Archive(root, archive_env(root, WIREARCHIVE_DOWNLOAD_TIMEOUT="30", **NO_EGRESS))


def sources_file(archive: Archive, site: StaticSite, kind: str, name: str = "blog") -> Path:
    path = archive.root / f"sources-{kind}.toml"
    path.write_text(
        f'[[sources]]\nname = "{name}"\nurl = "{site.origin}/"\nkind = "{kind}"\n',
        encoding="utf-8",
    )
    return path


def crawl_site(site: StaticSite, kind: str, archive: Archive, name: str = "blog") -> CrawlResult:
    """Run one crawl of `site` with source kind `kind` into `archive`; read back the outcome."""
    sources = sources_file(archive, site, kind, name)
    before = len(site.server.requests)
    started = time.monotonic()
    proc = archive.run("crawl", "--sources", str(sources), timeout=180)
    seconds = time.monotonic() - started
    requests = len(site.server.requests) - before
    source: dict[str, Any] = {}
    articles: list[dict[str, Any]] = []
    if archive.db.exists():
        with sqlite3.connect(archive.db) as db:
            db.row_factory = sqlite3.Row
            row = db.execute(
                "select * from crawl_sources where source = ? order by crawl_id desc limit 1",
                [name],
            ).fetchone()
            source = dict(row) if row else {}
            articles = [_decoded(dict(r)) for r in db.execute("select * from articles")]
    export = archive.run("export", "--format", "jsonl")
    exported = [json.loads(line) for line in export.stdout.splitlines() if line.strip()]
    return CrawlResult(
        site=site.name,
        kind=kind,
        archive=archive,
        returncode=proc.returncode,
        stdout=proc.stdout,
        stderr=proc.stderr,
        seconds=seconds,
        requests=requests,
        source=source,
        articles=articles,
        exported=exported,
    )


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for name in ("categories", "tags"):
        value = row.get(name)
        if isinstance(value, str):
            try:
                row[name] = json.loads(value)
            except ValueError:
                row[name] = [value]
    return row


# ---------------------------------------------------------------------------------------------
# Scoring

_WORD = re.compile(r"\w+")


def words(text: str | None) -> Counter[str]:
    return Counter(_WORD.findall((text or "").lower()))


def bag_f1(got: str | None, want: str) -> float:
    """Bag-of-words F1 of an extracted text against the post's paragraphs."""
    g, w = words(got), words(want)
    common = sum((g & w).values())
    if not common:
        return 0.0
    precision, recall = common / sum(g.values()), common / sum(w.values())
    return 2 * precision * recall / (precision + recall)


def utc_iso(value: str | None) -> str | None:
    """An ISO date-time as UTC `YYYY-MM-DDTHH:MM:SS+00:00`; None when it has no time of day
    or no zone (a bare date cannot be compared with the truth's instant)."""
    if not value or len(value) <= 10:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC).isoformat(timespec="seconds")


FIELDS = ("title", "author", "published", "categories", "tags")


def field_ok(name: str, row: dict[str, Any], want: Expected) -> bool:
    """Whether the archived `row` has the truth's value of field `name`."""
    if name == "published":
        return utc_iso(row.get("published")) == want.published
    if name in ("categories", "tags"):
        return set(row.get(name) or []) == set(getattr(want, name))
    return (row.get(name) or "").strip() == getattr(want, name)


def date_only_ok(row: dict[str, Any], want: Expected) -> bool:
    """Whether the archived date at least names the right day (in UTC or the post's zone)."""
    got = (row.get("published") or "")[:10]
    return bool(got) and got in {want.published[:10], want.local_day}


@dataclass
class Figures:
    """How well one crawl archived one site."""

    label: str
    published: int
    archived_posts: int
    extra: list[str]  # archived URLs that are not posts (listing pages, drafts, ...)
    duplicate_urls: int
    f1: dict[str, float] = field(default_factory=dict)
    fields: dict[str, float] = field(default_factory=dict)  # share of archived posts right
    date_only: float = 0.0
    wrong: dict[str, list[str]] = field(default_factory=dict)  # field -> "url: got != want"

    @property
    def f1_mean(self) -> float:
        return mean(self.f1.values()) if self.f1 else 0.0

    @property
    def f1_min(self) -> float:
        return min(self.f1.values()) if self.f1 else 0.0


def score(label: str, rows: Sequence[dict[str, Any]], truth: dict[str, Expected]) -> Figures:
    """Figures of archived `rows` (catalog or export rows, with url) against `truth`."""
    urls = [r["url"] for r in rows]
    posts = [r for r in rows if r["url"] in truth]
    figures = Figures(
        label=label,
        published=len(truth),
        archived_posts=len({r["url"] for r in posts}),
        extra=sorted({u for u in urls if u not in truth}),
        duplicate_urls=len(urls) - len(set(urls)),
    )
    for row in posts:
        figures.f1[row["url"]] = bag_f1(row.get("text"), truth[row["url"]].text)
    for name in FIELDS:
        right = [field_ok(name, r, truth[r["url"]]) for r in posts]
        figures.fields[name] = sum(right) / len(right) if right else 0.0
        figures.wrong[name] = [
            f"{r['url']}: {r.get(name)!r} != {_want(name, truth[r['url']])!r}"
            for r, ok in zip(posts, right, strict=True)
            if not ok
        ]
    dates = [date_only_ok(r, truth[r["url"]]) for r in posts]
    figures.date_only = sum(dates) / len(dates) if dates else 0.0
    return figures


def _want(name: str, want: Expected) -> Any:
    value = getattr(want, name)
    return sorted(value) if isinstance(value, frozenset) else value


def format_figures(all_figures: Iterable[Figures]) -> str:
    """A table of figures, one line per crawl."""
    head = (
        f"{'crawl':<22} {'posts':>7} {'extra':>5} {'dup':>3} {'F1 mean':>7} {'F1 min':>6} "
        + " ".join(f"{n[:10]:>10}" for n in FIELDS)
        + f" {'day only':>8}"
    )
    lines = [head]
    for f in all_figures:
        lines.append(
            f"{f.label:<22} {f.archived_posts:>3}/{f.published:<3} {len(f.extra):>5} "
            f"{f.duplicate_urls:>3} {f.f1_mean:>7.3f} {f.f1_min:>6.3f} "
            + " ".join(f"{f.fields[n]:>10.0%}" for n in FIELDS)
            + f" {f.date_only:>8.0%}"
        )
    return "\n".join(lines)
