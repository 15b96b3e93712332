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

import trafilatura
from htmldate import find_date
from htmldate.extractors import get_external_parser
from lxml.html import HtmlElement
from py3langid.langid import MODEL_FILE, LanguageIdentifier
from trafilatura.external import jt_stoplist_init
from trafilatura.settings import Document
from w3lib.encoding import html_to_unicode

from pipelines import pagemeta
from pipelines.identity import content_sha256
from pipelines.neardup import DEFAULT_SHINGLE_SIZE, signature
from pipelines.pagekind import page_kind
from pipelines.wire import WireAttributor

Agencies = tuple[tuple[str, tuple[str, ...]], ...] | None

EXTRACTOR_VERSION = f"trafilatura {trafilatura.__version__}"

# Chosen by measurement on the 161-page corpus: `python benchmarks/extraction_quality.py`
# prints these options side by side with trafilatura's defaults (figures in docs/quality.md).
EXTRACT_OPTIONS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
}

# Texts shorter than this are navigation or error pages, not articles.
MIN_TEXT_CHARS = 80

# The detected language replaces the declared one when py3langid gives it this normalised
# probability on the text and on each half of it, on LANGUAGE_MIN_BYTES of UTF-8 or more
# (py3langid reads bytes; a Korean character is three). Measured on the corpus: the
# probabilities are sharp (0.9 or more on every page whose detection agrees with its
# declaration, 1.0 on almost all), and wrong ones on random excerpts of its texts fell
# from 4 in 650 at 100 or 200 characters to 1 in 650 at 400, whatever the threshold; the
# halves keep a page's own language when a long quote in another makes up most of it.
LANGUAGE_MIN_PROBABILITY = 0.99
LANGUAGE_MIN_BYTES = 400
# A declaration is checked on the text's start (detection costs in proportion to length).
LANGUAGE_SAMPLE_CHARS = 1000

# The demo site's posts (package data): the pages the extractor is warmed up on.
SAMPLE_POSTS = files("archive.app") / "demo_site" / "posts"


def extract_article(html: str, url: str, options: dict[str, Any] | None = None) -> dict | None:
    """Extract the article in `html` fetched from `url`; None when it holds no article text.

    `published` and `modified` are ISO 8601 in UTC with time (`2024-03-01T03:30:00+00:00`)
    when the page gives a time with its zone, else `YYYY-MM-DD`; `protected` is whether the
    page is a password-protected post's form; `page_kind` ("article" or "listing") and
    `page_kind_reason` say whether the page is one article or a listing of posts.
    """
    tree = trafilatura.load_html(html)
    if tree is None:
        return None
    hints = _page_hints(tree, url)
    latest = find_date(tree, url=url, original_date=False, extensive_search=False)
    doc = trafilatura.bare_extraction(
        tree, url=url, with_metadata=True, **(EXTRACT_OPTIONS if options is None else options)
    )
    if doc is None:
        return None
    if not isinstance(doc, Document):
        raise TypeError("extraction options must not ask trafilatura for a dict (as_dict)")
    text = (doc.text or "").strip()
    if len(text) < MIN_TEXT_CHARS:
        return None
    # trafilatura works on a copy of the tree: the page's own markup is all still here.
    page = pagemeta.read_page(tree)
    kind, kind_reason = page_kind(tree, url, page)
    published = pagemeta.published_date(tree, page, doc.date)
    categories, tags = pagemeta.terms(tree, page, _as_list(doc.categories), _as_list(doc.tags))
    return {
        "text": text,
        "title": doc.title,
        "author": pagemeta.author(tree, page, doc.author),
        "published": published,
        "modified": pagemeta.modified_date(tree, page, published, latest),
        "sitename": pagemeta.site_name(
            tree, page, url, doc.title if kind == "article" else None, doc.sitename
        ),
        "hostname": doc.hostname,
        "language": _language(hints["language"], text),
        "description": doc.description,
        "categories": categories,
        "tags": tags,
        "image": doc.image,
        "canonical_hint": hints["canonical"],
        "protected": pagemeta.is_protected(tree, doc.title, text),
        "page_kind": kind,
        "page_kind_reason": kind_reason,
        "extractor": EXTRACTOR_VERSION,
    }


@lru_cache(maxsize=1)
def _language_identifier() -> LanguageIdentifier:
    """py3langid's model with normalised probabilities (loaded once, about 0.35 s)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _language(declared: str | None, text: str) -> str:
    """The declared language, unless a confident detection on enough text contradicts it;
    the detected one when nothing is declared."""
    if declared and len(text.encode()) < LANGUAGE_MIN_BYTES:
        return declared
    identifier = _language_identifier()
    if not declared:
        return str(identifier.classify(text[:5000])[0])
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    detected, probability = identifier.classify(sample)
    if detected == declared or probability < LANGUAGE_MIN_PROBABILITY:
        return declared
    middle = len(sample) // 2
    for half in (sample[:middle], sample[middle:]):
        language, probability = identifier.classify(half)
        if language != detected or probability < LANGUAGE_MIN_PROBABILITY:
            return declared
    return str(detected)


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
    # Browser-like: BOM, header, <meta>, then UTF-8 when the bytes are valid UTF-8, else the
    # likeliest encoding for the bytes and the URL's domain (a windows-1251 or Latin-1 page
    # that declares none must not be archived as U+FFFD replacement characters).
    _, html = html_to_unicode(content_type or None, body, url=url)
    article = extract_article(html.replace("\x00", ""), url)
    if article is not None:
        text = article["text"]
        article["wire_source"] = _attributor(agencies).detect(text, article["title"])
        article["content_sha256"] = content_sha256(text)
        article["minhash"] = signature(text, shingle_size).tobytes()
    return article


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
    _language_identifier().classify("a warm-up sentence in English")
    jt_stoplist_init()
    pages = sorted(
        (p for p in SAMPLE_POSTS.iterdir() if p.name.endswith(".html")), key=lambda p: p.name
    )
    extracted = sum(
        extract_page(page.read_bytes(), "text/html", f"https://example.com/{page.name}") is not None
        for page in pages
    )
    # htmldate's last resort: a string no locale reads compiles every locale's patterns.
    get_external_parser().get_date_data("2021 warm-up 17")
    gc.freeze()
    return extracted
