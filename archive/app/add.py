"""Archive URLs on demand (`wirearchive add`, the demo): one crawl of the given URLs, one
result per URL, an archived one told once the store has its objects."""

from __future__ import annotations

import json
from contextlib import closing
from dataclasses import replace
from typing import Any

import click

PENDING = "pending"
PENDING_REASON = "not in the store yet: its objects wait in the spool for `wirearchive flush`"


def pending_reason(upload_error: str | None) -> str:
    """Why a row is still pending after a run whose last upload failed with `upload_error`."""
    if upload_error is None:
        return PENDING_REASON
    return f"the store is unreachable ({upload_error}): kept in the spool until `wirearchive flush`"


def archive_urls(
    urls: list[str],
    obj: dict[str, Any],
    log_level: str | None = "WARNING",
    echo: bool = False,
) -> list[dict[str, Any]]:
    """Crawl `urls` through the pipelines; one result dict per distinct URL, in input order.
    `log_level`: Scrapy's, else the setting's."""
    from pipelines.extract import start_workers

    start_workers(warm=False)
    from archive.app.runner import run_spider
    from archive.core.items import ARCHIVED, DUPLICATE, FAILED, REFUSED, Capture
    from archive.storage.catalog import Catalog
    from archive.storage.session import ArchiveSession
    from archive.storage.spool import Upload

    # On demand, no start delay: AutoThrottle's 0.5 s would be a wait between robots.txt and
    # the page, a third of a one-URL `add`; it still paces any further pages of a host.
    # Uploads every second, of WARC files closed after a second: an archived URL is told
    # as soon as the store has it, not at the end of a long --file.
    values = replace(obj["settings"], upload_interval=1.0, warc_seconds=1.0)
    if log_level is not None:
        values = replace(values, log_level=log_level)
    settings = checked_settings(obj | {"settings": values}, {"AUTOTHROTTLE_START_DELAY": 0.0})
    unique = list(dict.fromkeys(u.strip() for u in urls))
    results: dict[str, dict[str, Any]] = {}
    # Archived lines, told once the store has the objects of their own capture: the
    # article's row may wait for another run's later capture of it meanwhile.
    held: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {}
    stored_keys: set[str] = set()

    def report(line: dict[str, Any]) -> None:
        results[line["url"]] = line
        if echo:
            click.echo(json.dumps(line, ensure_ascii=False))
            if line["status"] in (FAILED, REFUSED):  # one line a failure, for a person
                click.echo(f"{line['status']}: {line['url']}: {line['reason']}", err=True)

    def collect(capture: Any) -> None:
        line = capture.result()
        if line["status"] in (ARCHIVED, DUPLICATE):
            held[line["url"]] = (line, capture.objects)
        else:
            report(line)

    def release(catalog: Catalog, upload: Upload | None) -> None:
        """Report the held lines whose objects the store has now."""
        stored_keys.update(upload.stored if upload else ())
        for url, (_, keys) in list(held.items()):
            unsure = [key for key in keys if key not in stored_keys]
            if not unsure or not catalog.waiting(*unsure):
                report(held.pop(url)[0])

    def stored(session: ArchiveSession, upload: Upload) -> None:
        release(session.catalog, upload)  # the run's own connection, between its commits

    session = run_spider("urls", settings, collect, on_stored=stored, urls=unique)
    if held:
        with closing(Catalog(obj["db"])) as catalog:
            release(catalog, session.uploader.last if session.uploader else None)
        reason = pending_reason(session.upload_error)
        for line, _ in held.values():
            report(line | {"status": PENDING, "reason": reason})
    for url in unique:  # a URL the crawl never answered for is reported, not lost
        if url not in results:
            report(Capture(input_url=url, url=url).settle(FAILED, "no response").result())
    return [results[u] for u in unique]


def checked_settings(obj: dict[str, Any], overrides: dict[str, Any] | None = None) -> Any:
    """The Scrapy settings of the command's settings (and Scrapy `overrides`), checked
    before any work: the store, the catalog, the spool, the wire services file."""
    from archive.app.runner import check_config, project_settings
    from archive.core.errors import ConfigError

    settings = project_settings(obj["settings"], overrides)
    try:
        check_config(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return settings
