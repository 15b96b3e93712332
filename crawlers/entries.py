"""What a listing (feed, sitemap, platform API) says about one post before it is fetched."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One post as a feed, sitemap or API lists it. Dates are ISO 8601 strings in UTC
    ("2022-01-09T18:14:00+00:00"), or None when the listing does not give them."""

    url: str
    guid: str | None = None
    title: str | None = None
    published: str | None = None
    updated: str | None = None  # the listing's lastmod/updated: drives incremental skips
    author: str | None = None

    def as_meta(self) -> dict[str, Any]:
        """A plain dict for Request.meta (requests are pickled into a job dir)."""
        return asdict(self)
