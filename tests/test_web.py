"""The web pages of `wirearchive serve`, in Chromium (Playwright with the system browser)
and over plain HTTP: archive a URL from the form, follow the job, find and read the article."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, Archive, archive_env
from tests.support.apiserver import Server, serve, wait_for_job

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "build" / "screenshots" / "web.png"
TOKEN = "web-token"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
TITLE = "Moscow Won't Stoop To Discussing NATO Demands On 'Deescalation Measures'"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("web")
    with serve(root, archive_env(root, WIREARCHIVE_API_TOKEN=TOKEN)) as running:
        yield running


def assert_safe_headers(headers: dict[str, str]) -> None:
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def form_session(server: Server) -> tuple[requests.Session, dict[str, str]]:
    """A client that loaded the home page, as a browser would before posting its form: its
    cookie, and the form's hidden fields with the Origin header the browser sends."""
    session = requests.Session()
    home = session.get(server.url("/"), timeout=30)
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', home.text)
    assert match, home.text
    session.headers["Origin"] = server.base
    return session, {"csrf": match.group(1)}


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_archive_find_and_read_an_article_in_chromium(server: Server, test_site):
    from playwright.sync_api import expect, sync_playwright

    origin, _ = test_site
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else 0)
        home = page.goto(server.url("/"))
        assert home is not None and home.status == 200
        assert_safe_headers(home.headers)
        expect(page.get_by_text("Nothing archived yet.")).to_be_visible()

        page.get_by_label("URL").fill(f"{origin}/seed-repost.html")
        page.get_by_label("Token").fill(TOKEN)
        page.get_by_role("button", name="Archive").click()
        page.wait_for_url(re.compile(r"/jobs/[0-9a-f]{32}$"))
        # The job page refreshes itself (meta refresh) until the job is done.
        expect(page.get_by_role("link", name="view the article")).to_be_visible(timeout=60_000)
        expect(page.locator("h1")).to_contain_text("done")
        expect(page.locator("td .status")).to_have_text("archived")

        page.goto(server.url("/"))
        expect(page.get_by_role("link", name=TITLE)).to_be_visible()
        page.get_by_role("searchbox").fill("NATO")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(re.compile(r"/search\?q=NATO$"))
        expect(page.locator("mark").first).to_have_text("NATO")
        page.get_by_role("link", name=TITLE).click()

        page.wait_for_url(re.compile(r"/articles/[0-9a-f]{20}$"))
        expect(page.locator("h1")).to_have_text(TITLE)
        expect(page.locator(".text")).to_contain_text("Russia is not prepared to discuss")
        expect(page.get_by_role("link", name="download the stored HTTP response")).to_be_visible()
        assert page.locator("script, iframe").count() == 0  # the text only, never the HTML
        stylesheet = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert stylesheet == "rgb(251, 251, 250)"  # /static/style.css was allowed and applied
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        browser.close()
    assert blocked == []
    assert SCREENSHOT.stat().st_size > 10_000


def test_pages_over_http(server: Server, test_site):
    origin, _ = test_site
    url = f"{origin}/repost-elsewhere.html"
    session, hidden = form_session(server)
    form = {"url": url, "token": TOKEN} | hidden
    sent = session.post(server.url("/archive"), data=form, allow_redirects=False, timeout=30)
    assert sent.status_code == 303 and sent.headers["Location"].startswith("/jobs/")
    job = wait_for_job(server, sent.headers["Location"].rsplit("/", 1)[1])
    [result] = job["results"]
    assert result["status"] == "archived"
    job_page = requests.get(server.url(sent.headers["Location"]), timeout=30)
    assert 'http-equiv="refresh"' not in job_page.text  # done: no more refreshing
    assert f'href="/articles/{result["id"]}"' in job_page.text

    article = requests.get(server.url(f"/articles/{result['id']}"), timeout=30)
    assert_safe_headers(article.headers)
    assert "Russia rejects NATO de-escalation demands" in article.text
    cluster_id = requests.get(server.url(f"/api/articles/{result['id']}"), timeout=30).json()[
        "cluster_id"
    ]
    story = requests.get(server.url(f"/stories/{cluster_id}"), timeout=30)
    assert story.status_code == 200 and f'href="/articles/{result["id"]}"' in story.text
    crawls = requests.get(server.url("/crawls"), timeout=30)
    assert crawls.status_code == 200 and "on-demand" in crawls.text
    css = requests.get(server.url("/static/style.css"), timeout=30)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")

    # Everything shown is escaped.
    search = requests.get(server.url("/search"), params={"q": "<script>x</script>"}, timeout=30)
    assert "<script>x" not in search.text and "&lt;script&gt;x" in search.text


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"url": "https://example.com/"}, 401, "token is required"),
        ({"url": "https://example.com/", "token": "wrong"}, 401, "token is required"),
        ({"url": "file:///etc/passwd", "token": TOKEN}, 422, "scheme file"),
        ({"url": "http://169.254.169.254/", "token": TOKEN}, 422, "link-local"),
        ({"url": "", "token": TOKEN}, 422, "at least 1 character"),
    ],
)
def test_the_archive_form_refuses_clearly(server: Server, form, status, message):
    session, hidden = form_session(server)
    sent = session.post(
        server.url("/archive"), data=form | hidden, allow_redirects=False, timeout=30
    )
    assert sent.status_code == status and message in sent.text
    assert_safe_headers(sent.headers)


