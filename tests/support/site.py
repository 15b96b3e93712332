"""A loopback test site: fixture corpus pages as a blog, plus the bad inputs a crawler meets."""

from __future__ import annotations

import gzip
import html
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
# Gold data for the corpus pages the project keeps; `path` is where each page lives (the demo
# site's pages double as fixtures, so they are stored once).
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
PAGES = {entry["file"]: ROOT / entry["path"] for entry in MANIFEST}
# The demo's Blogger repost of a Sputnik story, as in ../shared/corpus/seed-post.txt.
SEED = ROOT / "archive" / "app" / "demo_site" / "posts" / "moscow-wont-stoop-nato.html"
MiB = 1024 * 1024
# How long /slow.html takes to answer: longer than the time limit of any test that fetches it.
SLOW_SECONDS = 10

# The text of a typical input (a blog repost of a Sputnik article), copied from the development
# corpus (shared/corpus/seed-post.txt) so the tests run without it.
SEED_POST = (
    "Sunday, January 9, 2022\n"
    "\n"
    "Moscow Won't Stoop To Discussing NATO Demands On 'Deescalation Measures'\n"
    "\n"
    "\n"
    "Moscow Won't Stoop to Discussing NATO Demands on 'Deescalation Measures' on "
    "Russia's Own Territory\n"
    "Sputnik\n"
    "\n"
    "\n"
    "\n"
    "The Russian Foreign Ministry laid down publicly a pair of security proposals to "
    "the US and NATO which Moscow believes could ease tensions considerably and end "
    "the East-West standoff over Ukraine. Russian and US officials are set to hold "
    "talks on strategic stability on Monday, followed by a meeting of the NATO-Russia"
    " Council on Wednesday.\n"
    "\n"
    "Russia is not prepared to discuss with the US and NATO any demands for "
    "'deescalation measures' on its own territory in the course of the upcoming "
    "security talks, Deputy Foreign Minister Sergei Ryabkov has said.\n"
    "\n"
    '"I can say that that...the demands of the United States and other NATO countries'
    " that we carry out some 'deescalation measures' on our territory are out of the "
    "question. This is a non-starter in the literal sense of the word. If the "
    "Americans want to talk about changing our approach, for example, to the Minsk "
    "Package of Measures [on peace in Ukraine] or even stutter about something like "
    'Crimea, this also has no chance for discussions," Ryabkov said in an interview '
    "with Russian media on Sunday.\n"
    "\n"
    'Russia has not been thrown off balance by the "tough" position set by the US and'
    " its NATO allies ahead of this week's security talks, Ryabkov added.\n"
    "\n"
    '"And of course, the NATO Secretariat is adding fire -sometimes burning with fire'
    " on this subject. But we have seen worse and this does not throw us off balance."
    " We will explain persistently our logic and present arguments in support of our "
    'position," the diplomat added.\n'
    "\n"
    "The senior diplomat, who arrived in Geneva Sunday for the upcoming Russia-US, "
    "Russia-NATO and Organization for Security and Cooperation in Europe talks this "
    "week, also emphasized that any agreements reached between the two sides must be "
    "legally binding, and stressed that there will be no problems on the ratification"
    " of any treaties from the Russian side.\n"
    "\n"
    "Although many of the proposed security treaties' articles would be mutually "
    "observable, it would be up to the West to unilaterally reject further eastward "
    "expansion of NATO, and eliminate the existing military infrastructure it has "
    "established in the post-Soviet space, Ryabkov said.\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "No comments:"
)

EMPTY_PAGE = (
    b"<!doctype html><html><head><title>Menu</title></head><body><nav>Home</nav></body></html>"
)
# An article whose bytes are Latin-1 although the server says UTF-8.
MISLABELLED = (
    "<html><head><title>Café society in Zürich</title></head><body><article><h1>Café society"
    " in Zürich</h1>"
    + "<p>The cafés of Zürich's old town were full on Saturday as the city's residents came "
    "out to enjoy the first warm weekend of spring, with terraces crowded until late.</p>"
    * 4
    + "</article></body></html>"
).encode("latin-1", errors="replace")


