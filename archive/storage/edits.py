"""Edits people can see: an article's versions, the word-level diff between two of them
(`wirearchive diff`), and the edits made in a period (`wirearchive changes`, `/changes.atom`).

An article's versions are its revisions (earlier texts, oldest first) and then its current
row, numbered from 1; a version's time is the fetch its text was extracted from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

from archive.core.worddiff import Span, changed, counts, word_diff


@dataclass(frozen=True)
class Version:
    """One text of an article."""

    number: int
    title: str
    text: str
    fetched_at: str  # the capture the text came from
    superseded_at: str | None  # when a later version replaced it; None for the current one

    def summary(self) -> dict[str, Any]:
        """The version as the JSON output names it (without its text)."""
        return {
            "version": self.number,
            "title": self.title,
            "fetched_at": self.fetched_at,
            "superseded_at": self.superseded_at,
        }


@dataclass(frozen=True)
class Diff:
    """What changed from one version of an article to another."""

    article: dict[str, Any]
    old: Version
    new: Version
    title: list[Span]
    text: list[Span]
    origin: dict[str, Any] | None = None  # the story's origin, when `old` is its text

    @property
    def words(self) -> tuple[int, int]:
        """(words added, words removed) in the title and text together."""
        title_added, title_removed = counts(self.title)
        text_added, text_removed = counts(self.text)
        return title_added + text_added, title_removed + text_removed

    @property
    def title_changed(self) -> bool:
        """Whether the headline changed."""
        return changed(self.title)

    def record(self, spans: bool = True) -> dict[str, Any]:
        """The diff as JSON: the article, both versions, the counts, and (with `spans`) the
        title's and the text's spans."""
        added, removed = self.words
        record: dict[str, Any] = {
            "id": self.article["id"],
            "url": self.article["url"],
            "source": self.article.get("source"),
            "from": self.old.summary(),
            "to": self.new.summary(),
            "title_changed": self.title_changed,
            "words_added": added,
            "words_removed": removed,
        }
        if self.origin is not None:
            record["origin"] = {"id": self.origin["id"], "url": self.origin["url"]}
        if spans:
            record["title"] = [{"op": s.op, "text": s.text} for s in self.title]
            record["text"] = [{"op": s.op, "text": s.text} for s in self.text]
        return record


def versions(catalog: Any, article: dict[str, Any]) -> list[Version]:
    """Every text of `article`, oldest first, numbered from 1."""
    return numbered(catalog.revisions_of(article["id"]), article)


def numbered(revisions: list[dict[str, Any]], article: dict[str, Any]) -> list[Version]:
    """`article`'s versions from its `revisions` rows (oldest first) and its current row."""
    rows = [*revisions, article | {"superseded_at": None}]
    return [
        Version(n, row["title"] or "", row["text"] or "", row["fetched_at"], row["superseded_at"])
        for n, row in enumerate(rows, 1)
    ]


def compare(article: dict[str, Any], old: Version, new: Version) -> Diff:
    """The word-level diff of `old` to `new`, title and text."""
    return Diff(article, old, new, word_diff(old.title, new.title), word_diff(old.text, new.text))


def against_origin(catalog: Any, article: dict[str, Any]) -> Diff:
    """What a copy of a story added, cut or changed against the story's origin: the diff of
    the origin's current text to the copy's. ValueError when `article` has no origin to
    compare with (it is in no story with other copies, or it is the origin)."""
    story = catalog.cluster(article["cluster_id"]) if article.get("cluster_id") else None
    if story is None or story["size"] < 2 or not story["origin_id"]:
        raise ValueError("it is in no story with other copies")
    if story["origin_id"] == article["id"]:
        raise ValueError("it is its story's origin")
    found = copies_against_origin(catalog, story, [article])
    if article["id"] not in found:
        raise ValueError(f"its story's origin {story['origin_id']} is missing")
    return found[article["id"]]


def copies_against_origin(
    catalog: Any, story: dict[str, Any], copies: list[dict[str, Any]]
) -> dict[str, Diff]:
    """Each of `copies` (articles of `story`, not its origin) against the story's origin, by
    id; none when the origin is missing. The origin's text is read once."""
    origin = catalog.article(story["origin_id"]) if story["origin_id"] else None
    if origin is None:
        return {}
    base = versions(catalog, origin)[-1]
    return {
        copy["id"]: replace(compare(copy, base, versions(catalog, copy)[-1]), origin=origin)
        for copy in copies
        if copy["id"] != origin["id"]
    }


def pick(
    all_versions: list[Version], start: int | None, end: int | None
) -> tuple[Version, Version]:
    """The versions numbered `start` and `end` (default: the last two; negative numbers count
    from the last, -1 being the current one); ValueError says why they cannot be compared."""
    count = len(all_versions)
    if count < 2 and start is None and end is None:
        raise ValueError(f"it has one version only (fetched {all_versions[0].fetched_at})")

    def one(number: int) -> Version:
        index = number - 1 if number > 0 else count + number
        if number == 0 or not 0 <= index < count:
            raise ValueError(f"no version {number}: it has {count} (1 to {count})")
        return all_versions[index]

    return one(start if start is not None else -2), one(end if end is not None else -1)


def edits(
    catalog: Any, since: str | None = None, source: str | None = None, articles: int = -1
) -> list[Diff]:
    """Each change of title or text made at or after `since` (of `source`'s articles, or
    all), largest first: one Diff per version that replaced another in the period; of the
    `articles` most recently edited articles only (-1: all)."""
    found = []
    for article_id in catalog.edited(since, source, articles):
        article = catalog.article(article_id)
        if article is None:
            continue
        texts = versions(catalog, article)
        for old, new in pairwise(texts):
            if old.superseded_at is not None and old.superseded_at >= (since or ""):
                diff = compare(article, old, new)
                if changed(diff.title) or changed(diff.text):
                    found.append(diff)
    return sorted(found, key=lambda d: (-sum(d.words), d.new.fetched_at, d.article["id"]))