@pytest.mark.parametrize("path", ["/articles/nope", "/stories/nope", "/jobs/nope"])
def test_unknown_pages_are_404(server: Server, path: str):
    response = requests.get(server.url(path), timeout=30)
    assert response.status_code == 404 and "Not found" in response.text
    assert_safe_headers(response.headers)


def test_the_form_refuses_posts_from_other_sites(tmp_path: Path):
    with serve(tmp_path, archive_env(tmp_path)) as open_server:  # no token: the default
        target = open_server.url("/archive")
        form = {"url": "http://10.0.0.1/"}  # refused by the guard once the form is accepted
        # Another site's page posting the form: the browser sends its origin, not the
        # SameSite cookie, and the page cannot know the token.
        for headers in (
            {"Origin": "https://evil.example"},
            {"Origin": "null"},  # a sandboxed frame
            {"Referer": "https://evil.example/page.html"},
            {},
        ):
            sent = requests.post(
                target, data=form, headers=headers, allow_redirects=False, timeout=30
            )
            assert sent.status_code == 403, headers
            assert "Reload this page" in sent.text
        session, hidden = form_session(open_server)
        forged = session.post(
            target, data=form | {"csrf": "0" * 64}, allow_redirects=False, timeout=30
        )
        assert forged.status_code == 403
        elsewhere = {"Origin": "https://evil.example"}
        sent = session.post(
            target, data=form | hidden, headers=elsewhere, allow_redirects=False, timeout=30
        )
        assert sent.status_code == 403
        accepted = session.post(target, data=form | hidden, allow_redirects=False, timeout=30)
        assert accepted.status_code == 422 and "private" in accepted.text
        cookie = accepted.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie


@pytest.fixture(scope="module")
def story(
    tmp_path_factory: pytest.TempPathFactory, test_site
) -> Iterator[tuple[Server, dict[str, str]]]:
    """A server over an archive of the seed and its near-duplicate repost on another path
    (same site name and title); the URL of each by name ("seed", "repost")."""
    origin, _ = test_site
    root = tmp_path_factory.mktemp("story")
    archive = Archive(root, archive_env(root))
    urls = {"seed": f"{origin}/seed-repost.html", "repost": f"{origin}/repost-elsewhere.html"}
    for url in urls.values():  # one at a time: the seed is the story's origin
        code, results = archive.add(url)
        assert code == 0 and results[url]["status"] == "archived", results
    with serve(root, archive.env) as running:
        yield running, urls


def visible_text(html: str) -> str:
    """The page's text outside tags (attributes left out)."""
    return re.sub(r"<[^>]*>", " ", html)


def test_lists_tell_copies_of_a_story_apart(story):
    server, urls = story
    home = requests.get(server.url("/"), timeout=30).text
    for url in urls.values():
        assert url in home  # each copy shows where it lives
    assert home.count('<li class="copy">') == 1 and ">copy</span>" in home
    assert "origin, " in home and "one of 2 copies" in home
    search = requests.get(server.url("/search"), params={"q": "NATO"}, timeout=30).text
    assert all(url in search for url in urls.values()) and '<li class="copy">' in search

    cluster = re.search(r'href="/stories/([^"]+)"', home)
    assert cluster
    page = requests.get(server.url(f"/stories/{cluster.group(1)}"), timeout=30).text
    assert "<th>URL</th>" in page and all(url in page for url in urls.values())
    assert "origin" in page and ">copy</span>" in page


