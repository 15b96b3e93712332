"""Real static blogs for the conformance suite: Hugo (Debian's `hugo`) and Pelican (PyPI) sites
generated from the corpus posts in posts.json, a loopback file server for their build output,
and the ground truth (URL, title, author, UTC date, categories, tags, text) of every post.

A site is served first (port 0) and built second, because both generators write absolute URLs
into feeds, sitemaps and links. `StaticSite.build()` can run again after an edit: the server
keeps serving the same output folder, which each build empties and fills anew.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import mimetypes
import re
import shutil
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
POSTS_JSON = HERE / "posts.json"
# A small theme shaped like the popular ones (PaperMod, Ananke): Hugo's own OpenGraph, schema
# and Twitter templates in the head, a JSON-LD BlogPosting on posts, a sidebar on every page.
HUGO_LAYOUTS = HERE / "hugo" / "layouts"
SITE_TITLE = "Wire Notes"
SITE_TZ = "Europe/Berlin"  # the blogs' own zone: dates written without an offset are in it
AUTHORS = ("Ana Lima", "Jörg Weber", "Sam Okafor")
CATEGORIES = ("World", "Science", "Technology", "Culture")
# One tag with a space and one with a non-ASCII letter: their URLs are slugs, their names not.
TAGS = ("climate", "open source", "Zürich", "politics", "travel", "security", "media")
POST_COUNT = 30
FEED_LIMIT = 10
PAGE_SIZE = 5
PLATFORMS = ("hugo", "pelican")
VARIANTS = ("full", "cut")  # the feed lists every post, or only the newest FEED_LIMIT


# ---------------------------------------------------------------------------------------------
# Content


@dataclass(eq=False)
class Post:
    """One post as its author writes it, and what a reader of the built site should see.
    Compared and hashed by identity: the change scenario edits posts in place."""

    slug: str
    title: str
    paragraphs: list[str]
    date: datetime  # aware; `naive_date` says whether the source file gives its offset
    author: str
    categories: list[str]  # Pelican keeps the first only
    tags: list[str]
    naive_date: bool = False
    draft: bool = False
    modified: datetime | None = None

    @property
    def published_utc(self) -> str:
        return self.date.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Expected:
    """The ground truth of one published post on one built site."""

    url: str
    title: str
    author: str
    published: str  # UTC, YYYY-MM-DDTHH:MM:SS+00:00
    categories: frozenset[str]
    tags: frozenset[str]
    paragraphs: tuple[str, ...]
    local_day: str = ""  # YYYY-MM-DD in the post's own zone (what a date-only field may say)

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def slugify(title: str, limit: int = 60) -> str:
    """An ASCII slug, as both generators would make it from the title."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:limit].rstrip("-") or "post"


def corpus() -> list[dict[str, object]]:
    """The 40 corpus articles of posts.json (title, paragraphs, source)."""
    return json.loads(POSTS_JSON.read_text(encoding="utf-8"))["posts"]


def make_posts(count: int = POST_COUNT) -> list[Post]:
    """`count` published posts, oldest first, then one draft. Dates are two days apart at
    varied times; a third are written in the site's zone without an offset, the rest with an
    explicit offset (UTC, +05:30, -05:00, +09:00)."""
    raw = corpus()
    zones = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-5))]
    zones.append(timezone(timedelta(hours=9)))
    start = datetime(2024, 1, 8, 9, 15, 7)
    posts: list[Post] = []
    seen: set[str] = set()
    for i, item in enumerate(raw[: count + 1]):
        title = str(item["title"])
        slug = slugify(title)
        while slug in seen:
            slug += "-2"
        seen.add(slug)
        local = start + timedelta(days=2 * i, hours=(i * 5) % 11, minutes=(i * 17) % 60)
        naive = i % 3 == 0
        zone = ZoneInfo(SITE_TZ) if naive else zones[i % len(zones)]
        cats = [CATEGORIES[i % len(CATEGORIES)]]
        if i % 7 == 3:
            cats.append(CATEGORIES[(i + 1) % len(CATEGORIES)])
        tags = [TAGS[i % len(TAGS)], TAGS[(i * 3 + 1) % len(TAGS)]]
        if i % 4 == 0:
            tags.append(TAGS[(i + 2) % len(TAGS)])
        posts.append(
            Post(
                slug=slug,
                title=title,
                paragraphs=[" ".join(str(p).split()) for p in item["paragraphs"]],  # type: ignore[union-attr]
                date=local.replace(tzinfo=zone),
                author=AUTHORS[i % len(AUTHORS)],
                categories=cats,
                tags=list(dict.fromkeys(tags)),
                naive_date=naive,
                draft=i == count,
            )
        )
    return posts