def _repost_elsewhere() -> bytes:
    """The seed story as a WordPress-style blog reposts it: its own template, an intro line,
    the last paragraph trimmed, a word changed, comments and related posts around it."""
    lines = [ln.strip() for ln in SEED_POST.splitlines() if ln.strip()]
    paragraphs = [ln for ln in lines[4:] if len(ln) > 80][:-1]
    paragraphs[0] = paragraphs[0].replace("considerably", "significantly")
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Russia rejects NATO de-escalation demands | The Daily Dissent</title>
<meta name="generator" content="WordPress 6.4"></head><body>
<header><a href="/">The Daily Dissent</a><nav>Home | World | Contact</nav></header>
<main><article><h1 class="entry-title">Russia rejects NATO de-escalation demands</h1>
<p class="byline">Posted on January 10, 2022 by dissent-editor</p>
<div class="entry-content"><p>Via Sputnik News, worth reading in full:</p>{body}</div>
</article>
<section class="related"><h3>Related posts</h3><ul><li><a href="/a">Gas prices climb</a></li>
<li><a href="/b">Talks in Geneva begin</a></li></ul></section>
<section id="comments"><h3>2 comments</h3><ol><li>Ivan says: about time someone said it.</li>
<li>Mary says: the talks will fail anyway.</li></ol></section></main>
<footer>Copyright The Daily Dissent. Powered by WordPress.</footer></body></html>""".encode()


class SiteHandler(BaseHTTPRequestHandler):
    """Routes: /pages/FILE and /copy/FILE (the same bytes elsewhere), /seed-repost.html, and
    one route per bad input (see do_GET)."""

    protocol_version = "HTTP/1.1"
    requests_seen: list[str]

    def do_GET(self) -> None:
        self.server.requests_seen.append(self.path)  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        if path.startswith(("/pages/", "/copy/")):
            page = PAGES.get(Path(path).name)
            if page is not None:
                return self._send(200, page.read_bytes())
        routes = {
            "/robots.txt": lambda: self._send(
                self.server.robots_status,  # type: ignore[attr-defined]
                b"User-agent: *\nDisallow: /private/\n",
                "text/plain",
            ),
            "/seed-repost.html": lambda: self._send(200, SEED.read_bytes()),
            "/loads.html": self._loads,
            "/private/page.html": lambda: self._send(200, SEED.read_bytes()),
            "/empty.html": lambda: self._send(200, EMPTY_PAGE),
            "/mislabelled.html": lambda: self._send(200, MISLABELLED),
            "/repost-elsewhere.html": lambda: self._send(200, _repost_elsewhere()),
            "/report.pdf": lambda: self._send(200, b"%PDF-1.4\n" + b"0" * 2000, "application/pdf"),
            "/photo.png": lambda: self._send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 2000, "image/png"),
            "/missing.html": lambda: self._send(404, b"<html><body>Not found</body></html>"),
            "/error.html": lambda: self._send(500, b"<html><body>Server error</body></html>"),
            "/slow.html": self._slow,
            "/huge.html": self._huge,
            "/gzip-bomb.html": self._gzip_bomb,
            "/redirect.html": lambda: self._redirect("/seed-repost.html?utm_source=newsletter"),
            "/busy.html": lambda: self._busy(retry_after="1"),
            "/overloaded.html": lambda: self._busy(retry_after="3600"),
            "/loop.html": lambda: self._redirect("/loop2.html"),
            "/loop2.html": lambda: self._redirect("/loop.html"),
            "/to-private.html": lambda: self._redirect("http://169.254.169.254/latest/meta-data/"),
        }
        handler = routes.get(path)
        if handler is None:
            return self._send(404, b"<html><body>Not found</body></html>")
        return handler()

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _loads(self) -> None:
        """The seed post with every kind of thing that makes a browser fetch more, pointing
        back at this site (scripts, styles, images, frames, media, a prefetch, a refresh):
        an archive's replay of it must fetch none of them."""
        host, port = self.server.server_address[:2]
        here = f"http://{host}:{port}"
        loads = (
            f'<meta http-equiv="refresh" content="2;url={here}/leak/refresh">'
            f'<link rel="stylesheet" href="{here}/leak/style.css">'
            f'<link rel="prefetch" href="{here}/leak/prefetch">'
            f'<script src="{here}/leak/script.js"></script>'
            f'<img src="{here}/leak/image.png" alt=""><img src="/leak/relative.png" alt="">'
            f'<iframe src="{here}/leak/frame.html"></iframe>'
            f'<video src="{here}/leak/video.mp4" autoplay></video>'
            f'<object data="{here}/leak/object"></object>'
            f'<div style="background: url({here}/leak/background.png)">.</div>'
        )
        self._send(200, SEED.read_bytes().replace(b"</body>", loads.encode() + b"</body>", 1))

    def _redirect(self, location: str) -> None:
        self._send(302, b"", headers={"Location": location})

    def _busy(self, retry_after: str) -> None:
        """429 with Retry-After on the first request for the path, the seed page after."""
        if self.server.requests_seen.count(self.path) > 1:  # type: ignore[attr-defined]
            return self._send(200, SEED.read_bytes())
        return self._send(
            429, b"<html><body>Slow down</body></html>", headers={"Retry-After": retry_after}
        )

    def _slow(self) -> None:
        time.sleep(SLOW_SECONDS)
        self._send(200, EMPTY_PAGE)

    def _huge(self) -> None:
        self._send(200, b"<html><body><p>" + b"x" * (21 * MiB) + b"</p></body></html>")

    def _gzip_bomb(self) -> None:
        # 64 KiB on the wire, 64 MiB once decompressed: over the limit only after decoding.
        self._send(200, _BOMB, headers={"Content-Encoding": "gzip"})

    def log_message(self, format: str, *args: object) -> None:
        pass


_BOMB = gzip.compress(b"<html><body>" + b" " * (64 * MiB) + b"</body></html>", compresslevel=9)


class Requests(list[str]):
    """Paths requested, in order; `times` holds when each arrived (time.monotonic)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, path: str) -> None:
        self.times.append(time.monotonic())
        super().append(path)


@contextmanager
def serve(robots_status: int = 200) -> Iterator[tuple[str, list[str]]]:
    """Run the test site on 127.0.0.1 and a free port; yield (origin, paths requested)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), SiteHandler)
    server.requests_seen = Requests()  # type: ignore[attr-defined]
    server.robots_status = robots_status  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests_seen  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