def test_times_are_readable_with_iso_kept(story):
    server, _ = story
    home = requests.get(server.url("/"), timeout=30).text
    article_id = re.search(r'href="/articles/([0-9a-f]{20})"', home)
    assert article_id
    for path in ("/", f"/articles/{article_id.group(1)}", "/crawls"):
        page = requests.get(server.url(path), timeout=30).text
        times = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', page)
        assert times, path
        for iso, shown in times:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(T[\d:.]+(\+00:00|Z)?)?", iso), iso
            assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}(, \d{2}:\d{2} UTC)?", shown), shown
        assert not re.search(r"\d{4}-\d{2}-\d{2}T\d", visible_text(page)), path


@pytest.mark.parametrize("path", ["/", "/crawls", "/search?q=x"])
def test_head_answers_like_get_without_a_body(story, path: str):
    server, _ = story
    host, port = server.base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(f"HEAD {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        raw = b""
        while chunk := conn.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), head
    assert b"content-type: text/html" in head.lower() and body == b""
    assert_safe_headers(requests.head(server.url(path), timeout=30).headers)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_pages_fit_a_phone_screen(story):
    from playwright.sync_api import sync_playwright

    server, _ = story
    home = requests.get(server.url("/"), timeout=30).text
    cluster = re.search(r'href="/stories/([^"]+)"', home)
    article = re.search(r'href="/articles/([0-9a-f]{20})"', home)
    assert cluster and article
    paths = ["/", f"/stories/{cluster.group(1)}", f"/articles/{article.group(1)}", "/crawls"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 390, "height": 844})
        for path in paths:
            page.goto(server.url(path))
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => !e.closest('.scroll'))"
                ".filter(e => e.getBoundingClientRect().right > 390.5).map(e => e.outerHTML"
                ".slice(0, 80))"
            )
            assert wide == [], path
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        page.goto(server.url(paths[1]))  # the story's dates stay on one line
        heights = page.evaluate(
            "[...document.querySelectorAll('td.date time')].map(t => t.getClientRects().length)"
        )
        assert heights and set(heights) == {1}
        browser.close()


def test_the_web_app_starts_without_the_crawl_stack():
    # `serve` answers pages and queues jobs; Scrapy, Twisted and trafilatura load only in the
    # job's own `add` process.
    code = (
        "import sys, archive.service.server, archive.service.web, archive.service.api; "
        "print(sorted(m for m in ('scrapy', 'twisted', 'trafilatura') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_a_capture_shows_as_captured_without_a_request_outside_the_archive(
    server: Server, test_site
):
    from playwright.sync_api import sync_playwright

    origin, seen = test_site
    url = f"{origin}/loads.html"
    job = requests.post(
        server.url("/api/archive"),
        json={"url": url},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    ).json()
    done = wait_for_job(server, job["id"])
    article = requests.get(server.url(f"/api/articles/{done['results'][0]['id']}"), timeout=30)
    [capture] = [c for c in article.json()["captures"] if c["url"] == url]
    framed = requests.get(server.url(f"/captures/{capture['id']}/page"), timeout=30)
    assert b"/leak/script.js" in framed.content  # the page as archived, loads and all
    assert framed.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
    fetched_before = list(seen)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        asked: list[str] = []
        blocked: dict[str, str] = {}  # URL: why the browser did not send it
        page.on("request", lambda request: asked.append(request.url))
        page.on("requestfailed", lambda r: blocked.setdefault(r.url, r.failure or ""))
        page.goto(server.url("/articles/" + article.json()["id"]))
        page.get_by_role("link", name="as captured").first.click()
        page.wait_for_url(re.compile(r"/captures/[^/]+$"))
        frame = page.frame_locator("iframe.captured")
        frame.get_by_text("Russia is not prepared to discuss").first.wait_for()
        page.wait_for_timeout(3000)  # past the page's own 2 s refresh
        browser.close()
    archive = (server.url("/articles/"), server.url("/captures/"), server.url("/static/"))
    outside = [u for u in asked if not u.startswith(archive)]
    # The archived page asks for its blogger.com styles and icons and for the loads of
    # loads.html (which of them, the browser's parser decides); it sends none of them: each
    # is refused by the frame's policy, and the site that serves them sees none.
    assert outside, asked
    assert {u: blocked.get(u) for u in outside} == dict.fromkeys(outside, "csp")
    assert not any(path.startswith("/leak/") for path in seen[len(fetched_before) :])
