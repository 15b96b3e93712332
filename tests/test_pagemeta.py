"""Article metadata from the page's own claims, on pages made by real platforms
(tests/fixtures/platform_pages: WordPress 6.1 with Twenty Twenty-Three, Hugo, Pelican) and on
the structured-data shapes of common plugins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.extraction import extract_article, extract_page
from pipelines.pagemeta import clean_name
from tests.support.site import MANIFEST, PAGES, SEED

PLATFORM_PAGES = Path(__file__).parent / "fixtures" / "platform_pages"
PLATFORM_MANIFEST = json.loads((PLATFORM_PAGES / "manifest.json").read_text())
URLS = {entry["file"]: entry["url"] for entry in PLATFORM_MANIFEST}

PARAGRAPH = (
    "The harbour commission met on Thursday evening to review the dredging plan for the inner "
    "basin, which has silted up faster than engineers expected after two winters of storms."
)


def platform_page(name: str) -> dict:
    article = extract_article((PLATFORM_PAGES / name).read_text(encoding="utf-8"), URLS[name])
    assert article is not None
    return article


def page(head: str, body: str, lang: str = "en", paragraphs: int = 3) -> str:
    text = "".join(f"<p>{PARAGRAPH}</p>" for _ in range(paragraphs))
    return (
        f'<html lang="{lang}"><head><title>Dredging plan</title>{head}</head>'
        f"<body>{body}<article><h1>Dredging plan</h1>{text}</article></body></html>"
    )


@pytest.mark.parametrize("entry", PLATFORM_MANIFEST, ids=[e["file"] for e in PLATFORM_MANIFEST])
def test_platform_page_kind(entry):
    article = platform_page(entry["file"])
    assert article["page_kind"] == entry["kind"], article["page_kind_reason"]
    assert article["page_kind_reason"]


def test_fixture_articles_stay_articles():
    """Single-URL add must keep working on arbitrary news pages: every fixture page is one."""
    for entry in MANIFEST:
        html = PAGES[entry["file"]].read_bytes().decode("utf-8", errors="replace")
        assert extract_article(html, entry["url"])["page_kind"] == "article", entry["file"]
    assert extract_page(SEED.read_bytes(), "text/html", "http://127.0.0.1/p.html")["page_kind"] == (
        "article"
    )


def test_wordpress_block_theme_post():
    """Twenty Twenty-Three: the commenter is not the author, the time is the post-date
    block's (22:30 in New York is the next day in UTC), terms from the post-terms blocks,
    the blog's name from the site-title block, not host:port."""
    article = platform_page("wordpress-post-comments.html")
    assert article["author"] == "Maria Alvarez"  # trafilatura alone: "Tom Beachcomber"
    assert article["published"] == "2024-03-01T03:30:00+00:00"
    assert article["modified"] is None
    assert article["categories"] == ["Harbour"]
    assert article["tags"] == ["dredging", "tides"]
    assert article["sitename"] == "Harbour Notes"
    assert article["language"] == "en"
    assert article["protected"] is False
    assert "Will the beach really get the sand" not in article["text"]


def test_wordpress_commenter_is_never_the_author():
    article = platform_page("wordpress-post-one-comment.html")
    assert article["author"] == "Kenji Watanabe"  # trafilatura alone: "Ferry Fan"
    assert article["categories"] == ["Town Council"]
    assert article["tags"] == ["Council", "ferry"]


def test_wordpress_password_protected_post():
    article = platform_page("wordpress-protected.html")
    assert article["protected"] is True
    assert article["title"].startswith("Protected: ")
    assert article["page_kind"] == "article"


@pytest.mark.parametrize(
    ("name", "language"),
    [
        ("wordpress-post-de.html", "de"),
        ("wordpress-post-ko.html", "ko"),
        ("wordpress-post-pt.html", "pt"),
        ("wordpress-post-comments.html", "en"),
    ],
)
def test_detected_language_overrides_a_wrong_declaration(name, language):
    """Every post of an en-US WordPress blog says lang="en-US", whatever it is written in."""
    assert 'lang="en-US"' in (PLATFORM_PAGES / name).read_text(encoding="utf-8")
    assert platform_page(name)["language"] == language


def test_short_or_mixed_text_keeps_the_declared_language():
    german = "<p>Die Hafenkommission hat am Donnerstag beschlossen, das Becken auszubaggern.</p>"
    html = f'<html lang="en"><body><article><h1>Hafen</h1>{german}</article></body></html>'
    assert extract_article(html, "https://example.org/hafen")["language"] == "en"
    english = page("", "", lang="en")
    assert extract_article(english, "https://example.org/p")["language"] == "en"
    # A German post quoting English at length: the halves disagree, the declaration stands.
    intro = (
        "<p>Die Hafenkommission hat am Donnerstagabend beschlossen, das innere Hafenbecken im "
        "Herbst ausbaggern zu lassen, nachdem sich dort mehr Sand abgelagert hat als erwartet. "
        "Die Anwohner fragten, ob der Sand für den Strand genutzt werden könne.</p>"
    )
    quote = "".join(f"<p>{PARAGRAPH}</p>" for _ in range(2))
    html = f'<html lang="de"><body><article><h1>Hafen</h1>{intro}{quote}</article></body></html>'
    assert extract_article(html, "https://example.org/hafen")["language"] == "de"


def test_hugo_post():
    """Hugo's internal opengraph and schema templates: article:published_time with a zone
    (21:40 at -07:00 is the next day in UTC), article:modified_time equal to it (no
    modification), tags from the post's /tags/ links, the site title's link."""
    article = platform_page("hugo-post.html")
    assert article["published"] == "2024-04-03T04:40:00+00:00"
    assert article["modified"] is None
    assert article["author"] == "Ines Duarte"  # "By Ines Duarte"
    assert article["tags"] == ["kelp", "survey"]
    assert article["categories"] == ["posts"]  # Hugo's article:section is the section
    assert article["sitename"] == "Field Station Log"


