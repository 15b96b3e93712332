"""Article extraction: clean text and metadata from one HTML page with trafilatura.

Pure functions, run in worker processes by pipelines.extract (the crawling process itself
never imports this module, nor trafilatura); nothing here touches the network.
"""

from __future__ import annotations

import gc
from functools import lru_cache
from importlib.resources import files
from typing import Any
from urllib.parse import urljoin

import py3langid
import trafilatura
from htmldate import find_date
from htmldate.extractors import get_external_parser
from lxml.html import HtmlElement
from trafilatura.external import jt_stoplist_init
from trafilatura.utils import detect_encoding
from w3lib.encoding import html_to_unicode

from pipelines.identity import content_sha256
from pipelines.neardup import DEFAULT_SHINGLE_SIZE, signature
from pipelines.wire import WireAttributor

Agencies = tuple[tuple[str, tuple[str, ...]], ...] | None

EXTRACTOR_VERSION = f"trafilatura {trafilatura.__version__}"

# Chosen by measurement on the 161-page corpus: `python benchmarks/extraction_quality.py`
# prints these options side by side with trafilatura's defaults (figures in the README).
EXTRACT_OPTIONS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
}

# Texts shorter than this are navigation or error pages, not articles.
MIN_TEXT_CHARS = 80

# The demo site's posts (package data): the pages the extractor is warmed up on.
SAMPLE_POSTS = files("archive") / "demo_site" / "posts"


def extract_article(html: str, url: str, options: dict[str, Any] | None = None) -> dict | None:
    """Extract the article in `html` fetched from `url`; None when it holds no article text."""
    tree = trafilatura.load_html(html)
    if tree is None:
        return None
    hints = _page_hints(tree, url)
    modified = find_date(tree, url=url, original_date=False, extensive_search=False)
    doc = trafilatura.bare_extraction(
        tree, url=url, with_metadata=True, **(EXTRACT_OPTIONS if options is None else options)
    )
    text = (doc.text or "").strip() if doc is not None else ""
    if len(text) < MIN_TEXT_CHARS:
        return None
    published = doc.date
    return {
        "text": text,
        "title": doc.title,
        "author": doc.author,
        "published": published,
        "modified": modified if modified and modified != published else None,
        "sitename": doc.sitename,
        "hostname": doc.hostname,
        "language": hints["language"] or py3langid.classify(text[:5000])[0],
        "description": doc.description,
        "categories": _as_list(doc.categories),
        "tags": _as_list(doc.tags),
        "image": doc.image,
        "canonical_hint": hints["canonical"],
        "extractor": EXTRACTOR_VERSION,
    }


def _page_hints(tree: HtmlElement, url: str) -> dict[str, str | None]:
    """The page's own claims about its canonical URL and language."""
    canonical = None
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        found = tree.xpath(xpath)
        if found and found[0].strip():
            canonical = urljoin(url, found[0].strip())
            break
    lang = tree.get("lang") or next(
        iter(tree.xpath('//meta[@http-equiv="content-language"]/@content')), None
    )
    language = (
        lang.strip().split("-")[0].split("_")[0].lower()[:3] if lang and lang.strip() else None
    )
    return {"canonical": canonical, "language": language or None}


def _as_list(value: list[str] | str | None) -> list[str]:
    """trafilatura gives tags and categories as comma-joined strings, alone or in a list."""
    items = [value] if isinstance(value, str) else value or []
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def extract_page(
    body: bytes,
    content_type: str,
    url: str,
    agencies: Agencies = None,
    shingle_size: int = DEFAULT_SHINGLE_SIZE,
) -> dict | None:
    """Decode, extract and attribute one page, with the text's hash and MinHash signature
    (the CPU-bound parts of dedup)."""
    _, html = html_to_unicode(content_type or None, body, auto_detect_fun=_sniff_encoding)
    article = extract_article(html.replace("\x00", ""), url)
    if article is not None:
        text = article["text"]
        article["wire_source"] = _attributor(agencies).detect(text, article["title"])
        article["content_sha256"] = content_sha256(text)
        article["minhash"] = signature(text, shingle_size).tobytes()
    return article


def _sniff_encoding(body: bytes) -> str | None:
    """The encoding of a page that declares none: UTF-8 when it decodes as such, else the
    likeliest guess. Without it w3lib decodes as UTF-8, and a windows-1251 or Latin-1 page
    would be archived as a text of U+FFFD replacement characters."""
    return next(iter(detect_encoding(body)), None)


@lru_cache(maxsize=4)
def _attributor(agencies: Agencies) -> WireAttributor:
    return WireAttributor(dict(agencies) if agencies is not None else None)


def warm_up() -> int:
    """Load the models, extract the sample posts once and let dateparser try every locale,
    then freeze what that made: a process forked after this starts with the models, compiled
    patterns and caches that a cold one builds on its first pages (about 2 s of CPU), and the
    collector leaves them alone (fewer pages copied on write). The number of articles
    extracted."""
    # What the sample posts do not reach: the language model (about 0.35 s; they declare
    # their language) and jusText's stoplist of all languages.
    py3langid.classify("a warm-up sentence in English")
    jt_stoplist_init()
    pages = sorted(p for p in SAMPLE_POSTS.iterdir() if p.name.endswith(".html"))
    extracted = sum(
        extract_page(page.read_bytes(), "text/html", f"https://example.com/{page.name}") is not None
        for page in pages
    )
    # htmldate's last resort: a string no locale reads compiles every locale's patterns.
    get_external_parser().get_date_data("2021 warm-up 17")
    gc.freeze()
    return extracted
