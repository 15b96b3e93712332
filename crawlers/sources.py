"""The sources file (TOML): which sites the nightly crawl reads, and how.

```toml
[[sources]]
name = "wirewatch"
url = "https://wirewatch.blogspot.com/"
kind = "blogger"      # optional: auto when left out
```
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.core.addresses import AddressPolicy, check_url

KINDS = ("auto", "feed", "sitemap", "blogger", "wordpress", "site", "urls")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_FIELDS = {"name", "url", "kind", "urls", "max_pages", "depth", "pages"}


class SourcesError(ValueError):
    """The sources file is missing or wrong; the message says where and how."""


@dataclass(frozen=True)
class Source:
    """One configured source."""

    name: str
    url: str
    kind: str = "auto"
    urls: tuple[str, ...] = field(default_factory=tuple)  # kind "urls": the fixed list
    max_pages: int | None = None  # articles fetched per run at most
    depth: int | None = None  # kind "site": listing pages followed this deep at most
    pages: bool = False  # WordPress (kinds wordpress, auto, sitemap): archive its pages too


def load_sources(path: str | Path) -> list[Source]:
    """Read and validate a sources file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesError(
            f"{path}: no such sources file (give one with --sources FILE; "
            "sources.example.toml in the project documents every field)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{path}: not valid TOML: {exc}") from None
    entries = data.get("sources")
    if not isinstance(entries, list) or not entries:
        raise SourcesError(f"{path}: no [[sources]] tables")
    sources = [_source(entry, f"{path}: source #{i}") for i, entry in enumerate(entries, 1)]
    names = [s.name for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SourcesError(f"{path}: source names must be unique: {', '.join(duplicates)}")
    return sources


def _source(entry: Any, where: str) -> Source:
    if not isinstance(entry, dict):
        raise SourcesError(f"{where}: expected a table")
    unknown = set(entry) - _FIELDS
    if unknown:
        raise SourcesError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    name, url, kind = entry.get("name"), entry.get("url"), entry.get("kind", "auto")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SourcesError(f"{where}: 'name' must be 1-64 letters, digits, '.', '_' or '-'")
    where = f"{where} ({name})"
    if kind not in KINDS:
        raise SourcesError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    urls = entry.get("urls", [])
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise SourcesError(f"{where}: 'urls' must be a list of URLs")
    if kind == "urls" and not urls:
        raise SourcesError(f"{where}: kind 'urls' needs a 'urls' list")
    if not isinstance(url, str):
        if kind != "urls":
            raise SourcesError(f"{where}: 'url' is required")
        url = urls[0]
    for value in (url, *urls):
        reason = _syntax_problem(value)
        if reason:
            raise SourcesError(f"{where}: {value!r}: {reason}")
    limits = {}
    for key in ("max_pages", "depth"):
        value = entry.get(key)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise SourcesError(f"{where}: {key!r} must be a whole number >= 0")
        limits[key] = value
    pages = entry.get("pages", False)
    if not isinstance(pages, bool):
        raise SourcesError(f"{where}: 'pages' must be true or false")
    return Source(name=name, url=url, kind=kind, urls=tuple(urls), pages=pages, **limits)


def _syntax_problem(url: str) -> str | None:
    """Scheme and syntax only: whether the address may be fetched is the guard's call."""
    return check_url(url, AddressPolicy("1"))
