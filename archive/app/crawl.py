"""`wirearchive crawl`: every configured source, one Scrapy crawler each, in one process."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from archive.app.runner import check_config, project_settings, quiet_failures, run_to_end
from archive.core.clock import now_iso
from archive.core.errors import ConfigError
from archive.core.settings import Settings
from archive.storage.catalog import COUNT_COLUMNS, Catalog
from archive.storage.lock import crawl_lock
from archive.storage.session import ArchiveSession, attach
from crawlers.sources import Source
from pipelines.extract import start_workers

# In each source's job dir: the id of the crawl it belongs to.
JOB_MARKER = "wirearchive-crawl-id"
REASON_WIDTH = 40  # characters of a source's reason in the summary table


@dataclass
class CrawlOptions:
    """What `wirearchive crawl` was asked to do."""

    settings: Settings  # with the command's options (--db, --store, --redis) on top
    sources_file: str
    since: str | None = None
    max_pages: int | None = None
    job_dir: str | None = None
    progress: bool = False
    verbose: bool = False  # Scrapy's log at INFO; else WARNING, one line a problem


def run_crawl(
    sources: list[Source], options: CrawlOptions
) -> tuple[int, list[dict[str, Any]], str | None]:
    """Crawl `sources` under the catalog lock; (crawl id, per-source rows, why the run's last
    upload failed or None).

    Raises archive.storage.lock.CrawlLocked when another crawl holds the catalog, and
    archive.core.errors.ConfigError for bad settings, both before anything is fetched.
    """
    values = options.settings
    if values.redis and options.job_dir:
        raise ConfigError("--job-dir and --redis do not go together: Redis keeps the frontier")
    start_workers(warm=values.warm_up)
    settings = project_settings(values if options.verbose else replace(values, log_level="WARNING"))
    if values.redis:
        use_frontier(settings, values.redis)
    check_config(settings)
    with crawl_lock(values.db):
        catalog = Catalog(values.db)
        crawl_id = catalog.start_crawl(now_iso(), os.getpid(), options.sources_file)
        settings.set("WIREARCHIVE_CRAWL_ID", crawl_id, priority="cmdline")
        if options.job_dir:
            for source in sources:
                claim_job_dir(catalog, job_dir_of(options.job_dir, source.name), crawl_id)
        crawlers: list[Any] = []
        session = ArchiveSession(values.db)
        try:
            crawlers = _crawl(sources, settings, options, session)
        finally:
            rows = _ended(catalog, crawl_id, crawlers)
            try:
                catalog.finish_crawl(crawl_id, now_iso(), overall_status(rows, len(sources)))
            except sqlite3.Error as exc:  # a full disk: the summary still comes from memory
                sys.stderr.write(f"error: could not record the end of crawl {crawl_id}: {exc}\n")
            catalog.close()
    for row in rows:
        if options.job_dir and row["status"] != "interrupted":
            # A finished or failed source starts afresh next time; an interrupted one resumes.
            shutil.rmtree(job_dir_of(options.job_dir, row["source"]), ignore_errors=True)
    return crawl_id, rows, session.upload_error


def _ended(catalog: Catalog, crawl_id: int, crawlers: list[Any]) -> list[dict[str, Any]]:
    """How each source ended: its `crawl_sources` row, else (the catalog could not take it)
    the row its crawler kept in memory."""
    rows = catalog.crawl_sources(crawl_id)
    recorded = {row["source"] for row in rows}
    for crawler in crawlers:
        row = crawler.stats.get_value("wa/source_row")
        if row is not None and row["source"] not in recorded:
            rows.append({"crawl_id": crawl_id, **row})
    return sorted(rows, key=lambda row: row["source"])


def claim_job_dir(catalog: Catalog, path: Path, crawl_id: int) -> None:
    """Make `path` the job dir of crawl `crawl_id`. A job dir resumes only the run that
    wrote it, and only when that run was interrupted (or killed before it could say): the
    seen-set of a run that ended any other way would filter every post of this one."""
    marker = path / JOB_MARKER
    if path.exists():
        try:
            owner = int(marker.read_text())
        except (OSError, ValueError):
            owner = None
        source = path.name
        if owner is None or catalog.crawl_source_status(owner, source) not in (None, "interrupted"):
            shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(crawl_id))


def use_frontier(settings: Any, url: str) -> None:
    """Schedule through the shared Redis frontier at `url` (crawlers/frontier.py)."""
    from crawlers.frontier import check_redis

    check_redis(url)
    settings.set("WIREARCHIVE_REDIS", url, priority="cmdline")
    settings.set("REDIS_URL", url, priority="cmdline")
    settings.set("SCHEDULER", "crawlers.frontier.RedisFrontier", priority="cmdline")
    middlewares = dict(settings.getdict("SPIDER_MIDDLEWARES"))
    middlewares["crawlers.frontier.SeedMarker"] = 10
    settings.set("SPIDER_MIDDLEWARES", middlewares, priority="cmdline")


def seed_frontier(sources: list[Source], values: Settings) -> dict[str, dict[str, Any]]:
    """Queue every source's start requests in the Redis frontier of `values`, fetching
    nothing; per source, the run it seeded and how many requests it queued."""
    assert values.redis is not None
    settings = project_settings(replace(values, seed_only=True))
    use_frontier(settings, values.redis)
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    extensions = dict(settings.getdict("EXTENSIONS"))
    extensions["crawlers.extensions.runstats.CrawlRecorder"] = None
    settings.set("EXTENSIONS", extensions, priority="cmdline")
    options = CrawlOptions(values, sources_file="")
    crawlers = _crawl(sources, settings, options, ArchiveSession(values.db))
    return {
        source.name: {
            "run": crawler.stats.get_value("frontier/run"),
            "queued": crawler.stats.get_value("scheduler/enqueued/redis", 0),
        }
        for source, crawler in zip(sources, crawlers, strict=True)
    }


def job_dir_of(job_dir: str, source: str) -> Path:
    """The Scrapy JOBDIR of one source."""
    return Path(job_dir) / source


def _crawl(
    sources: list[Source], settings: Any, options: CrawlOptions, session: ArchiveSession
) -> list[Any]:
    """Run one crawler per source to the end, all handed `session`, closed once at the end.
    Each keeps its frontier on disk (Scrapy's disk queues): in `--job-dir` to resume from,
    else in a scratch folder removed at the end, so that a sitemap of any size does not hold
    all its requests in memory."""
    from scrapy.crawler import Crawler, CrawlerProcess

    process = CrawlerProcess(settings)
    crawlers = []
    with contextlib.ExitStack() as stack:
        job_dir = options.job_dir
        if job_dir is None and not settings.get("WIREARCHIVE_REDIS"):  # Redis keeps its own
            job_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="wa-frontier-"))
        for number, source in enumerate(sources):
            own = settings.copy()
            if job_dir is not None:
                own.set("JOBDIR", str(job_dir_of(job_dir, source.name)), priority="cmdline")
            # The first crawler installs the reactor, as CrawlerProcess.create_crawler would.
            spider = process.spider_loader.load(source.kind)
            crawler = Crawler(spider, own, init_reactor=number == 0)
            attach(crawler, session)
            crawlers.append(crawler)
            process.crawl(crawler, source=source, since=options.since, max_pages=options.max_pages)
        quiet_failures(settings)
        if options.progress:
            _show_progress(crawlers, sources)
        # What start-up made (modules, Scrapy's components) lives as long as the crawl: out
        # of the collector's way, its full collections stop walking it again and again.
        gc.freeze()
        run_to_end(process, session)
    if options.progress:
        sys.stderr.write("\n")
    return crawlers


def _show_progress(crawlers: list[Any], sources: list[Source]) -> None:
    """One line on the terminal, rewritten every second: pages and outcomes per source."""
    from twisted.internet import task

    def draw() -> None:
        parts = []
        for crawler, source in zip(crawlers, sources, strict=True):
            stats = crawler.stats.get_stats() if crawler.stats else {}
            pages = stats.get("response_received_count", 0)
            items = stats.get("item_scraped_count", 0)
            parts.append(f"{source.name}: {pages} pages, {items} posts")
        sys.stderr.write("\r\033[K" + " | ".join(parts)[:200])
        sys.stderr.flush()

    task.LoopingCall(draw).start(1.0)


def overall_status(rows: list[dict[str, Any]], expected: int) -> str:
    """The crawl's status from its sources': interrupted, failed, partial or ok."""
    statuses = {row["status"] for row in rows}
    if "interrupted" in statuses or len(rows) < expected:
        return "interrupted"
    for status in ("failed", "partial"):
        if status in statuses:
            return status
    return "ok"


def summary_table(rows: list[dict[str, Any]]) -> str:
    """The per-source counts as a plain-text table."""
    headers = ("source", "status", "via", *COUNT_COLUMNS, "errors", "reason")
    body = [
        (
            row["source"],
            row["status"],
            row["via"] or "",
            *(str(row[c] or 0) for c in COUNT_COLUMNS),
            _errors(row["errors"]),
            _short(row.get("reason")),
        )
        for row in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *body, strict=True)]
    lines = [
        "  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
        for line in (headers, *body)
    ]
    return "\n".join(lines)


def _short(reason: str | None, width: int = REASON_WIDTH) -> str:
    """A reason cut to fit a table cell (the whole one is printed below the table)."""
    reason = " ".join((reason or "-").split())
    return reason if len(reason) <= width else reason[: width - 3] + "..."


def _errors(errors: dict[str, int] | None) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted((errors or {}).items())) or "-"