def extra_post(index: int = POST_COUNT + 1) -> Post:
    """A post from the corpus not among `make_posts()`: the one a change scenario adds."""
    item = corpus()[index]
    title = str(item["title"])
    return Post(
        slug=slugify(title),
        title=title,
        paragraphs=[" ".join(str(p).split()) for p in item["paragraphs"]],  # type: ignore[union-attr]
        date=datetime(2024, 4, 2, 16, 45, 30, tzinfo=timezone(timedelta(hours=2))),
        author=AUTHORS[0],
        categories=[CATEGORIES[1]],
        tags=[TAGS[1], TAGS[2]],
    )


_MD_INLINE = {"hugo": re.compile(r"([\\`*_{}\[\]<>~])"), "pelican": re.compile(r"([\\`*_{}\[\]>])")}
_MD_LEAD = re.compile(r"^(\d+)([.)])|^([-+*#>])")


def markdown_paragraph(text: str, platform: str) -> str:
    """`text` as a Markdown paragraph that both renderers give back as this very text."""
    if platform == "pelican":
        text = text.replace("&", "&amp;").replace("<", "&lt;")
    else:
        text = text.replace("&", "&amp;")
    text = _MD_INLINE[platform].sub(r"\\\1", text)
    return _MD_LEAD.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text)


# ---------------------------------------------------------------------------------------------
# The static file server


