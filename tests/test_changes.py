"""Edits people can see: `diff` and `changes` on a scripted edit history of one loopback post
(a word changed, the headline changed, a correction appended, a paragraph removed), each
version archived by `add`."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
import requests

from archive.core.worddiff import changed_paragraphs, counts, marked, word_diff
from tests.conftest import Archive, archive_env
from tests.support.apiserver import serve
from tests.support.platforms import PlatformSite, make_posts
from tests.support.site import PAGES

POST = make_posts(1, [PAGES["nature.com.telescope.html"]])[0]
NOTE = re.compile(rb"<p>Wire Watch test post 1, [^<]*</p>")
CORRECTION = b"<p>Correction: an earlier version of this post misstated the date of the talks.</p>"


def _edits(body: bytes, title: str) -> list[tuple[bytes, str]]:
    """The page and title after each edit, in order."""
    retitled = title + " (updated)"
    word = body.replace(b"makes each copy", b"makes every copy")
    headline = word.replace(title.encode(), retitled.encode())
    note = NOTE.search(headline)
    assert note is not None
    corrected = headline[: note.end()] + CORRECTION + headline[note.end() :]
    removed = NOTE.sub(b"", corrected)
    return [(word, title), (headline, retitled), (corrected, retitled), (removed, retitled)]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory):
    """An archive holding five versions of one post, and the post's URL."""
    root = tmp_path_factory.mktemp("changes")
    archive = Archive(root, archive_env(root))
    with PlatformSite("news", [POST]) as site:
        url = site.post_url(POST)
        code, results = archive.add(url)
        assert (code, results[url]["status"]) == (0, "archived"), results
        start = datetime.now(UTC)
        for n, (body, title) in enumerate(_edits(POST.body_html, POST.title), 1):
            site.edit_post(POST.slug, body, start + timedelta(minutes=n), title)
            code, results = archive.add(url)
            assert code == 0 and results[url].get("revised"), results
    yield archive, url


