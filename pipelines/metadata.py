"""An article's metadata from its strongest source: what the platform's own records say (the
WordPress API, Blogger's feed, the site's feed) outranks what the page suggests, and the page
outranks a sitemap; a value with a time outranks a bare date.

Pure logic on plain dicts: the listing entry (archive.core.entries.Entry.as_meta()) and the
article dict pipelines.extraction returns.
"""

from __future__ import annotations

from typing import Any

from archive.core.entries import unique


def _has_time(value: str | None) -> bool:
    return bool(value) and len(value or "") > 10


def merge_listing(article: dict[str, Any], entry: dict[str, Any] | None) -> dict[str, Any]:
    """`article` with the listing's metadata where that is the stronger source."""
    if not entry:
        return article
    merged = dict(article)
    platform = entry.get("platform")  # None: a sitemap or listing page, which knows little
    for field in ("title", "author"):
        if entry.get(field) and (platform or not merged.get(field)):
            merged[field] = entry[field]
    listed = entry.get("published")
    page = merged.get("published")
    if listed and (
        (platform and _has_time(listed)) or not page or (_has_time(listed) and not _has_time(page))
    ):
        merged["published"] = listed
    updated = entry.get("updated")
    if platform in ("wordpress", "blogger") and updated:
        merged["modified"] = updated  # the platform's own record, even when never edited
    if platform in ("wordpress", "blogger") and (entry.get("categories") or entry.get("tags")):
        merged["categories"] = list(unique(entry.get("categories") or ()))
        merged["tags"] = list(unique(entry.get("tags") or ()))
    else:
        categories = list(unique(merged.get("categories") or ()))
        known = {t.casefold() for t in categories}
        listed = [*(merged.get("tags") or ()), *(entry.get("terms") or ())]
        tags = [t for t in unique(listed) if t.casefold() not in known]
        merged["categories"], merged["tags"] = categories, tags
    if entry.get("sitename") and (
        platform in ("wordpress", "blogger") or not merged.get("sitename")
    ):
        merged["sitename"] = entry["sitename"]
    merged["protected"] = bool(entry.get("protected") or merged.get("protected"))
    return merged
