"""Extraction on real corpus pages, checked against their gold segments and metadata."""

from __future__ import annotations

import gc
import subprocess
import sys
import unicodedata

import pytest

from pipelines.extraction import SAMPLE_POSTS, extract_article, extract_page, warm_up
from tests.support.site import MANIFEST, PAGES, SEED


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split()).casefold()


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_corpus_page_extracts_article_not_boilerplate(entry):
    html = PAGES[entry["file"]].read_bytes().decode("utf-8", errors="replace")
    article = extract_article(html, entry["url"])
    assert article is not None
    text = _norm(article["text"])
    for segment in entry["with"]:
        assert _norm(segment) in text, segment
    for segment in entry["without"]:
        assert _norm(segment) not in text, segment
    assert _norm(article["title"]) == _norm(entry["title"]) or _norm(entry["title"]) in _norm(
        article["title"]
    )
    assert article["published"][:10] == entry["date"][:10]
    assert article["language"] == "en"
    assert article["hostname"]
    assert article["page_kind"] == "article" and article["protected"] is False


def test_seed_repost_extracts_wire_copy_with_credit():
    body = SEED.read_bytes()
    article = extract_page(body, "text/html; charset=utf-8", "http://127.0.0.1/post.html", None)
    assert article is not None
    assert article["wire_source"] == "Sputnik"
    assert article["author"] == "Wire Watch"
    # Blogger's <abbr class="published" title="2022-01-09T10:14:00-08:00">, in UTC.
    assert article["published"] == "2022-01-09T18:14:00+00:00"
    assert article["page_kind"] == "article"
    assert article["canonical_hint"] == "http://127.0.0.1/posts/moscow-wont-stoop-nato.html"
    lines = article["text"].splitlines()
    assert lines[1] == "Sputnik"
    for boilerplate in ("Blog Archive", "Powered by Blogger", "No comments", "Post a Comment"):
        assert boilerplate not in article["text"]


def test_configured_agencies_replace_the_defaults():
    body = SEED.read_bytes()
    agencies = (("Example Wire", ("Example Wire",)),)
    assert (
        extract_page(body, "text/html", "http://127.0.0.1/p.html", agencies)["wire_source"] is None
    )


def test_page_without_article_gives_none():
    assert (
        extract_article("<html><body><nav>Home | About</nav></body></html>", "http://x.org/")
        is None
    )
    assert extract_article("", "http://x.org/") is None


def test_nul_bytes_and_bad_bytes_do_not_break_extraction():
    html = SEED.read_bytes().replace(b"Russia is", b"Russia\x00\xff\xfe is")
    article = extract_page(html, "text/html; charset=utf-8", "http://127.0.0.1/p.html", None)
    assert article is not None and "\x00" not in article["text"]


def test_every_manifest_page_is_in_the_project():
    # The fixtures must stand alone: every page the manifest names is in the project.
    for entry in MANIFEST:
        assert PAGES[entry["file"]].is_file()


def test_warm_up_extracts_every_sample_post():
    """The forkserver warms the extractor on the demo posts shipped in the package: were
    they moved or unreadable, every worker would start cold again without a word."""
    posts = [p for p in SAMPLE_POSTS.iterdir() if p.name.endswith(".html")]
    try:
        assert len(posts) >= 5
        assert warm_up() == len(posts)
    finally:
        gc.unfreeze()


def test_failed_warm_up_leaves_the_forkserver_alive():
    """The forkserver imports pipelines.warmworker: a warm-up that fails (here its sample
    posts are gone) is logged and the import still succeeds, else no worker could start."""
    code = (
        "import pathlib, pipelines.extraction as e; "
        "e.SAMPLE_POSTS = pathlib.Path('/nonexistent/posts'); "
        "import pipelines.warmworker; print('alive')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "alive"
    assert "extraction warm-up failed; workers start cold" in done.stderr
