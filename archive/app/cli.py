"""The `wirearchive` command line."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from archive.app.add import PENDING, PENDING_REASON, archive_urls, checked_settings, pending_reason
from archive.core.settings import DEFAULTS, SettingsError, from_environ


class Command(click.Command):
    """A wirearchive command: --db or --store after its name gets told where they go."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            name = exc.option_name
            if name in GLOBAL_OPTIONS:
                message = (
                    f"{name} goes before the command: wirearchive {name} VALUE {ctx.info_name} ..."
                )
            elif not exc.possibilities and any(isinstance(p, click.Argument) for p in self.params):
                message = (
                    f"{exc.message} (an argument that starts with '-' goes after '--' and the "
                    f"options: wirearchive {ctx.info_name} [OPTIONS] -- {name})"
                )
            else:
                raise
            raise click.NoSuchOption(name, message, exc.possibilities, ctx) from None


GLOBAL_OPTIONS = ("--db", "--store")


class BadSetting(click.ClickException):
    """A setting (variable or option) with a bad value: its one line, exit status 2."""

    exit_code = 2


class Commands(click.Group):
    """The command group: a bad setting ends any command with its one line (BadSetting)."""

    command_class = Command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise BadSetting(str(exc)) from None


def given(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """An option that overrides a setting: its value when given, else None (the setting's
    variable or default then decide; the option shows the setting's default in --help)."""
    source = ctx.get_parameter_source(param.name or "")
    return None if source is click.core.ParameterSource.DEFAULT else value


# Options that override a setting read no variable themselves (archive/core/settings.py
# does), so that option > environment > default.
@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wirearchive", prog_name="wirearchive")
@click.option(
    "--db",
    default=DEFAULTS.db,
    show_default=True,
    callback=given,
    help="SQLite catalog file (env WIREARCHIVE_DB).",
)
@click.option(
    "--store",
    default=DEFAULTS.store,
    show_default=True,
    callback=given,
    help="Object store: a folder or s3://bucket/prefix (env WIREARCHIVE_STORE).",
)
@click.pass_context
def cli(ctx: click.Context, db: str | None, store: str | None) -> None:
    """wirearchive: a faithful, searchable archive of blog and wire posts."""
    settings = from_environ().with_options(db=db, store=store)
    ctx.obj = {"db": settings.db, "store": settings.store, "settings": settings}


@cli.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--file", "url_file", type=click.File("r"), help="Read URLs from FILE, one a line ('-': stdin)."
)
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log on stderr.")
@click.pass_obj
def add(obj: dict[str, Any], urls: tuple[str, ...], url_file: Any, verbose: bool) -> None:
    """Archive URLs on demand; prints one JSON line per URL, as each one is settled.

    A line comes out as soon as its URL is settled (an archived page once the store has its
    objects), so lines come in the order URLs finish, not the order given. Status "pending"
    means the page is captured and indexed but not in the store yet (the reason says why):
    its objects wait in the spool until `wirearchive flush`. Exit status 1 when any URL
    failed, was refused or is pending.
    """
    wanted = list(urls)
    if url_file is not None:
        wanted += url_lines(url_file)
    if not wanted:
        if url_file is not None:
            name = "standard input" if url_file.name == "<stdin>" else url_file.name
            raise click.UsageError(f"{name} holds no URL (one a line, '#' comments)")
        raise click.UsageError("give at least one URL, or --file FILE")
    results = archive_urls(wanted, obj, log_level=None if verbose else "WARNING", echo=True)
    if any(r["status"] in ("failed", "refused", PENDING) for r in results):
        sys.exit(1)


def url_lines(lines: Any) -> list[str]:
    """The URLs of a --file: one a line; blank lines, '#' comments (whole lines, or after a
    space) and a byte-order mark left out."""
    import re

    found = []
    for line in lines:
        url = re.sub(r"(^|\s)#.*", "", line.lstrip("\ufeff")).strip()
        if url:
            found.append(url)
    return found


def _sources_options(command: Any) -> Any:
    """--sources FILE and --source NAME..., for the commands that read the sources file."""
    command = click.option(
        "--source", "names", multiple=True, help="Only this source (repeatable)."
    )(command)
    return click.option(
        "--sources",
        "sources_file",
        default=DEFAULTS.sources,
        show_default=True,
        callback=given,
        help="The sources file (TOML; env WIREARCHIVE_SOURCES).",
    )(command)


