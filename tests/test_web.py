"""The web pages of `wirearchive serve`, in Chromium (Playwright with the system browser)
and over plain HTTP: archive a URL from the form, follow the job, find and read the article."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.apiserver import Server, serve, wait_for_job
from tests.conftest import ROOT, archive_env

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
