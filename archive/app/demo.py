"""`wirearchive demo`: serve the bundled sample blog on loopback and archive it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click

DEMO_SITE = Path(__file__).parent / "demo_site"
DEMO_PORT = 8737  # a fixed port keeps the demo's URLs, and so its article ids, stable across runs
_ORIGIN = "{{ORIGIN}}"


class SiteHandler(SimpleHTTPRequestHandler):
    """Serve a folder, writing the server's own origin where a file says {{ORIGIN}}."""

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if path.is_file() and path.suffix in (".xml", ".txt", ".html"):
            body = path.read_bytes().replace(_ORIGIN.encode(), self.origin.encode())
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        return super().send_head()

    @property
    def origin(self) -> str:
        address = self.server.server_address
        if not isinstance(address, tuple):
            raise TypeError(f"the demo site is served over TCP, not at {address!r}")
        host, port = address[:2]
        return f"http://{host}:{port}"

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_site(root: Path, port: int = DEMO_PORT) -> Iterator[str]:
    """Serve `root` on 127.0.0.1:`port`; yield the origin.

    A taken port is an error, not a reason to take another: the URLs, and so the article
    ids, would change, and a rerun would archive every post again as a duplicate.
    """
    handler = partial(SiteHandler, directory=str(root))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise click.ClickException(
            f"cannot serve the sample blog on 127.0.0.1:{port}: {exc.strerror or exc}. "
            "Is another `wirearchive demo` running? Stop it, or give --port N (the posts "
            "then get other URLs and ids than those archived from port "
            f"{DEMO_PORT})"
        ) from None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def site_urls(root: Path, origin: str) -> list[str]:
    """The page URLs the site's sitemap lists."""
    sitemap = (root / "sitemap.xml").read_text(encoding="utf-8")
    return [loc.replace(_ORIGIN, origin) for loc in re.findall(r"<loc>\s*(.*?)\s*</loc>", sitemap)]


def sources_toml(origin: str) -> str:
    """A sources file with the sample blog as its one source."""
    return f'[[sources]]\nname = "demo"\nurl = "{origin}/"\n'


def command(obj: dict[str, str]) -> str:
    """`wirearchive` with the --db and --store this run was given, for a command to copy."""
    import shlex

    from archive.core.settings import DEFAULTS

    words = ["wirearchive"]
    for option, value, default in (
        ("--db", obj["db"], DEFAULTS.db),
        ("--store", obj["store"], DEFAULTS.store),
    ):
        if value != default:
            words += [option, shlex.quote(value)]
    return " ".join(words)


def serve_demo(obj: dict[str, str], port: int = DEMO_PORT) -> None:
    """Serve the sample blog until Ctrl-C, with a sources file for `wirearchive crawl`."""
    import threading

    with serve_site(DEMO_SITE, port) as origin:
        sources = Path(obj["db"]).parent / "demo-sources.toml"
        sources.parent.mkdir(parents=True, exist_ok=True)
        sources.write_text(sources_toml(origin), encoding="utf-8")
        click.echo(f"Serving the sample blog at {origin}/ (feed.xml, sitemap.xml, robots.txt)")
        click.echo(f"Sources file: {sources}")
        click.echo("Crawl it from another terminal (the address guard refuses loopback unless")
        click.echo("allowed):")
        click.echo(
            f"  WIREARCHIVE_ALLOW_PRIVATE=127.0.0.0/8 {command(obj)} crawl --sources {sources}"
        )
        click.echo("Ctrl-C stops the server.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            click.echo("stopped", err=True)


def run_demo(obj: dict[str, Any], port: int = DEMO_PORT) -> None:
    """Archive the sample blog into the configured catalog and store; print what it did."""
    from archive.app.add import archive_urls
    from archive.storage.catalog import Catalog

    with serve_site(DEMO_SITE, port) as origin:
        urls = site_urls(DEMO_SITE, origin)
        click.echo(f"Serving the sample blog at {origin}/ ({len(urls)} posts); archiving it...")
        # The sample site is on loopback, which the address guard otherwise refuses.
        loopback = obj["settings"].with_options(allow_private="127.0.0.0/8")
        results = archive_urls(urls, obj | {"settings": loopback})
    catalog = Catalog(obj["db"])
    click.echo()
    for result in results:
        row = catalog.article(result["id"]) if result["id"] else None
        title = row["title"] if row else result.get("reason", "")
        wire = f"  [wire: {row['wire_source']}]" if row and row["wire_source"] else ""
        click.echo(f"{result['status']:>10}  {result['id'] or '-':20}  {title}{wire}")
    click.echo()
    click.echo(f"Catalog: {obj['db']}   Objects: {obj['store']}")
    click.echo(f"Example search: {command(obj)} search NATO")
    for hit in catalog.search("NATO", limit=3):
        click.echo(f"  {hit['id']}  {hit['title']}")
        click.echo(f"      {' '.join(hit['snippet'].split())}")
    click.echo(f"More: {command(obj)} show ID, {command(obj)} stats")
