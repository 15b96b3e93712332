"""What a page says about its article in structured form: meta tags, JSON-LD, microdata and
the markup of blog platforms (WordPress block and classic themes, Hugo, Pelican).

Pure functions over a parsed lxml tree, read before trafilatura prunes it; nothing here
touches the network. `read_page` gathers everything once; the other functions choose among
its candidates and trafilatura's own guesses.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

# schema.org types of one article (their subtypes included, as sites use them).
ARTICLE_TYPES = frozenset(
    {
        "Article", "NewsArticle", "BlogPosting", "Report", "ScholarlyArticle", "TechArticle",
        "AnalysisNewsArticle", "OpinionNewsArticle", "ReportageNewsArticle", "ReviewNewsArticle",
        "BackgroundNewsArticle", "AskPublicNewsArticle", "LiveBlogPosting", "SocialMediaPosting",
        "DiscussionForumPosting", "AdvertiserContentArticle", "SatiricalArticle", "Review",
    }
)  # fmt: skip


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


ORGANIZATION_TYPES = frozenset({"Organization", "NewsMediaOrganization", "Corporation"})

# Where a page keeps its comments: nothing in here is about the article's author.
_COMMENT_AREA = " or ".join(
    ["@id='comments'", "@id='respond'", "@id='disqus_thread'"]
    + [
        _has_class(name)
        for name in (
            "comments-area", "comments", "comment", "comment-list", "commentlist",
            "wp-block-comments", "wp-block-comment-template", "comment-body",
        )
    ]
)  # fmt: skip
_IN_COMMENTS = f"ancestor-or-self::*[{_COMMENT_AREA}]"
_COMMENT_SECTIONS = f"//*[{_COMMENT_AREA}][not(ancestor::*[{_COMMENT_AREA}])]"


# Comment authors' names: WordPress's comment-author-name block, else the `fn` inside (or
# the text of) a classic theme's `.comment-author`.
_COMMENT_NAME_CLASSES = frozenset({"wp-block-comment-author-name", "comment-author-name"})

# Bylines in page markup, best first: what `_byline_rank` ranks among the elements this
# finds (one scan of the page).
_AUTHORISH = "//*[contains(@class, 'author') or contains(@rel, 'author') or @itemprop='author']"
_BYLINE_CLASSES = ("wp-block-post-author-name", "wp-block-post-author__name")

# Dates in page markup: the post's own date elements of the platforms (one scan finds
# them all; `_markup_dates` ranks them).
_DATED = "//*[@datetime or @itemprop='datePublished' or @itemprop='dateModified'] | //abbr[@title]"

_BY = re.compile(
    r"^\s*(?:(?:written|posted|published|posted and written|story|words|text)\s+)?"
    r"(?:by|von|par|por|di|door|av|af)\s*:?\s+",
    re.IGNORECASE,
)
_MONTHS = (
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|"
    r"july|august|september|october|november|december"
)
_TRAILING_DATE = re.compile(
    rf"\s*(?:[,|\u2013\u2014·-]\s*|\s(?:on|am|le|el)\s+)"
    rf"(?:(?:{_MONTHS})\.?\s+\d|\d{{1,4}}[./-]\d|\d{{1,2}}\.?\s+(?:{_MONTHS})).*$",
    re.IGNORECASE,
)
_SEPARATORS = " \t\n|,;:·•\u2013\u2014-/"
_SPACES = re.compile(r"\s+")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass
class PageMeta:
    """The structured claims of one page, gathered once."""

    meta: dict[str, list[str]] = field(default_factory=dict)
    jsonld: list[dict[str, Any]] = field(default_factory=list)

    def first(self, key: str) -> str | None:
        """The first non-empty meta value under `key` (name, property or itemprop)."""
        return next(iter(self.meta.get(key, ())), None)

    def articles(self) -> list[dict[str, Any]]:
        """The JSON-LD objects of article types."""
        return [obj for obj in self.jsonld if _types(obj) & ARTICLE_TYPES]

    def types(self) -> set[str]:
        """Every JSON-LD @type on the page."""
        return {kind for obj in self.jsonld for kind in _types(obj)}


def read_page(tree: HtmlElement) -> PageMeta:
    """The meta tags (keyed by property or name, or "itemprop:" and the itemprop; lower-cased)
    and the JSON-LD objects of the page (`@graph` and arrays flattened)."""
    page = PageMeta()
    for element in tree.iterfind(".//meta"):
        content = (element.get("content") or "").strip()
        if not content:
            continue
        for attribute, prefix in (("property", ""), ("name", ""), ("itemprop", "itemprop:")):
            key = (element.get(attribute) or "").strip().lower()
            if key:
                page.meta.setdefault(prefix + key, []).append(content)
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        page.jsonld.extend(_flatten(data))
    return page


def _flatten(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten(data["@graph"])


def _types(obj: dict[str, Any]) -> set[str]:
    kinds = obj.get("@type")
    items = kinds if isinstance(kinds, list) else [kinds]
    return {kind.rsplit("/", 1)[-1] for kind in items if isinstance(kind, str)}


# Dates


def _parse(value: str) -> datetime | date | None:
    """A datetime (aware or naive) when `value` has a time, a date when only a date."""
    value = value.strip()
    if not _ISO_DATE.match(value):
        return None
    if len(value) <= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    try:
        return datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None


def _as_output(found: datetime | date) -> str:
    """ISO 8601 in UTC with time when the zone is known, else the date alone."""
    if isinstance(found, datetime):
        if found.tzinfo is None:
            return found.date().isoformat()
        return found.astimezone(UTC).isoformat(timespec="seconds")
    return found.isoformat()


def _local_dates(found: datetime | date) -> set[date]:
    """The calendar dates a value may be read as: its local date and its UTC date."""
    if isinstance(found, datetime):
        dates = {found.date()}
        if found.tzinfo is not None:
            dates.add(found.astimezone(UTC).date())
        return dates
    return {found}


def _agrees(found: datetime | date, known: str | None) -> bool:
    """Whether `found` falls within a day of the date htmldate found (when it found one)."""
    if not known:
        return True
    try:
        anchor = date.fromisoformat(known[:10])
    except ValueError:
        return True
    return any(abs((day - anchor).days) <= 1 for day in _local_dates(found))


def _date_candidates(
    tree: HtmlElement, page: PageMeta, meta_keys: tuple[str, ...], jsonld_key: str,
    modified: bool,
) -> Iterator[str]:  # fmt: skip
    """The values of one date the page gives, best first (the markup searched only when
    the structured claims are used up)."""
    for key in meta_keys:
        yield from page.meta.get(key, ())
    for obj in page.articles() or page.jsonld:
        if isinstance(obj.get(jsonld_key), str):
            yield obj[jsonld_key]
    yield from _markup_dates(tree, modified)


def _markup_dates(tree: HtmlElement, modified: bool) -> list[str]:
    """The first value of each kind of date element, best kind first. Publication: itemprop
    datePublished, WordPress's post-date block, `time.entry-date.published`, any other
    `.published` (Pelican's `abbr`), a time in an article's header. Modification: itemprop
    dateModified, `.updated`."""
    ranked: dict[int, str] = {}
    for element in tree.xpath(_DATED):
        value = element.get("datetime") or element.get("content") or element.get("title")
        rank = _date_rank(element, modified)
        if value and rank is not None and rank not in ranked:
            ranked[rank] = value
    return [ranked[rank] for rank in sorted(ranked)]


def _date_rank(element: HtmlElement, modified: bool) -> int | None:
    classes = (element.get("class") or "").split()
    itemprop = element.get("itemprop")
    if modified:
        checks = [itemprop == "dateModified", "updated" in classes]
    else:
        checks = [
            itemprop == "datePublished",
            element.tag == "time" and bool(element.xpath(_IN_POST_DATE)),
            element.tag == "time" and "entry-date" in classes and "published" in classes,
            "published" in classes,
            element.tag == "time" and bool(element.xpath("ancestor::header[ancestor::article]")),
        ]
    return next((rank for rank, check in enumerate(checks) if check), None)


_IN_POST_DATE = f"ancestor::*[{_has_class('wp-block-post-date')}]"


def published_date(tree: HtmlElement, page: PageMeta, known: str | None) -> str | None:
    """The publication date: UTC date and time when the page gives a time with a zone.

    Sources, best first: article:published_time, JSON-LD datePublished (of an article
    object, else of any), itemprop datePublished, the platforms' date elements (WordPress's
    post-date block, `time.entry-date`, `abbr.published`, a time in the article's header).
    A value counts only when its local or UTC date lies within a day of `known`, htmldate's
    date, when htmldate found one: htmldate reads the same claims, so a disagreement is a
    page whose claims contradict each other (an original print date, a related post's date),
    and its date is the one measured right more often on the corpus. A time without a zone
    gives its date only; when no source has a time, `known` stands.
    """
    return _choose_date(
        tree, page, ("article:published_time", "itemprop:datepublished", "og:published_time"),
        "datePublished", False, known,
    )  # fmt: skip


def modified_date(
    tree: HtmlElement, page: PageMeta, published: str | None, known: str | None
) -> str | None:
    """The last modification, chosen as `published_date` is (`known`: htmldate's latest
    date); None unless after `published`, and when either is a date alone, more than a day
    after it."""
    found = _choose_date(
        tree, page, ("article:modified_time", "itemprop:datemodified", "og:updated_time"),
        "dateModified", True, None,
    ) or known  # fmt: skip
    if not found or not published:
        return found
    if len(found) == 10 or len(published) == 10:
        # A date alone may be the local date of a UTC time a day apart.
        days = (date.fromisoformat(found[:10]) - date.fromisoformat(published[:10])).days
        return found if days > 1 else None
    return found if found > published else None


def _choose_date(
    tree: HtmlElement, page: PageMeta, meta_keys: tuple[str, ...], jsonld_key: str,
    modified: bool, known: str | None,
) -> str | None:  # fmt: skip
    date_only = None
    for value in _date_candidates(tree, page, meta_keys, jsonld_key, modified):
        parsed = _parse(value)
        if parsed is None or not _agrees(parsed, known):
            continue
        if isinstance(parsed, datetime) and parsed.tzinfo is not None:
            return _as_output(parsed)
        date_only = date_only or _as_output(parsed)
    return known or date_only


# Authors


def clean_name(value: str) -> str | None:
    """A byline as a name: without "By", a trailing date or separators, entities decoded,
    spaces collapsed; None for a URL or a social handle."""
    name = _SPACES.sub(" ", html.unescape(value)).strip(_SEPARATORS)
    name = _BY.sub("", name)
    name = _TRAILING_DATE.sub("", name).strip(_SEPARATORS)
    if not name or len(name) > 100 or "://" in name or name.startswith(("www.", "@")):
        return None
    return name


def _names(value: Any, people: dict[str, str]) -> list[str]:
    """Names in a JSON-LD author value: a string, a Person (or its @id), or a list of them."""
    if isinstance(value, list):
        return [name for item in value for name in _names(item, people)]
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name") or people.get(str(value.get("@id")))
        if isinstance(name, list):
            name = next((n for n in name if isinstance(n, str)), None)
        return [name] if isinstance(name, str) else []
    return []


def _comment_authors(authorish: list[HtmlElement]) -> set[str]:
    """The names of the page's commenters, casefolded, among its `_AUTHORISH` elements."""
    names: set[str] = set()
    for element in authorish:
        classes = set((element.get("class") or "").split())
        if classes & _COMMENT_NAME_CLASSES:
            found = [element]
        elif "comment-author" in classes:
            found = element.xpath(f".//*[{_has_class('fn')}]") or [element]
        else:
            continue
        names.update(_fold(n) for e in found if (n := clean_name(e.text_content())))
    return names


def author(tree: HtmlElement, page: PageMeta, guess: str | None) -> str | None:
    """The article's authors ("A; B"): JSON-LD people, meta author, article:author (not a
    URL), the bylines of the page markup outside its comments, trafilatura's `guess` less
    the names found only in comments (trafilatura takes the first commenter of some themes
    for the author), then a JSON-LD organization."""
    for names in _author_candidates(tree, page, guess):
        cleaned = _dedup(filter(None, map(clean_name, names)))
        if cleaned:
            return "; ".join(cleaned)
    return None


def _author_candidates(tree: HtmlElement, page: PageMeta, guess: str | None) -> Iterator[list[str]]:
    """author's candidates, best first, each looked for only when the ones before fail."""
    people = {
        str(obj["@id"]): obj["name"]
        for obj in page.jsonld
        if "@id" in obj and isinstance(obj.get("name"), str) and "Person" in _types(obj)
    }
    authors = [obj.get("author") for obj in page.articles()]
    yield from (_names(a, people) for a in authors if not _is_organization(a))
    yield page.meta.get("author", [])[:1]
    yield page.meta.get("article:author", [])[:1]
    authorish = tree.xpath(_AUTHORISH)
    yield _bylines(authorish)
    if guess:
        commenters = _comment_authors(authorish)
        yield [n for n in re.split(r";\s*", guess) if not _commenter(tree, n, commenters)]
    yield from (_names(a, people) for a in authors if _is_organization(a))


def _is_organization(value: Any) -> bool:
    return isinstance(value, dict) and bool(_types(value) & ORGANIZATION_TYPES)


def _commenter(tree: HtmlElement, name: str, commenters: set[str]) -> bool:
    """Whether `name` is one of the `commenters` and the page names it nowhere outside its
    comments (a post's author who answers in the comments is still its author)."""
    cleaned = clean_name(name)
    if not cleaned or _fold(cleaned) not in commenters:
        return False
    body = tree.find(".//body")
    if body is None:
        return True
    sections = tree.xpath(_COMMENT_SECTIONS)
    outside = body.text_content().count(cleaned) - sum(
        e.text_content().count(cleaned) for e in sections
    )
    return outside <= 0


def _bylines(authorish: list[HtmlElement]) -> list[str]:
    """The names of the first byline markup (among the page's `_AUTHORISH` elements) that
    is not in a comment: that element and its siblings of the same kind (several authors in
    one byline)."""
    ranked: dict[int, list[HtmlElement]] = {}
    for element in authorish:
        for rank, found in enumerate(_byline_names(element)):
            if found:
                ranked.setdefault(rank, []).extend(found)
    for rank in sorted(ranked):
        found = [e for e in ranked[rank] if not e.xpath(_IN_COMMENTS)]
        if found:
            parent = found[0].getparent()
            return [e.text_content() for e in found if e.getparent() is parent]
    return []


def _byline_names(element: HtmlElement) -> list[list[HtmlElement]]:
    """The name elements an author-ish element gives, by kind, best first: WordPress's
    post-author blocks, a rel=author link, the `fn` of an `.author`, microdata's name."""
    classes = (element.get("class") or "").split()
    return [
        [element] if any(c in classes for c in _BYLINE_CLASSES) else [],
        [element] if element.tag == "a" and "author" in (element.get("rel") or "").split() else [],
        element.xpath(f".//*[{_has_class('fn')}]") if "author" in classes else [],
        element.xpath(".//*[@itemprop='name']") if element.get("itemprop") == "author" else [],
    ]


# Categories and tags


def terms(
    tree: HtmlElement, page: PageMeta, categories: list[str], tags: list[str]
) -> tuple[list[str], list[str]]:
    """(categories, tags): the page's term links (WordPress's taxonomy blocks and rel
    "category"/"tag", else /category/ and /tag/ paths inside the one article); where the links
    give none of a kind, article:section and article:tag, JSON-LD articleSection and keywords,
    microdata keywords, then trafilatura's `categories` and `tags` (Hugo's article:section is
    its content section, "posts", and its JSON-LD names the first category only: the links
    are the site's own list). Each deduplicated ignoring case, first spelling and order kept."""
    found_categories: list[str] = []
    found_tags: list[str] = []
    for link in tree.xpath("//a[contains(@rel, 'tag')]"):
        if "tag" not in (link.get("rel") or "").split() or link.xpath(_IN_COMMENTS):
            continue
        kind: str | None = _term_kind(link)
        (found_categories if kind == "category" else found_tags).append(link.text_content())
    if not found_categories and not found_tags:
        articles = tree.xpath("//article[not(ancestor::article)]")
        if len(articles) == 1:
            for link in articles[0].xpath(_TERM_LINKS):
                kind = _path_kind(link.get("href", ""))
                if kind:
                    (found_categories if kind == "category" else found_tags).append(
                        link.text_content()
                    )
    meta_categories = list(page.meta.get("article:section", []))
    meta_tags = list(page.meta.get("article:tag", []))
    for obj in page.articles():
        meta_categories += _keywords(obj.get("articleSection"))
        meta_tags += _keywords(obj.get("keywords"))
    for value in page.meta.get("itemprop:keywords", []):
        meta_tags += _keywords(value)
    chosen_categories = found_categories or [*meta_categories, *categories]
    chosen_tags = found_tags or [*meta_tags, *tags]
    return (
        _dedup(_SPACES.sub(" ", t).strip() for t in chosen_categories),
        _dedup(_SPACES.sub(" ", t).strip() for t in chosen_tags),
    )


_TERM_LINKS = ".//a[contains(@href, '/tag') or contains(@href, '/categor')][not(ancestor::nav)]"


def _term_kind(link: HtmlElement) -> str:
    """ "category" or "tag" for a rel=tag link: its WordPress taxonomy block, its rel
    ("category tag"), else its path."""
    for block in link.iterancestors():
        classes = (block.get("class") or "").split()
        if "taxonomy-category" in classes:
            return "category"
        if any(c.startswith("taxonomy-") for c in classes):
            return "tag"
    if "category" in (link.get("rel") or "").split():
        return "category"
    return _path_kind(link.get("href", "")) or "tag"


def _path_kind(href: str) -> str | None:
    path = urlsplit(href).path
    if re.search(r"/(?:category|categories)/[^/]", path):
        return "category"
    if re.search(r"/(?:tag|tags)/[^/]", path):
        return "tag"
    return None


def _keywords(value: Any) -> list[str]:
    if isinstance(value, list):
        return [part for item in value for part in _keywords(item)]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return []


def _dedup(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for value in values:
        key = value.casefold()
        if value and key not in seen:
            seen.add(key)
            kept.append(value)
    return kept


# Site name


def site_name(
    tree: HtmlElement, page: PageMeta, url: str, title: str | None, guess: str | None
) -> str | None:
    """The site's name: og:site_name, JSON-LD publisher or WebSite name, the platforms' site
    title (WordPress's site-title block, `.site-title`, a heading in the page header that
    links to the home page), then trafilatura's `guess`; never the host as trafilatura
    writes it when it finds no name (with or without port), nor the article's own title."""
    host = urlsplit(url).hostname or ""
    hosts = {host, urlsplit(url).netloc, host.removeprefix("www.")}
    for candidate in _site_names(tree, page, url, guess):
        if not isinstance(candidate, str):
            continue
        name = _SPACES.sub(" ", html.unescape(candidate)).strip()
        if name and len(name) <= 200 and name not in hosts and _fold(name) != _fold(title):
            return name
    return None


def _site_names(tree: HtmlElement, page: PageMeta, url: str, guess: str | None) -> Iterator[Any]:
    """site_name's candidates, best first, each looked for only when the ones before fail."""
    yield page.first("og:site_name")
    for obj in page.articles():
        if isinstance(obj.get("publisher"), dict):
            yield obj["publisher"].get("name")
    yield from (obj.get("name") for obj in page.jsonld if "WebSite" in _types(obj))
    yield from (e.text_content() for e in tree.xpath(_SITE_TITLE)[:1])
    root = urljoin(url, "/")
    for link in tree.xpath(_HEADING_LINKS)[:3]:
        if urljoin(url, link.get("href", "")).rstrip("/") + "/" == root:
            yield link.text_content()
            break
    yield guess


_HEADING_LINKS = (
    "//header//*[self::h1 or self::h2 or self::h3 or self::p]/a[@href]"
    "[not(ancestor::article)][not(ancestor::nav)]"
)
_SITE_TITLE = (
    f"//*[{_has_class('wp-block-site-title')}] | "
    f"//*[{_has_class('site-title')} and not(ancestor::article)]"
)


def _fold(value: str | None) -> str:
    return _SPACES.sub(" ", value or "").strip().casefold()


# Password-protected posts

PROTECTED_TEXT = "This content is password protected"


def is_protected(tree: HtmlElement, title: str | None, text: str) -> bool:
    """Whether the page is WordPress's password form for a protected post: its form, its
    "Protected: " title, or its "This content is password protected" in the `text`."""
    if (title or "").startswith("Protected: ") or PROTECTED_TEXT in text:
        return True
    return bool(tree.xpath(_PASSWORD_FORM))


# WordPress's form (class and action, as themes restyle it).
_PASSWORD_FORM = "//form[contains(@class, 'post-password-form') or contains(@action, 'postpass')]"