def _diff(archive: Archive, url: str, *args: str) -> dict:
    proc = archive.run("diff", url, "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _spans(diff: dict, part: str, op: str) -> list[str]:
    """The texts of `part`'s spans of kind `op` (a paragraph break at their edge stripped)."""
    return [span["text"].strip() for span in diff[part] if span["op"] == op]


def test_diff_shows_each_kind_of_edit(history):
    archive, url = history
    word = _diff(archive, url, "--from", "1", "--to", "2")
    assert (_spans(word, "text", "delete"), _spans(word, "text", "insert")) == (["each"], ["every"])
    assert (word["words_added"], word["words_removed"], word["title_changed"]) == (1, 1, False)
    assert (word["from"]["version"], word["to"]["version"]) == (1, 2)
    assert word["from"]["fetched_at"] < word["to"]["fetched_at"]

    headline = _diff(archive, url, "--from", "2", "--to", "3")
    assert headline["title_changed"] and _spans(headline, "title", "insert") == ["(updated)"]
    assert _spans(headline, "title", "delete") == []

    corrected = _diff(archive, url, "--from", "3", "--to", "4")
    assert _spans(corrected, "text", "delete") == []
    assert _spans(corrected, "text", "insert") == [
        "Correction: an earlier version of this post misstated the date of the talks."
    ]
    # The default: the last two versions, here the paragraph removed.
    removed = _diff(archive, url)
    assert (removed["from"]["version"], removed["to"]["version"]) == (4, 5)
    [cut] = _spans(removed, "text", "delete")
    assert cut.startswith("Wire Watch test post 1, published") and cut.endswith("unique.")
    assert removed["words_added"] == 0 and removed["words_removed"] == len(cut.split())
    # Negative numbers count from the current version.
    assert _diff(archive, url, "--from", "-5", "--to", "-4") == word


def test_diff_marks_changes_in_plain_text(history):
    archive, url = history
    proc = archive.run("diff", url, "--from", "1", "--to", "3")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    # The headline is also the text's first line here: "(updated)" is added twice.
    assert "version 1 (fetched " in lines[1] and ": 3 words added, 1 removed" in lines[1]
    assert lines[2] == f"title: {POST.title} {{+(updated)+}}"
    changed = [line for line in lines[3:] if line]  # only the paragraphs that changed
    assert changed == [
        f"{POST.title} {{+(updated)+}}",
        next(line for line in changed if "makes [-each-] {+every+} copy" in line),
    ]


def test_diff_refuses_clearly(history, tmp_path):
    archive, url = history
    proc = archive.run("diff", url, "--from", "9")
    assert proc.returncode == 1 and "no version 9: it has 5 (1 to 5)" in proc.stderr
    proc = archive.run("diff", "http://127.0.0.1:1/never-archived")
    assert proc.returncode == 1 and "no article" in proc.stderr


def test_changes_lists_every_edit_largest_first(history):
    archive, url = history
    proc = archive.run("changes", "--json")
    assert proc.returncode == 0, proc.stderr
    edits = [json.loads(line) for line in proc.stdout.splitlines()]
    assert sorted((e["from"]["version"], e["to"]["version"]) for e in edits) == [
        (1, 2),
        (2, 3),
        (3, 4),
        (4, 5),
    ]
    sizes = [e["words_added"] + e["words_removed"] for e in edits]
    assert sizes == sorted(sizes, reverse=True) and "text" not in edits[0]
    assert {e["url"] for e in edits} == {url}
    text = archive.run("changes").stdout.splitlines()
    assert len(text) == 4 and sum("[headline]" in line for line in text) == 1
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    later = archive.run("changes", "--since", tomorrow)
    assert (later.returncode, later.stdout) == (0, "") and "no edits since" in later.stderr
    assert archive.run("changes", "--source", "elsewhere", "--json").stdout == ""
    assert archive.run("changes", "--since", "yesterday").returncode == 2


def test_word_diff_rebuilds_both_texts():
    old = "One two three.\nA paragraph that goes.\nLast words here."
    new = "One 2 three.\nLast words here, and more."
    spans = word_diff(old, new)
    rebuilt_old = " ".join(s.text for s in spans if s.op != "insert")
    rebuilt_new = " ".join(s.text for s in spans if s.op != "delete")
    assert rebuilt_old.split() == old.split() and rebuilt_new.split() == new.split()
    assert counts(spans) == (4, 6)
    assert changed_paragraphs(spans) == [
        "One [-two-] {+2+} three.",
        "[-A paragraph that goes.-]",
        "Last words [-here.-] {+here, and more.+}",
    ]
    assert marked(word_diff(old, old)) == old


def test_serve_shows_the_edits_on_the_article_page_and_as_an_atom_feed(history):
    archive, url = history
    with serve(archive.root, archive.env) as server:
        article_id = archive.show(url)["id"]
        page = requests.get(server.url(f"/articles/{article_id}"), timeout=30).text
        answer = requests.get(server.url("/changes.atom"), timeout=30)
        later = requests.get(server.url("/changes.atom?since=2999-01-01"), timeout=30)
        bad = requests.get(server.url("/changes.atom?since=yesterday"), timeout=30)
    # The page: every change, newest first, the latest open, marked without colour.
    summaries = re.findall(r"<summary>Version (\d) to (\d),", page)
    assert summaries == [("4", "5"), ("3", "4"), ("2", "3"), ("1", "2")]
    assert "<details open>" in page and page.count("<details") >= 4 + 4  # and the revisions
    assert "makes <del>each</del> <ins>every</ins> copy" in page
    assert "headline changed" in page and page.count(">as captured</a>") == 5
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    entries = feed.entries
    assert len(entries) == 4 and len({entry.id for entry in entries}) == 4
    updated = [entry.updated for entry in entries]
    assert updated == sorted(updated, reverse=True)  # newest first
    article_page = server.url("/articles/")
    assert all(entry.link.startswith(article_page) for entry in entries)
    assert {link.href for e in entries for link in e.links if link.rel == "via"} == {url}
    # The newest: the paragraph removed, marked as deleted, escaped as text.
    newest = entries[0].content[0].value
    assert newest.startswith("<p><del>Wire Watch test post 1, published") and "<ins>" not in newest
    assert entries[0].title == f"{POST.title} (updated): +0 -21 words"
    headline = next(e for e in entries if "(headline changed)" in e.title)
    assert "<ins>(updated)</ins>" in headline.content[0].value
    assert feedparser.parse(later.content).entries == [] and later.status_code == 200
    assert bad.status_code == 422


def test_a_copy_is_compared_with_its_story_origin(history):
    archive, url = history
    origin = archive.show(url)
    _, *_, (current, title) = _edits(POST.body_html, POST.title)
    note = b"<p>Reposted with commentary: the talks were covered by several agencies.</p>"
    copy_body = current.replace(CORRECTION, note)
    copy = replace(POST, slug="copied", body_html=copy_body, title=title)
    with PlatformSite("news", [copy]) as elsewhere:
        copy_url = elsewhere.post_url(copy)
        code, results = archive.add(copy_url)
        assert code == 0 and results[copy_url]["status"] == "archived", results
    copied = archive.show(copy_url)
    assert copied["cluster_id"] == origin["cluster_id"]
    found = _diff(archive, copy_url, "--origin")
    assert found["origin"] == {"id": origin["id"], "url": url}
    assert _spans(found, "text", "insert") == [
        "Reposted with commentary: the talks were covered by several agencies."
    ]
    assert _spans(found, "text", "delete") == [
        "Correction: an earlier version of this post misstated the date of the talks."
    ]
    # The origin itself has nothing to be compared with; --origin takes no versions.
    proc = archive.run("diff", url, "--origin")
    assert proc.returncode == 1 and "it is its story's origin" in proc.stderr
    assert archive.run("diff", copy_url, "--origin", "--from", "1").returncode == 2
    # The story page: the copies in the order they appeared, each against the origin.
    with serve(archive.root, archive.env) as server:
        page = requests.get(server.url(f"/stories/{origin['cluster_id']}"), timeout=30).text
    rows = page.split("<tbody>")[1].split("</tr>")
    assert "origin" in rows[0] and copied["id"] in rows[1]
    assert "<summary>10 words added, 13 removed</summary>" in rows[1]
    assert "<ins>Reposted with commentary:" in rows[1]


def test_exports_carry_the_version_and_all_versions_exports_each_text(history):
    archive, url = history
    current = archive.run("export", "--format", "jsonl")
    [record] = [r for r in map(json.loads, current.stdout.splitlines()) if r["url"] == url]
    assert (record["version"], record["superseded_at"]) == (5, None)
    every = archive.run("export", "--format", "jsonl", "--all-versions")
    assert every.returncode == 0, every.stderr
    records = [r for r in map(json.loads, every.stdout.splitlines()) if r["url"] == url]
    assert [r["version"] for r in records] == [1, 2, 3, 4, 5]
    assert records[-1] == record and "versions to stdout" in every.stderr
    assert [r["superseded_at"] for r in records[:-1]] == [r["fetched_at"] for r in records[1:]]
    assert "makes each copy" in records[0]["text"] and "makes every copy" in records[1]["text"]
    assert records[1]["title"] == POST.title and records[2]["title"] == POST.title + " (updated)"
    assert len({r["content_sha256"] for r in records}) == 5
