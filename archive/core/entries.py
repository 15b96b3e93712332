"""What a listing (feed, sitemap, platform API) says about one post before it is fetched."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One post as a feed, sitemap or API lists it. Dates are ISO 8601 strings in UTC
    ("2022-01-09T18:14:00+00:00"), or None when the listing does not give them.

    `updated` is a modification date only (sitemap lastmod, Atom updated, the API's
    modified_gmt), never a publication date standing in for one: the ledger skips a post
    whose `updated` is not newer than at its last fetch, and an edit never moves a
    publication date. `platform` is set when the fields come from the platform's own
    records (an API or the site's feed), which outrank what the page suggests.
    """

    url: str
    guid: str | None = None
    title: str | None = None
    published: str | None = None
    updated: str | None = None  # the listing's lastmod/updated: drives incremental skips
    author: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()  # a feed's <category> terms: categories and tags alike
    sitename: str | None = None
    protected: bool | None = None  # WordPress: the post is behind a password
    platform: str | None = None  # "wordpress", "blogger", "feed": where the fields come from
    listed_via: str | None = None  # the listing document that named it

    def as_meta(self) -> dict[str, Any]:
        """A plain dict for Request.meta (requests are pickled into a job dir)."""
        meta = asdict(self)
        for name in ("categories", "tags", "terms"):
            meta[name] = list(meta[name])
        return meta

    def merged(self, other: Entry) -> Entry:
        """This entry with what another listing of the same URL adds: the newest `updated`,
        and every other field where this one has none."""
        changes: dict[str, Any] = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "updated":
                if theirs and (not mine or theirs > mine):
                    changes["updated"] = theirs
            elif mine in (None, ()) and theirs not in (None, ()):
                changes[f.name] = theirs
        return replace(self, **changes) if changes else self


def unique(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Terms without blanks or repeats (case-insensitive), first spelling and order kept."""
    seen: set[str] = set()
    kept = []
    for value in values:
        term = " ".join(value.split())
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            kept.append(term)
    return tuple(kept)