@cli.command()
@_sources_options
@click.option(
    "--since",
    help="Only posts published on or after DATE (YYYY-MM-DD): by the listing's date, else "
    "(sitemaps, archive pages) by the page's, once fetched; undated posts are kept.",
)
@click.option("--max-pages", type=click.IntRange(min=0), help="At most N posts per source.")
@click.option(
    "--job-dir",
    type=click.Path(file_okay=False),
    help="Keep crawl state here: an interrupted run resumes where it stopped.",
)
@click.option(
    "--redis",
    "redis_url",
    help="Share one frontier with the other workers at redis://HOST:PORT/DB "
    "(env WIREARCHIVE_REDIS); see docs/scaling.md.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log (INFO) on stderr.")
@click.pass_obj
def crawl(
    obj: dict[str, Any],
    sources_file: str | None,
    names: tuple[str, ...],
    since: str | None,
    max_pages: int | None,
    job_dir: str | None,
    redis_url: str | None,
    verbose: bool,
) -> None:
    """Crawl the configured sources: new and changed posts only.

    Exit status 1 when a source failed as a whole, the run was interrupted, or articles wait
    in the spool for an unreachable store; pages that failed alone are counted in the
    summary and do not change the exit status, nor does a `partial` source (read to the
    end, but its listing is known to be cut: the reason is printed).
    """
    from archive.app.crawl import CrawlOptions, run_crawl, summary_table
    from archive.core.clock import iso_date
    from archive.core.errors import ConfigError
    from archive.storage.lock import CrawlLocked

    settings = obj["settings"].with_options(sources=sources_file, redis=redis_url)
    sources = _chosen_sources(settings.sources, names)
    try:
        iso_date(since)
    except ValueError:
        raise click.BadParameter(
            f"{since!r} is not a date (YYYY-MM-DD)", param_hint="--since"
        ) from None
    options = CrawlOptions(
        settings=settings,
        sources_file=settings.sources,
        since=since,
        max_pages=max_pages,
        job_dir=job_dir,
        progress=sys.stderr.isatty(),
        verbose=verbose,
    )
    try:
        crawl_id, rows, upload_error = run_crawl(sources, options)
    except (CrawlLocked, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"crawl {crawl_id}:")
    click.echo(summary_table(rows))
    for row in rows:
        if row["status"] != "ok":
            click.echo(f"{row['source']}: {row['status']}: {row['reason']}", err=True)
    # partial: the source was read to the end of what it lists, and what it lists is cut.
    bad = [r for r in rows if r["status"] not in ("ok", "partial")]
    # Rows pending because this run's upload failed; others' are other runs' at work.
    waiting = _catalog(obj).stats()["pending"] if upload_error else 0
    if waiting:
        click.echo(f"{waiting} articles: {pending_reason(upload_error)}", err=True)
    if len(rows) < len(sources) or any(r["status"] == "interrupted" for r in rows):
        click.echo("interrupted: run again (with the same --job-dir) to resume", err=True)
        sys.exit(1)
    if bad or waiting:
        sys.exit(1)


