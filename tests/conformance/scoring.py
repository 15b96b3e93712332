"""How well an archive matches a platform's ground truth: per-post matching, text F1 and
per-field metadata accuracy. Shared by the platform tests and quotable by docs."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import mean
from typing import Any
from urllib.parse import parse_qs, urlsplit

import lxml.html

FIELDS = (
    "title",
    "author",
    "published",
    "modified",
    "categories",
    "tags",
    "sitename",
    "canonical_url",
)
_WORD = re.compile(r"\w+")


def words(text: str) -> Counter[str]:
    """Bag of lower-cased words (Unicode \\w runs)."""
    return Counter(_WORD.findall(text.lower()))


def f1(predicted: str, truth: str) -> float:
    """Bag-of-words F1 of `predicted` against `truth` (1.0 when both are empty)."""
    p, t = words(predicted), words(truth)
    if not p and not t:
        return 1.0
    overlap = sum((p & t).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(t.values())
    return 2 * precision * recall / (precision + recall)


def html_text(fragment: str) -> str:
    """The text of rendered post content, blocks on lines of their own."""
    if not fragment.strip():
        return ""
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for block in root.iter("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre"):
        block.tail = "\n" + (block.tail or "")
    return re.sub(r"\n\s*\n+", "\n", root.text_content()).strip()


def iso_utc(wp_datetime: str) -> str:
    """WordPress's 'YYYY-MM-DD HH:MM:SS' (GMT) as 'YYYY-MM-DDTHH:MM:SS+00:00'."""
    return wp_datetime.replace(" ", "T") + "+00:00"


def json_list(value: Any) -> list[str]:
    """A catalog list column (JSON text) or an export list, as a Python list."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = json.loads(value)
    return [str(v) for v in value]


def post_keys(post: Mapping[str, Any], home: str) -> set[str]:
    """URLs that name a post: its permalink and its ?p=ID shortlink."""
    return {post["link"], f"{home}?p={post['id']}"}


def post_id_of(url: str) -> int | None:
    """The ?p=ID of a shortlink or plain permalink, if any."""
    values = parse_qs(urlsplit(url).query).get("p")
    return int(values[0]) if values and values[0].isdigit() else None


@dataclass
class Match:
    """Archive rows matched to ground-truth posts by URL."""

    rows: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # post id -> rows
    extra: list[dict[str, Any]] = field(default_factory=list)  # rows matching no post

    def one(self, post_id: int) -> dict[str, Any] | None:
        rows = self.rows.get(post_id) or []
        return rows[0] if rows else None


def match(
    rows: Iterable[Mapping[str, Any]], posts: Sequence[Mapping[str, Any]], home: str
) -> Match:
    """Match archive rows (catalog or export) to `posts` by canonical_url or url."""
    by_url = {key: post["id"] for post in posts for key in post_keys(post, home)}
    out = Match()
    for row in rows:
        post_id = by_url.get(row.get("canonical_url") or "") or by_url.get(row.get("url") or "")
        if post_id is None:
            out.extra.append(dict(row))
        else:
            out.rows.setdefault(post_id, []).append(dict(row))
    return out


def field_ok(name: str, row: Mapping[str, Any], post: Mapping[str, Any], sitename: str) -> bool:
    """Whether one metadata field of an archived post equals the ground truth."""
    if name == "title":
        return row.get("title") in (post["title"], post["raw_title"])
    if name == "author":
        return row.get("author") == post["author"]
    if name == "published":
        return row.get("published") == iso_utc(post["date_gmt"])
    if name == "modified":
        return row.get("modified") == iso_utc(post["modified_gmt"])
    if name in ("categories", "tags"):
        got = json_list(row.get(name))
        return len(got) == len(set(got)) and set(got) == set(post[name])
    if name == "sitename":
        return row.get("sitename") == sitename
    if name == "canonical_url":
        return row.get("canonical_url") == post["link"]
    raise KeyError(name)


@dataclass
class Figures:
    """One site's figures for one crawl."""

    published: int  # public posts (not password-protected) WordPress has
    archived: int  # of those, archived
    extra: int  # archive rows that are no published post
    f1_mean: float
    f1_min: float
    accuracy: dict[str, float]  # field -> share of archived posts with it exact

    def line(self, label: str) -> str:
        fields = " ".join(f"{k}={v:.2f}" for k, v in self.accuracy.items())
        return (
            f"{label:<20} archived {self.archived}/{self.published} extra {self.extra} "
            f"text F1 mean {self.f1_mean:.3f} min {self.f1_min:.3f} | {fields}"
        )


def figures(
    rows: Sequence[Mapping[str, Any]], posts: Sequence[Mapping[str, Any]], home: str, sitename: str
) -> Figures:
    """Figures of `rows` (one site's archive rows) against `posts` (its published posts)."""
    public = [p for p in posts if not p["protected"]]
    found = match(rows, posts, home)
    pairs = [(found.one(p["id"]), p) for p in public]
    archived = [(row, p) for row, p in pairs if row is not None]
    scores = [f1(row.get("text") or "", html_text(p["content_html"])) for row, p in archived]
    accuracy = {
        name: (
            sum(field_ok(name, row, p, sitename) for row, p in archived) / len(archived)
            if archived
            else 0.0
        )
        for name in FIELDS
    }
    return Figures(
        published=len(public),
        archived=len(archived),
        extra=len(found.extra),
        f1_mean=mean(scores) if scores else 0.0,
        f1_min=min(scores) if scores else 0.0,
        accuracy=accuracy,
    )