class StaticServer:
    """Serves `root` on 127.0.0.1 (port 0) the way a plain web server does: Content-Type by
    extension, Last-Modified and a content ETag with 304s, index.html for directories (a
    301 adds the slash), 404 for anything missing. `log` has (method, path, status) of every
    request, `requests` the paths."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.log: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._serve(self, body=True)

            def do_HEAD(self) -> None:
                server._serve(self, body=False)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def requests(self) -> list[str]:
        with self._lock:
            return [path for _, path, _ in self.log]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def start(self) -> StaticServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _resolve(self, path: str) -> Path | None:
        root = self.root.resolve()
        target = (root / unquote(path).lstrip("/")).resolve()
        if target != root and root not in target.parents:
            return None
        return target

    def _serve(self, handler: BaseHTTPRequestHandler, body: bool) -> None:
        path = urlsplit(handler.path).path or "/"
        target = self._resolve(path)
        status = 404
        headers: dict[str, str] = {}
        payload = b"<!doctype html><title>404 Not Found</title><h1>Not Found</h1>"
        if target is not None and target.is_dir() and not path.endswith("/"):
            status, payload = 301, b""
            headers["Location"] = path + "/"
        elif target is not None:
            if target.is_dir():
                target = target / "index.html"
            if target.is_file():
                status, payload, headers = self._file(handler, target)
        if status == 404:
            headers["Content-Type"] = "text/html; charset=utf-8"
        with self._lock:
            self.log.append((handler.command, path, status))
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        if body and payload:
            handler.wfile.write(payload)

    @staticmethod
    def _file(handler: BaseHTTPRequestHandler, target: Path) -> tuple[int, bytes, dict[str, str]]:
        data = target.read_bytes()
        mtime = datetime.fromtimestamp(int(target.stat().st_mtime), UTC)
        etag = '"' + hashlib.sha1(data).hexdigest()[:20] + '"'
        ctype = CONTENT_TYPES.get(target.suffix) or (
            mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        headers = {
            "Content-Type": ctype,
            "Last-Modified": email.utils.format_datetime(mtime, usegmt=True),
            "ETag": etag,
        }
        inm = handler.headers.get("If-None-Match")
        ims = handler.headers.get("If-Modified-Since")
        if inm is not None:
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            if etag in tags or "*" in tags:
                return 304, b"", headers
        elif ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                since = None
            if since is not None and since.tzinfo is not None and mtime <= since:
                return 304, b"", headers
        return 200, data, headers


CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}


# ---------------------------------------------------------------------------------------------
# Sites


@dataclass
class StaticSite:
    """One generated blog: its sources in `src`, its build in `out`, served by `server`."""

    platform: str  # "hugo" or "pelican"
    variant: str  # "full" or "cut" (feed limited to FEED_LIMIT)
    root: Path
    server: StaticServer
    posts: list[Post] = field(default_factory=make_posts)
    build_seconds: float = 0.0

    @property
    def src(self) -> Path:
        return self.root / "src"

    @property
    def out(self) -> Path:
        return self.root / "public"

    @property
    def origin(self) -> str:
        return self.server.origin

    @property
    def name(self) -> str:
        return f"{self.platform}-{self.variant}"

    @property
    def published(self) -> list[Post]:
        return [p for p in self.posts if not p.draft]

    @property
    def draft(self) -> Post:
        return next(p for p in self.posts if p.draft)

    @property
    def feed_urls(self) -> list[str]:
        if self.platform == "hugo":
            return [f"{self.origin}/index.xml"]
        return [f"{self.origin}/feeds/all.atom.xml", f"{self.origin}/feeds/all.rss.xml"]

    @property
    def sitemap_url(self) -> str:
        return f"{self.origin}/sitemap.xml"

    def post_url(self, post: Post) -> str:
        if self.platform == "hugo":
            return f"{self.origin}/posts/{post.slug}/"
        return f"{self.origin}/{post.slug}.html"

    def expected(self) -> dict[str, Expected]:
        """The ground truth of every published post, by URL."""
        truth = {}
        for post in self.published:
            url = self.post_url(post)
            cats = post.categories if self.platform == "hugo" else post.categories[:1]
            truth[url] = Expected(
                url=url,
                title=post.title,
                author=post.author,
                published=post.published_utc,
                categories=frozenset(cats),
                tags=frozenset(post.tags),
                paragraphs=tuple(post.paragraphs),
                local_day=post.date.date().isoformat(),
            )
        return truth

    def listing_paths(self) -> list[str]:
        """Paths of the listing pages the build wrote (home, sections, taxonomies, terms,
        authors, pagination): every HTML page that is not a post."""
        posts = {urlsplit(self.post_url(p)).path for p in self.posts}
        found = []
        for page in sorted(self.out.rglob("*.html")):
            rel = "/" + page.relative_to(self.out).as_posix()
            path = rel.removesuffix("index.html") if self.platform == "hugo" else rel
            if path in posts or "/drafts/" in path or path.endswith("/404.html"):
                continue
            found.append(path)
        return found

    def build(self) -> float:
        """Write the sources and run the generator into `out`; returns the seconds it took."""
        import time

        started = time.monotonic()
        if self.src.exists():
            shutil.rmtree(self.src)
        self.src.mkdir(parents=True)
        # Hugo leaves pages of deleted posts in its output; a deploy would not serve them.
        for child in self.out.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        if self.platform == "hugo":
            _hugo_build(self)
        else:
            _pelican_build(self)
        self.build_seconds = time.monotonic() - started
        return self.build_seconds

    # The change scenario's edits: each changes `posts` only; call build() afterwards.

    def edit_text(self, index: int, when: datetime) -> Post:
        post = self.published[index]
        post.paragraphs = [*post.paragraphs, EDIT_PARAGRAPH]
        post.paragraphs[0] = "Updated: " + post.paragraphs[0]
        post.modified = when
        return post

    def retitle(self, index: int, when: datetime) -> Post:
        post = self.published[index]
        post.title = post.title + " (corrected)"
        post.modified = when
        return post

    def delete(self, index: int) -> Post:
        post = self.published[index]
        self.posts.remove(post)
        return post

    def add(self, post: Post) -> Post:
        self.posts.append(post)
        return post


EDIT_PARAGRAPH = (
    "Correction: an earlier version of this post misstated a figure; the text above has been"
    " updated with the numbers published by the organisers this week."
)


@contextmanager
def serve_site(platform: str, variant: str, root: Path) -> Iterator[StaticSite]:
    """A built site of `platform` and `variant` in `root`, served on loopback until exit."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "public").mkdir(exist_ok=True)
    server = StaticServer(root / "public").start()
    try:
        site = StaticSite(platform, variant, root, server)
        site.build()
        yield site
    finally:
        server.stop()


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        output = f"{proc.stdout}\n{proc.stderr}"
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output}")


