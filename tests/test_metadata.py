"""Merging a listing's metadata into the page's: the strongest source of each field wins."""

from __future__ import annotations

from pipelines.metadata import merge_listing

PAGE = {
    "title": "Talks resume - Wire Watch",
    "author": "Commenter Carl",  # what a theme's comment block can make trafilatura guess
    "published": "2024-03-01",
    "modified": None,
    "categories": ["World"],
    "tags": ["geneva", "Talks"],
    "sitename": None,
    "protected": False,
    "text": "...",
}


def test_platform_records_outrank_the_page() -> None:
    entry = {
        "platform": "wordpress",
        "title": "Talks resume",
        "author": "Jane Roe",
        "published": "2024-03-01T03:30:00+00:00",
        "updated": "2024-03-02T08:00:00+00:00",
        "categories": ["News"],
        "tags": ["Geneva"],
        "sitename": "Wire Watch",
        "protected": False,
    }
    merged = merge_listing(PAGE, entry)
    assert (merged["title"], merged["author"], merged["sitename"]) == (
        "Talks resume",
        "Jane Roe",
        "Wire Watch",
    )
    assert merged["published"] == "2024-03-01T03:30:00+00:00"
    assert merged["modified"] == "2024-03-02T08:00:00+00:00"
    assert (merged["categories"], merged["tags"]) == (["News"], ["Geneva"])
    assert merged["text"] == "..." and PAGE["author"] == "Commenter Carl"  # input untouched


def test_a_sitemap_only_fills_gaps_but_a_time_beats_a_bare_date() -> None:
    entry = {"title": "Other", "published": "2024-02-29T23:00:00+00:00", "updated": "2024-05-01"}
    merged = merge_listing(PAGE, entry)
    assert merged["title"] == PAGE["title"] and merged["author"] == PAGE["author"]
    assert merged["published"] == "2024-02-29T23:00:00+00:00"
    assert merged["modified"] is None  # a sitemap's lastmod is often the build's time
    timed = merge_listing({**PAGE, "published": "2024-03-01T01:00:00+00:00"}, entry)
    assert timed["published"] == "2024-03-01T01:00:00+00:00"


def test_feed_terms_join_the_page_tags_without_repeats() -> None:
    entry = {"platform": "feed", "terms": ["world", "Geneva", "Diplomacy"], "sitename": "WW"}
    merged = merge_listing(PAGE, entry)
    assert merged["categories"] == ["World"]
    assert merged["tags"] == ["geneva", "Talks", "Diplomacy"]
    assert merged["sitename"] == "WW"  # the page named none
    assert merge_listing({**PAGE, "sitename": "Page"}, entry)["sitename"] == "Page"


def test_protected_by_the_api_or_the_page() -> None:
    assert merge_listing(PAGE, {"platform": "wordpress", "protected": True})["protected"]
    assert merge_listing({**PAGE, "protected": True}, {"url": "x"})["protected"]
    assert not merge_listing(PAGE, {"url": "x"})["protected"]
    assert merge_listing(PAGE, None) is PAGE