def test_pelican_post():
    """Pelican's default theme: <abbr class="published" title="...+01:00">, the vcard
    author, category and tag links by path, the banner heading for the site name; the
    local date beside the UTC one is not a modification."""
    article = platform_page("pelican-post.html")
    assert article["published"] == "2024-02-04T23:20:00+00:00"
    assert article["modified"] is None
    assert article["author"] == "Olu Adeyemi"
    assert article["categories"] == ["Food"]
    assert article["tags"] == ["bakery", "night"]
    assert article["sitename"] == "Night Shift Notes"


YOAST_GRAPH = {
    "@context": "https://schema.org",
    "@graph": [
        {
            "@type": "Article",
            "@id": "https://news.example/harbour/#article",
            "author": {"@id": "https://news.example/#/schema/person/1"},
            "headline": "Dredging plan",
            "datePublished": "2024-02-29T22:30:00-05:00",
            "dateModified": "2024-03-04T09:00:00-05:00",
            "publisher": {"@id": "https://news.example/#organization"},
            "keywords": ["dredging", "Tides"],
            "articleSection": ["Harbour", "Town Council"],
        },
        {"@type": "WebPage", "@id": "https://news.example/harbour/", "name": "Dredging plan"},
        {"@type": "WebSite", "@id": "https://news.example/#website", "name": "Harbour Daily"},
        {"@type": "Organization", "@id": "https://news.example/#organization", "name": "HD"},
        {"@type": "Person", "@id": "https://news.example/#/schema/person/1", "name": "Ana Ruiz"},
    ],
}


def test_jsonld_graph_as_yoast_writes_it():
    head = (
        f'<script type="application/ld+json">{json.dumps(YOAST_GRAPH)}</script>'
        '<meta property="article:tag" content="tides">'
    )
    body = '<div class="comment-author vcard"><b class="fn">Ana Ruiz</b></div>'
    article = extract_article(page(head, body), "https://news.example/harbour/")
    assert article["author"] == "Ana Ruiz"
    assert article["published"] == "2024-03-01T03:30:00+00:00"
    assert article["modified"] == "2024-03-04T14:00:00+00:00"
    assert article["categories"] == ["Harbour", "Town Council"]
    assert article["tags"] == ["tides", "dredging"]
    assert article["sitename"] == "Harbour Daily"
    assert (article["page_kind"], article["page_kind_reason"]) == ("article", "JSON-LD Article")


def test_jsonld_author_list_and_organization():
    data = [
        {"@type": "NewsArticle", "author": [{"@type": "Person", "name": "A. Writer"}, "B. Writer"]},
        {"@type": "BreadcrumbList"},
    ]
    head = f'<script type="application/ld+json">{json.dumps(data)}</script>'
    assert (
        extract_article(page(head, ""), "https://x.example/a")["author"] == "A. Writer; B. Writer"
    )
    data = {"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Daily"}}
    head = f'<script type="application/ld+json">{json.dumps(data)}</script>'
    byline = '<p class="byline">By <a rel="author" href="/author/jo">Jo Lee</a></p>'
    assert extract_article(page(head, byline), "https://x.example/a")["author"] == "Jo Lee"


def test_dates_without_zone_or_out_of_agreement():
    head = '<meta property="article:published_time" content="2024-03-01T22:30:00">'
    assert extract_article(page(head, ""), "https://x.example/a")["published"] == "2024-03-01"
    # A structured time ten days from what the rest of the page says is not taken.
    head = (
        '<meta property="article:published_time" content="2024-03-11T09:00:00+00:00">'
        '<meta name="date" content="2024-03-01">'
    )
    body = '<p class="dateline"><time datetime="2024-03-01">March 1, 2024</time></p>'
    found = extract_article(page(head, body), "https://x.example/2024/03/01/a")["published"]
    assert found == "2024-03-01"


def test_site_name_is_never_the_host_or_the_title():
    head = '<meta property="og:site_name" content="Dredging plan">'
    article = extract_article(page(head, ""), "http://127.0.0.1:8080/a")
    assert article["sitename"] not in {"Dredging plan", "127.0.0.1:8080", "127.0.0.1"}


@pytest.mark.parametrize(
    ("byline", "name"),
    [
        ("By Jane Doe", "Jane Doe"),
        ("Posted by: Jane Doe |", "Jane Doe"),
        ("Jane Doe on May 3, 2024", "Jane Doe"),
        ("Jane Doe - 03.05.2024", "Jane Doe"),
        ("Lindsey O&#039;Donnell", "Lindsey O'Donnell"),
        ("https://example.org/jane", None),
        ("@janedoe", None),
    ],
)
def test_clean_name(byline, name):
    assert clean_name(byline) == name


def test_listing_signals_and_their_absence():
    collection = '<script type="application/ld+json">{"@type": "CollectionPage"}</script>'
    article = extract_article(page(collection, ""), "https://x.example/news/")
    assert (article["page_kind"], article["page_kind_reason"]) == (
        "listing",
        "JSON-LD CollectionPage",
    )
    # A post under a listing-looking URL, with an article signal, stays an article.
    og_article = '<meta property="og:type" content="article">'
    assert extract_article(page(og_article, ""), "https://x.example/tag/x/")["page_kind"] == (
        "article"
    )
    # No signals at all: an article, whatever the URL.
    assert extract_article(page("", ""), "https://x.example/")["page_kind"] == "article"