@cli.command()
@_sources_options
@click.option(
    "--redis",
    "redis_url",
    help="The shared frontier, redis://HOST:PORT/DB (env WIREARCHIVE_REDIS); required.",
)
@click.pass_obj
def seed(
    obj: dict[str, Any], sources_file: str | None, names: tuple[str, ...], redis_url: str | None
) -> None:
    """Queue the sources' start requests in the shared frontier, fetching nothing.

    Workers (`wirearchive crawl --redis URL`) seed too; several seeders at once queue each
    start request once. Prints the run each source's requests went into.
    """
    from archive.app.crawl import seed_frontier
    from archive.core.errors import ConfigError

    settings = obj["settings"].with_options(sources=sources_file, redis=redis_url)
    if settings.redis is None:
        raise click.UsageError("Missing option '--redis' (or WIREARCHIVE_REDIS).")
    sources = _chosen_sources(settings.sources, names)
    try:
        seeded = seed_frontier(sources, settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    for name, row in seeded.items():
        click.echo(f"{name}: run {row['run']}, {row['queued']} requests queued")


def _chosen_sources(sources_file: str, names: tuple[str, ...]) -> list[Any]:
    """The sources of `sources_file`, only those named when names are given."""
    from crawlers.sources import SourcesError, load_sources

    try:
        sources = load_sources(sources_file)
    except SourcesError as exc:
        raise click.ClickException(str(exc)) from None
    unknown = sorted(set(names) - {s.name for s in sources})
    if unknown:
        raise click.ClickException(f"no source named {', '.join(unknown)} in {sources_file}")
    return [s for s in sources if s.name in names] if names else sources


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A --since/--until value, checked as a date and given back as YYYY-MM-DD."""
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@cli.command()
@click.argument("query")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="At most N articles, best match first.",
)
@click.option(
    "--fts",
    is_flag=True,
    help="Read QUERY as SQLite FTS5 syntax: 'nato OR otan', 'nato NOT summit', '\"exact phrase\"', "
    "'talk*'.",
)
@click.option("--source", help="Only articles from this source.")
@click.option(
    "--wire",
    "wire_source",
    help="Only articles attributed to this wire service (any case: reuters, Reuters).",
)
@click.option(
    "--since", callback=_day, help="Only articles published on or after DATE (a UTC day)."
)
@click.option(
    "--until", callback=_day, help="Only articles published on or before DATE (a UTC day)."
)
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text.")
@click.pass_obj
def search(
    obj: dict[str, str],
    query: str,
    limit: int,
    fts: bool,
    source: str | None,
    wire_source: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    """Full-text search over titles and texts.

    Every word must match (stemmed: 'talks' finds 'talk'); --fts for OR, NOT and phrases.
    A query that starts with '-' goes after '--': wirearchive search -- -word.
    """
    import sqlite3

    catalog = _catalog(obj)
    try:
        hits = catalog.search(
            query,
            limit=limit,
            source=source,
            wire_source=wire_source,
            since=since,
            until=until,
            fts=fts,
        )
    except sqlite3.OperationalError as exc:
        raise click.ClickException(
            f'bad FTS query {query!r} ({exc}): FTS5 syntax takes words, "phrases", AND, OR, '
            "NOT and the columns title: and text:; quote a word with - or : in it"
        ) from None
    for hit in hits:
        if as_json:
            click.echo(json.dumps(hit, ensure_ascii=False))
            continue
        wire = f"  [{hit['wire_source']}]" if hit["wire_source"] else ""
        click.echo(f"{hit['id']}  {(hit['published'] or '----------')[:10]}  {hit['title']}{wire}")
        click.echo(f"    {hit['url']}")
        click.echo(f"    {' '.join(hit['snippet'].split())}")
    if not hits and not as_json:
        click.echo(_no_hits(catalog, query, source, wire_source, since, until), err=True)


def _no_hits(
    catalog: Any,
    query: str,
    source: str | None,
    wire_source: str | None,
    since: str | None,
    until: str | None,
) -> str:
    """Why a search found nothing: a filter that matches no article, or the query."""
    db = catalog.db
    if (
        wire_source
        and not db.execute(
            "select 1 from articles where wire_source = ? collate nocase limit 1", [wire_source]
        ).fetchone()
    ):
        known = [r[0] for r in db.execute("select distinct wire_source from articles order by 1")]
        named = ", ".join(k for k in known if k) or "none"
        return f"no article is attributed to wire {wire_source!r} (wire services: {named})"
    if (
        source
        and not db.execute("select 1 from articles where source = ? limit 1", [source]).fetchone()
    ):
        seen = db.execute(
            "select count(distinct article_id) from ledger where source = ?", [source]
        ).fetchone()[0]
        if seen:
            return (
                f"no article comes from source {source!r}: an article's source is the one that "
                f"archived it first, and the {seen} articles {source!r} saw were archived "
                "before by another"
            )
        return f"no article comes from source {source!r}"
    filters = [
        f"{name} {value}"
        for name, value in (
            ("--source", source),
            ("--wire", wire_source),
            ("--since", since),
            ("--until", until),
        )
        if value
    ]
    return f"no articles match {query!r}" + (f" with {' '.join(filters)}" if filters else "")


@cli.command()
@click.argument("id_or_url")
@click.option("--json", "as_json", is_flag=True, help="The whole record as JSON.")
@click.option(
    "--raw",
    is_flag=True,
    help="The stored HTTP response as received (status, headers, body before decoding).",
)
@click.option(
    "--decoded",
    is_flag=True,
    help="With --raw: the body decoded (gzip, br... undone) and its headers to match.",
)
@click.pass_obj
def show(obj: dict[str, str], id_or_url: str, as_json: bool, raw: bool, decoded: bool) -> None:
    """Show one article: metadata, captures and text.

    ID_OR_URL: an article id, the start of one (6+ characters), or a URL as given to `add`.
    """
    if decoded and not raw:
        raise click.UsageError("--decoded goes with --raw")
    catalog = _catalog(obj)
    article = _article(catalog, obj, id_or_url)
    if raw:
        from archive.storage.spool import read_span
        from archive.storage.store import StoreError
        from archive.storage.warc import stored_response

        store, spool = _store_and_spool(obj)
        try:
            span = read_span(
                store, spool, article["raw_key"], article["raw_offset"], article["raw_length"]
            )
        except KeyError:
            message = (
                f"raw capture {article['raw_key']} is neither in the store {obj['store']} nor "
                "in the spool (is --store the archive's store?)"
            )
            raise click.ClickException(message) from None
        except StoreError as exc:
            message = f"raw capture {article['raw_key']} unavailable: {exc}"
            raise click.ClickException(message) from None
        sys.stdout.buffer.write(stored_response(span, decoded))
        return
    captures = catalog.captures_of(article["id"])
    revisions = catalog.revisions_of(article["id"])
    story = catalog.cluster(article["cluster_id"]) if article.get("cluster_id") else None
    if as_json:
        record = article | {"captures": captures, "revisions": revisions, "cluster": story}
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    for field in (
        "id",
        "title",
        "author",
        "published",
        "modified",
        "url",
        "canonical_url",
        "sitename",
        "language",
        "wire_source",
        "duplicate_of",
        "tags",
        "categories",
        "gone_at",
        "protected",
        "first_seen",
        "fetched_at",
        "raw_key",
        "json_key",
        "extractor",
    ):
        value = article.get(field)
        if value:
            click.echo(f"{field:>14}: {', '.join(value) if isinstance(value, list) else value}")
    if article["pending"]:
        click.echo(f"{'status':>14}: {PENDING}: {PENDING_REASON}")
    for capture in captures:
        revisit = capture.get("record_type") == "revisit"
        click.echo(
            f"{'revisit' if revisit else 'capture':>14}: {capture['fetched_at']}  "
            f"HTTP {capture['status_code']}  {capture['length']} bytes  "
            f"{capture['warc_key']} @{capture['warc_offset']}"
        )
    for number, old in enumerate(revisions, 1):
        click.echo(
            f"{'revision ' + str(number):>14}: {old['fetched_at']} .. {old['superseded_at']}  "
            f"{old['title']}  ({len(old['text'])} chars, {old['json_key']})"
        )
    if story is not None and story["size"] > 1:
        click.echo(
            f"{'cluster':>14}: {story['id']}  {story['size']} copies, origin {story['origin_id']}"
            + (f", wire {story['wire_source']}" if story["wire_source"] else "")
        )
        for member in story["members"]:
            if member["id"] != article["id"]:
                click.echo(f"{'':>16}{_member_line(member)}")
    click.echo()
    click.echo(article["text"])


def _resolve(catalog: Any, id_or_url: str) -> dict[str, Any] | None:
    """The article named by its id, the start of its id (6+ characters, one article), or its
    URL as given or as `add` normalises it (scheme and host case, tracking parameters)."""
    from pipelines.identity import article_id, normalize

    found = catalog.resolve(id_or_url)
    if found is not None:
        return found
    if "://" in id_or_url:
        try:
            url = normalize(id_or_url)
        except ValueError:
            return None
        return catalog.resolve(url) or catalog.article(article_id(url))
    if len(id_or_url) < 6 or not id_or_url.isalnum():
        return None
    id_or_url = id_or_url.lower()  # ids are lower-case hex
    ids = [
        r[0]
        for r in catalog.db.execute(
            "select id from articles where id >= ? and id < ? order by id limit 6",
            [id_or_url, id_or_url + "\U0010ffff"],
        )
    ]
    if len(ids) > 1:
        raise click.ClickException(
            f"{id_or_url!r} is the start of several ids: {', '.join(ids[:5])}"
            + (", ..." if len(ids) > 5 else "")
        )
    return catalog.article(ids[0]) if ids else None


@cli.command()
@click.argument("id_or_url")
@click.option(
    "--from",
    "start",
    type=int,
    help="The older version's number (1 is the first; -2, the default, the one before last).",
)
@click.option(
    "--to", "end", type=int, help="The newer version's number (default -1: the current one)."
)
@click.option(
    "--origin",
    is_flag=True,
    help="Compare the article with its story's origin instead: what this copy added, cut "
    "or changed.",
)
@click.option("--json", "as_json", is_flag=True, help="The diff as JSON, with its word spans.")
@click.pass_obj
def diff(
    obj: dict[str, str],
    id_or_url: str,
    start: int | None,
    end: int | None,
    origin: bool,
    as_json: bool,
) -> None:
    """Show what changed between two versions of an article, word by word.

    Removed words are marked [-like this-], added ones {+like this+}; only the paragraphs
    that changed are shown. ID_OR_URL as for `show`; `show` lists the versions.
    """
    from archive.core.worddiff import changed_paragraphs, marked
    from archive.storage.edits import against_origin, compare, pick, versions

    if origin and (start is not None or end is not None):
        raise click.UsageError("--origin compares the current texts: no --from or --to with it")
    catalog = _catalog(obj)
    article = _article(catalog, obj, id_or_url)
    try:
        if origin:
            found = against_origin(catalog, article)
        else:
            found = compare(article, *pick(versions(catalog, article), start, end))
    except ValueError as exc:
        raise click.ClickException(f"article {article['id']}: {exc}") from None
    if as_json:
        click.echo(json.dumps(found.record(), ensure_ascii=False, indent=2))
        return
    added, removed = found.words
    old, new = found.old, found.new
    click.echo(f"{article['id']}  {article['url']}")
    if found.origin is not None:
        base = f"the story's origin {found.origin['id']} {found.origin['url']}"
    else:
        base = f"version {old.number} (fetched {old.fetched_at})"
        base += f" -> version {new.number} (fetched {new.fetched_at})"
    click.echo(f"{base}: {added} words added, {removed} removed")
    if found.title_changed:
        click.echo(f"title: {marked(found.title)}")
    paragraphs = changed_paragraphs(found.text)
    for paragraph in paragraphs:
        click.echo()
        click.echo(paragraph)
    if not paragraphs and not found.title_changed:
        click.echo("no change in title or text")


@cli.command()
@click.option(
    "--since", callback=_day, help="Only edits found on or after DATE (a UTC day; default: any)."
)
@click.option("--source", help="Only articles from this source.")
@click.option("--limit", type=click.IntRange(min=1), help="At most N edits.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text.")
@click.pass_obj
def changes(
    obj: dict[str, str], since: str | None, source: str | None, limit: int | None, as_json: bool
) -> None:
    """List the edits of archived articles: each change of title or text, largest first.

    An edit is found when a crawl fetches a changed version; its size is the words added
    and removed. `wirearchive diff ID --from N --to M` shows one.
    """
    from archive.storage.edits import edits

    found = edits(_catalog(obj), since, source)[:limit]
    for edit in found:
        if as_json:
            click.echo(json.dumps(edit.record(spans=False), ensure_ascii=False))
            continue
        added, removed = edit.words
        headline = (" [headline]" if edit.title_changed else "") + f"  {edit.new.title}"
        click.echo(
            f"{edit.new.fetched_at}  +{added} -{removed}  {edit.article['id']}  "
            f"v{edit.old.number}->v{edit.new.number}{headline}"
        )
    if not found and not as_json:
        click.echo("no edits" + (f" since {since}" if since else ""), err=True)


def _article(catalog: Any, obj: dict[str, str], id_or_url: str) -> dict[str, Any]:
    """The article named by ID_OR_URL (see `_resolve`), or a clear error."""
    article = _resolve(catalog, id_or_url.strip())
    if article is None:
        hint = ""
        if "://" not in id_or_url and len(id_or_url.strip()) < 6:
            hint = " (the start of an id needs 6 or more characters)"
        raise click.ClickException(f"no article {id_or_url!r} in {obj['db']}{hint}")
    return article


def _member_line(member: dict[str, Any]) -> str:
    similarity = member["similarity"] if member["similarity"] is not None else 1.0
    return (
        f"{member['id']}  {(member['published'] or '----------')[:10]}  {similarity:.2f}  "
        f"{member['sitename'] or ''}  {member['url']}"
    )


@cli.command()
@click.option(
    "--min-size",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="Only stories with N+ copies.",
)
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(min=1), help="At most N stories."
)
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one story each.")
@click.pass_obj
def clusters(obj: dict[str, str], min_size: int, limit: int, as_json: bool) -> None:
    """Stories archived more than once (near-duplicate clusters), biggest first."""
    for story in _catalog(obj).clusters(min_size=min_size, limit=limit):
        if as_json:
            click.echo(json.dumps(story, ensure_ascii=False))
            continue
        origin = next(m for m in story["members"] if m["id"] == story["origin_id"])
        wire = f"  [wire: {story['wire_source']}]" if story["wire_source"] else ""
        click.echo(f"{story['id']}  {story['size']} copies  {origin['title']}{wire}")
        for member in story["members"]:
            mark = "*" if member["id"] == story["origin_id"] else " "
            click.echo(f"  {mark} {_member_line(member)}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
@click.option(
    "--limit",
    default=5,
    show_default=True,
    type=click.IntRange(min=0),
    help="How many recent crawls to show.",
)
@click.pass_obj
def stats(obj: dict[str, str], as_json: bool, limit: int) -> None:
    """What the archive holds, and the recent crawls."""
    from archive.app.crawl import summary_table

    catalog = _catalog(obj)
    figures = catalog.stats()
    crawls = catalog.recent_crawls(limit)
    if as_json:  # the record GET /api/stats answers
        from archive.service.apimodels import Stats

        click.echo(Stats.model_validate(figures | {"crawls": crawls}).model_dump_json())
        return
    for key, value in figures.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
        click.echo(f"{key:>15}: {value}")
    for run in crawls:
        click.echo()
        click.echo(
            f"crawl {run['id']}  {run['started_at']} .. {run['finished_at'] or '(running)'}"
            f"  {run['status']}"
        )
        if run["sources"]:
            click.echo(summary_table(run["sources"]))


@cli.command()
@click.pass_obj
def reindex(obj: dict[str, str]) -> None:
    """Rebuild the catalog (articles, revisions, captures, clusters) from the store alone."""
    from archive.app.progress import ProgressLine
    from archive.app.reindex import reindex as rebuild
    from archive.storage.catalog import Catalog
    from archive.storage.store import open_store
    from pipelines.neardup import NearDuplicateIndex, near_settings

    settings = checked_settings(obj)
    store = open_store(obj["store"])
    if not any(True for prefix in ("raw/", "articles/") for _ in store.keys(prefix)):
        raise click.ClickException(
            f"the store {obj['store']} holds no WARC file nor article document: nothing to "
            "rebuild from (is --store the archive's store?)"
        )
    catalog = Catalog(obj["db"])
    index = NearDuplicateIndex(catalog.db, *near_settings(settings))
    with ProgressLine("reindex") as line:
        counts = rebuild(
            store,
            catalog,
            index,
            line.phase("WARC files read"),
            line.phase("articles"),
        )
    stories = catalog.db.execute("select count(*) from clusters").fetchone()[0]
    click.echo(
        f"reindexed {counts.articles} articles ({counts.versions} texts), "
        f"{counts.captures} captures, {stories} stories from {obj['store']}"
    )
    if counts.deferred:
        click.echo(
            f"{counts.deferred} WARC files deferred: objects they need are not in the store "
            "yet; `wirearchive ingest` indexes them once they are",
            err=True,
        )


@cli.command()
@click.option("--follow", is_flag=True, help="Keep ingesting until SIGINT or SIGTERM.")
@click.option(
    "--interval",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds between passes with --follow.",
)
@click.option("--full", is_flag=True, help="List all of raw/ (the first pass), not recent days.")
@click.option(
    "--lookback-days",
    default=2,
    show_default=True,
    type=click.IntRange(min=0),
    help="List the day folders from the newest ingested one less N days.",
)
@click.pass_obj
def ingest(
    obj: dict[str, str], follow: bool, interval: float, full: bool, lookback_days: int
) -> None:
    """Index the WARC files and articles that crawling machines uploaded to the store.

    Incremental: WARC files already ingested are skipped, and only the recent day folders of
    raw/ are listed. A WARC file whose article documents are not in the store yet is
    deferred to the next pass. Holds the catalog's crawl lock, so no local crawl writes
    meanwhile. With --follow, store errors are reported and the pass is tried again; SIGINT
    or SIGTERM ends the run after the current pass.
    """
    import logging
    import signal
    import threading

    from archive.storage.catalog import Catalog
    from archive.storage.lock import CrawlLocked, crawl_lock
    from archive.storage.store import StoreError, open_store
    from pipelines.neardup import NearDuplicateIndex, near_settings

    settings = checked_settings(obj)
    try:
        store = open_store(obj["store"])
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    logging.basicConfig(level=logging.WARNING, format="%(message)s")  # deferred WARC files
    stop = threading.Event()
    if follow:
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda *_: stop.set())
    try:
        with crawl_lock(obj["db"]):
            catalog = Catalog(obj["db"])
            index = NearDuplicateIndex(catalog.db, *near_settings(settings))
            try:
                while True:
                    if _ingest_pass(store, catalog, index, full, lookback_days, follow):
                        full = False  # caught up: the next passes list the recent days only
                    if not follow or stop.wait(interval):
                        break
            finally:
                catalog.close()
    except CrawlLocked as exc:
        raise click.ClickException(f"cannot ingest: {exc}") from None


def _ingest_pass(
    store: Any, catalog: Any, index: Any, full: bool, lookback_days: int, follow: bool
) -> bool:
    """One ingest pass, its counts printed; False after a store error, which is reported
    with --follow (the next pass tries again) and fatal without it."""
    from archive.app.ingest import ingest
    from archive.app.progress import ProgressLine
    from archive.storage.store import StoreError

    try:
        with ProgressLine("ingest") as line:
            reading, recording = line.phase("WARC files read"), line.phase("articles")
            counts = ingest(store, catalog, index, full, lookback_days, reading, recording)
    except (StoreError, OSError) as exc:
        if not follow:
            raise click.ClickException(f"cannot ingest from {store.uri}: {exc}") from None
        click.echo(f"store error, trying again next pass: {exc}", err=True)
        return False
    click.echo(
        f"ingested {counts.warcs} WARC files: {counts.captures} captures, "
        f"{counts.articles} articles ({counts.versions} texts); {counts.deferred} deferred"
    )
    return True


@cli.command()
@click.option("--since", callback=_day, help="Only articles fetched on or after DATE (YYYY-MM-DD).")
@click.option("--source", help="Only articles from this source.")
@click.pass_obj
def reextract(obj: dict[str, Any], since: str | None, source: str | None) -> None:
    """Extract stored captures again (no network); a changed text becomes a new version."""
    from archive.app.progress import ProgressLine
    from archive.app.reextract import reextract as rerun
    from archive.storage.store import open_store
    from pipelines.extract import freeze_agencies
    from pipelines.wire import load_agencies

    try:
        agencies = load_agencies(obj["settings"].wire_agencies)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    store, catalog = open_store(obj["store"]), _catalog(obj)
    with ProgressLine("reextract") as line:
        report = line.phase("articles")
        counts = rerun(store, catalog, freeze_agencies(agencies), since, source, report)
    click.echo(
        f"reextracted {counts.seen} articles: {counts.changed} new texts, "
        f"{counts.unchanged} unchanged, {counts.failed} without text now"
    )


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "parquet", "wacz"]),
    default="jsonl",
    show_default=True,
    help="One JSON object a line, CSV with a header, Parquet (to a file or a pipe), or a "
    "WACZ web archive package of the articles' captures (to a file: -o FILE.wacz) that "
    "ReplayWeb.page and pywb replay.",
)
@click.option(
    "--since", callback=_day, help="Only articles published on or after DATE (a UTC day)."
)
@click.option(
    "--until", callback=_day, help="Only articles published on or before DATE (a UTC day)."
)
@click.option("--source", help="Only articles from this source.")
@click.option("--cluster", "cluster_id", help="Only the articles of this story (cluster id).")
@click.option("--include-duplicates", is_flag=True, help="Also exact duplicates of others.")
@click.option(
    "--all-versions",
    is_flag=True,
    help="Every text of each article (its `version` 1, 2, ...), not only its current one.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    show_default=True,
    help="Write to FILE ('-': stdout).",
)
@click.pass_obj
def export(
    obj: dict[str, str],
    fmt: str,
    since: str | None,
    until: str | None,
    source: str | None,
    cluster_id: str | None,
    include_duplicates: bool,
    all_versions: bool,
    output: str,
) -> None:
    """Export articles as JSON lines, CSV or Parquet, oldest first, streamed.

    The fields are the same in every format (docs/schema.md: Export schema). Articles still
    pending are left out; so are exact duplicates unless --include-duplicates. A file is
    written as FILE.part and renamed when complete.
    """
    from archive.app.export import Selection
    from archive.app.progress import ProgressLine

    if output == "-" and fmt == "parquet" and sys.stdout.isatty():
        raise click.ClickException("Parquet is binary: give -o FILE or pipe the output")
    if fmt == "wacz" and (output == "-" or all_versions):
        raise click.UsageError("--format wacz writes a file (-o FILE.wacz), of current versions")
    selection = Selection(since, until, source, cluster_id, include_duplicates, all_versions)
    what = "versions" if all_versions else "articles"
    with ProgressLine("export") as line:
        count = _export(obj, fmt, selection, output, line.phase(what))
    click.echo(f"exported {count} {what} to {'stdout' if output == '-' else output}", err=True)


def _export(obj: dict[str, str], fmt: str, selection: Any, output: str, progress: Any) -> int:
    """Write the selected articles in `fmt` to `output` ('-': stdout); how many."""
    import os
    from pathlib import Path

    from archive.app.export import WRITERS, select_articles
    from archive.app.wacz import PackageError, write_wacz

    catalog = _catalog(obj)
    batches = select_articles(catalog.db.conn, selection, progress)
    if fmt == "wacz":
        store, spool = _store_and_spool(obj)
        writers = {"wacz": lambda rows, sink: write_wacz(rows, sink, catalog, store, spool)}
    else:
        writers = WRITERS
    if output == "-":
        try:
            count = writers[fmt](batches, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # the reader stopped early (`| head`): no traceback
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
    else:
        partial = Path(f"{output}.part")
        try:
            with partial.open("wb") as sink:
                count = writers[fmt](batches, sink)
            partial.replace(output)
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc}") from None
        except PackageError as exc:
            raise click.ClickException(f"cannot package the captures: {exc}") from None
        finally:  # whatever stopped the export, no half-written file is left
            partial.unlink(missing_ok=True)
    return count


@cli.command()
@click.pass_obj
def flush(obj: dict[str, Any]) -> None:
    """Upload what waits in the spool: after a store outage or an interrupted run.

    Exit status 1 when objects still wait (the store is unreachable again).
    """
    from archive.storage.flush import flush as upload_spool

    checked_settings(obj)
    store, spool = _store_and_spool(obj)
    assert spool is not None
    report = upload_spool(spool, store, _catalog(obj), obj["settings"].upload_workers)
    if report.recovered or report.regenerated:
        click.echo(
            f"recovered {report.recovered} WARC files and {report.regenerated} article "
            "documents left by an interrupted run"
        )
    click.echo(
        f"uploaded {report.uploaded} objects ({report.bytes / 1e6:.1f} MB); "
        f"{report.settled} articles archived; {report.waiting} objects still waiting"
    )
    if report.missing:
        click.echo(f"missing from spool and store: {', '.join(report.missing)}", err=True)
    if report.error:
        click.echo(f"stopped: {report.error}", err=True)
    if report.error or report.missing or report.waiting:
        sys.exit(1)


@cli.command()
@click.option(
    "--serve",
    "serve_only",
    is_flag=True,
    help="Only serve the sample blog (until Ctrl-C) and write a sources file for `crawl`.",
)
@click.option(
    "--port",
    default=8737,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port on 127.0.0.1; the posts' URLs, and so their ids, include it.",
)
@click.pass_obj
def demo(obj: dict[str, Any], serve_only: bool, port: int) -> None:
    """Serve the bundled sample blog on loopback, archive it, and search it."""
    from archive.app.demo import run_demo, serve_demo

    if serve_only:
        serve_demo(obj, port)
    else:
        run_demo(obj, port)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.pass_obj
def serve(obj: dict[str, Any], host: str, port: int) -> None:
    """Serve the archive over HTTP: a JSON API (/api, /openapi.json) and web pages.

    Env: WIREARCHIVE_API_TOKEN (when set, submitting URLs needs it), WIREARCHIVE_API_QUEUE
    (jobs that may wait), WIREARCHIVE_API_RATE (submissions a minute per client),
    WIREARCHIVE_TRUSTED_PROXIES (proxies whose X-Forwarded-For is believed); their defaults
    are in docs/configuration.md.
    """
    from archive.service.server import ServeError
    from archive.service.server import serve as run_server
    from archive.service.service import ServiceConfig

    checked_settings(obj)
    config = ServiceConfig.from_settings(obj["settings"])
    if config.token is None and not _loopback(host):
        click.echo(
            f"warning: serving on {host} without WIREARCHIVE_API_TOKEN: anyone who can reach "
            "it can have URLs archived (set a token, see docs/api.md)",
            err=True,
        )
    try:
        run_server(config, host, port)
    except ServeError as exc:
        raise click.ClickException(str(exc)) from None


def _loopback(host: str) -> bool:
    """Whether `host` (an address or name to bind to) is only reachable from this machine."""
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _store_and_spool(obj: dict[str, Any]) -> tuple[Any, Any]:
    """The store, and the spool where its objects wait (None when there is none yet)."""
    from archive.storage.spool import Spool, SpoolError
    from archive.storage.store import StoreError, open_store
    from archive.storage.uploader import spool_dir

    try:
        store = open_store(obj["store"])
        folder = spool_dir(obj["db"], obj["settings"].spool)
        return store, Spool(folder, store.uri, catalog=obj["db"]) if folder.exists() else None
    except (StoreError, SpoolError) as exc:
        raise click.ClickException(str(exc)) from None


def _catalog(obj: dict[str, str]) -> Any:
    from pathlib import Path

    from archive.storage.catalog import Catalog

    if not Path(obj["db"]).exists():
        raise click.ClickException(f"no catalog at {obj['db']}: archive something first")
    return Catalog(obj["db"])


def main() -> None:
    """Console entry point: a catalog that cannot be opened is one line, not a traceback."""
    from archive.storage.catalog import CatalogError

    try:
        cli()
    except CatalogError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
