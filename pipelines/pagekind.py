"""Is a page one article, or a listing of posts (a home page, an archive, a tag, category,
author or search page)? Judged from the page's own signals, strongest first.

1. WordPress's body classes (on a WordPress page only: Pelican's theme puts `home` on every
   page): `single`, `single-post`, `page` are an article; `home`, `blog`, `archive`,
   `category`, `tag`, `author`, `date`, `paged`, `search` a listing.
2. JSON-LD: an article type (Article, NewsArticle, BlogPosting, ...) is an article; a listing
   type (CollectionPage, ProfilePage, SearchResultsPage) a listing.
3. og:type `article` or an article:published_time is an article.
4. Weaker signals, which decide only together: post summaries that make up the page
   (top-level `<article>` elements, WordPress query-loop items, `hentry`/`h-entry` items;
   several of like size, a quarter of the page's text or more), og:type `website`, a
   JSON-LD ItemList, Blog or WebSite with no page type beside it, a rel=next/prev link, an
   `hfeed`/`h-feed` element, content that is mostly links, and a listing URL of the
   platforms (`/tag/X/`, `/category/X/`, `/author/X/`, `/page/N/`, Pelican's `index2.html`
   and `archives.html`, the site root). Several summaries and one other signal, or a
   listing URL and one other signal, are a listing.

Anything else is an article: a page with no signals at all (a news page added by URL) stays
one.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from pipelines.pagemeta import ARTICLE_TYPES, PageMeta

LISTING_TYPES = frozenset({"CollectionPage", "ProfilePage", "SearchResultsPage"})
# Types that name a listing when no page or article type is beside them (a WebSite is on
# every page of many sites).
WEAK_LISTING_TYPES = frozenset({"ItemList", "Blog", "WebSite"})
PAGE_TYPES = frozenset({"WebPage", "AboutPage", "ContactPage", "FAQPage", "QAPage"})
_WP_LISTING = ("home", "blog", "archive", "category", "tag", "author", "date", "paged", "search")
_WP_SINGLE = ("single", "single-post", "page")
_LISTING_PATH = re.compile(
    r"/(?:tags?|categor(?:y|ies)|authors?)/[^/]+(?:/|\.html?)?(?:page/\d+/?)?$"
    r"|/page/\d+/?$"
    r"|/(?:index\d+|archives|tags|categories|authors)\.html?$"
    r"|/(?:tags|categories|authors)/$"
    r"|^/?(?:index\.html?)?$"
)
_FEED = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' hfeed ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' h-feed ')]"
)
# Where a page's own content is, to tell a list of links from an article.
_CONTENT = "//main | //*[@id='content'] | //*[@role='main']"
_INSIDE = "ancestor::nav or ancestor::header or ancestor::footer or ancestor::aside"
_OUTSIDE = f".//*[self::nav or self::header or self::footer or self::aside][not({_INSIDE})]"
_SPACES = re.compile(r"\s+")
PROSE_CHARS = 300  # non-space characters
_SUMMARIES = (
    "//article[not(ancestor::article)]"
    " | //li[contains(concat(' ', normalize-space(@class), ' '), ' wp-block-post ')]"
    " | //*[not(self::article)][contains(concat(' ', normalize-space(@class), ' '), ' hentry ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' h-entry ')]"
    "[not(ancestor::article)]"
)


def page_kind(tree: HtmlElement, url: str, page: PageMeta) -> tuple[str, str]:
    """("article" or "listing", the signal that decided)."""
    body = tree.find(".//body")
    classes = set((body.get("class") or "").split()) if body is not None else set()
    if _is_wordpress(tree, classes):
        single = [c for c in _WP_SINGLE if c in classes]
        if single:
            return "article", f"WordPress body class {single[0]}"
        listing = [c for c in _WP_LISTING if c in classes]
        if listing:
            return "listing", f"WordPress body class {listing[0]}"
    types = page.types()
    if types & ARTICLE_TYPES:
        return "article", f"JSON-LD {sorted(types & ARTICLE_TYPES)[0]}"
    if types & LISTING_TYPES:
        return "listing", f"JSON-LD {sorted(types & LISTING_TYPES)[0]}"
    og_type = (page.first("og:type") or "").lower()
    if og_type == "article" or page.first("article:published_time"):
        return "article", "og:type article" if og_type == "article" else "article:published_time"
    weak = []
    if og_type == "website":
        weak.append("og:type website")
    if types & WEAK_LISTING_TYPES and not types & PAGE_TYPES:
        weak.append(f"JSON-LD {sorted(types & WEAK_LISTING_TYPES)[0]}")
    if tree.xpath("//link[@rel='next' or @rel='prev'] | //a[@rel='next' or @rel='prev']"):
        weak.append("rel next/prev")
    if tree.xpath(_FEED):
        weak.append("hfeed")
    if _LISTING_PATH.search(urlsplit(url).path):
        weak.append("listing URL")
    summaries = _summaries(tree) if weak else 0  # alone, summaries decide nothing
    if summaries >= 2:
        return "listing", f"{summaries} post summaries and {weak[0]}"
    if "listing URL" in weak and (len(weak) >= 2 or _mostly_links(tree)):
        reasons = weak if len(weak) >= 2 else [*weak, "content mostly links"]
        return "listing", " and ".join(reasons)
    return "article", "no listing signals"


def _summaries(tree: HtmlElement) -> int:
    """How many post summaries make up the page: at least two, none holding most of
    their text (not one article beside related-post tiles) and together at least a quarter
    of the page's text (not a sidebar of teasers); else 0."""
    sizes = [_size(e) for e in tree.xpath(_SUMMARIES)]
    body = tree.find(".//body")
    if len(sizes) < 2 or body is None or max(sizes) > 0.6 * sum(sizes):
        return 0
    return len(sizes) if sum(sizes) >= 0.25 * _size(body) else 0


def _size(element: HtmlElement) -> int:
    return len(_SPACES.sub("", element.text_content()))


def _mostly_links(tree: HtmlElement) -> bool:
    """Whether the page's content (its main element, else its body) is three links or more
    with at least as much link text as other text, or little prose (under
    PROSE_CHARS) beside them: an archive or a list of tags."""
    roots = tree.xpath(_CONTENT) or tree.xpath("//body")
    if not roots:
        return False
    total = _size(roots[0]) - sum(_size(e) for e in roots[0].xpath(_OUTSIDE))
    links = roots[0].xpath(f".//a[not({_INSIDE})]")
    linked = sum(_size(a) for a in links)
    return len(links) >= 3 and (linked * 2 >= total or total - linked < PROSE_CHARS)


def _is_wordpress(tree: HtmlElement, classes: set[str]) -> bool:
    if any(c.startswith("wp-") or c.startswith("postid-") for c in classes):
        return True
    generator = tree.xpath("//meta[@name='generator']/@content")
    return bool(generator) and generator[0].startswith("WordPress")