def _date_text(post: Post, when: datetime | None = None) -> str:
    when = when or post.date
    if post.naive_date and when is post.date:
        return when.strftime("%Y-%m-%dT%H:%M:%S")
    return when.isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# Hugo


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _hugo_build(site: StaticSite) -> None:
    src = site.src
    limit = f"\n[services.rss]\n  limit = {FEED_LIMIT}\n" if site.variant == "cut" else ""
    (src / "config.toml").write_text(
        HUGO_CONFIG.format(base=site.origin + "/", title=SITE_TITLE, tz=SITE_TZ, page=PAGE_SIZE)
        + limit,
        encoding="utf-8",
    )
    shutil.copytree(HUGO_LAYOUTS, src / "layouts")
    content = src / "content" / "posts"
    content.mkdir(parents=True)
    for post in site.posts:
        front = [
            f"title = {_toml_str(post.title)}",
            f"date = {_date_text(post)}",
            f"author = {_toml_str(post.author)}",
            f"categories = {json.dumps(post.categories, ensure_ascii=False)}",
            f"tags = {json.dumps(post.tags, ensure_ascii=False)}",
            f"draft = {'true' if post.draft else 'false'}",
        ]
        if post.modified:
            front.append(f"lastmod = {post.modified.isoformat(timespec='seconds')}")
        body = "\n\n".join(markdown_paragraph(p, "hugo") for p in post.paragraphs)
        (content / f"{post.slug}.md").write_text(
            "+++\n" + "\n".join(front) + "\n+++\n\n" + body + "\n", encoding="utf-8"
        )
    (src / "content" / "posts" / "_index.md").write_text('+++\ntitle = "Posts"\n+++\n')
    _run(["hugo", "--quiet", "--cleanDestinationDir", "--destination", str(site.out)], cwd=src)


HUGO_CONFIG = """\
baseURL = "{base}"
languageCode = "en-us"
title = "{title}"
timeZone = "{tz}"
paginate = {page}
enableRobotsTXT = false
disableKinds = []

[params]
  description = "Notes on the news of the week, from three writers."

[taxonomies]
  category = "categories"
  tag = "tags"

[markup.goldmark.extensions]
  typographer = false

[[menu.main]]
  name = "Home"
  url = "/"
  weight = 1
[[menu.main]]
  name = "Posts"
  url = "/posts/"
  weight = 2
[[menu.main]]
  name = "Categories"
  url = "/categories/"
  weight = 3
[[menu.main]]
  name = "Tags"
  url = "/tags/"
  weight = 4
"""

# ---------------------------------------------------------------------------------------------
# Pelican


def _pelican_build(site: StaticSite) -> None:
    src = site.src
    content = src / "content"
    content.mkdir(parents=True)
    limit = f"FEED_MAX_ITEMS = {FEED_LIMIT}\n" if site.variant == "cut" else ""
    (src / "pelicanconf.py").write_text(
        PELICAN_CONFIG.format(
            site=site.origin, title=SITE_TITLE, tz=SITE_TZ, page=PAGE_SIZE, author=AUTHORS[0]
        )
        + limit,
        encoding="utf-8",
    )
    for post in site.posts:
        meta = [
            f"Title: {post.title}",
            f"Date: {_date_text(post).replace('T', ' ')}",
            f"Author: {post.author}",
            f"Category: {post.categories[0]}",
            f"Tags: {', '.join(post.tags)}",
            f"Slug: {post.slug}",
        ]
        if post.modified:
            meta.append(f"Modified: {post.modified.isoformat(sep=' ', timespec='seconds')}")
        if post.draft:
            meta.append("Status: draft")
        body = "\n\n".join(markdown_paragraph(p, "pelican") for p in post.paragraphs)
        (content / f"{post.slug}.md").write_text(
            "\n".join(meta) + "\n\n" + body + "\n", encoding="utf-8"
        )
    _run(
        [
            sys.executable,
            "-m",
            "pelican",
            str(content),
            "-s",
            str(src / "pelicanconf.py"),
            "-o",
            str(site.out),
            "--delete-output-directory",
            "-q",
        ],
        cwd=src,
    )


PELICAN_CONFIG = """\
AUTHOR = "{author}"
SITENAME = "{title}"
SITEURL = "{site}"
PATH = "content"
TIMEZONE = "{tz}"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = {page}
RELATIVE_URLS = False
DELETE_OUTPUT_DIRECTORY = True
OUTPUT_RETENTION = []
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
CATEGORY_FEED_ATOM = "feeds/{{slug}}.atom.xml"
AUTHOR_FEED_ATOM = "feeds/{{slug}}.atom.xml"
AUTHOR_FEED_RSS = "feeds/{{slug}}.rss.xml"
TRANSLATION_FEED_ATOM = None
LINKS = ()
SOCIAL = ()
PLUGINS = ["pelican.plugins.sitemap"]
SITEMAP = {{"format": "xml"}}
"""
