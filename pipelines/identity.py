"""Article identity: one canonical URL, one id, and one content hash per article."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from courlan import normalize_url

# Query parameters that select a rendering of the same post, by host suffix.
_VIEW_PARAMS = {".blogspot.com": {"m"}}
_WS = re.compile(r"\s+")


def normalize(url: str) -> str:
    """The canonical form of `url`: lowercased host, default port and fragment dropped,
    tracking parameters (utm_*, fbclid, ...) stripped with courlan, parameters sorted."""
    cleaned = normalize_url(url)
    parts = urlsplit(cleaned)
    host = parts.hostname or ""
    drop = next((params for suffix, params in _VIEW_PARAMS.items() if host.endswith(suffix)), set())
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in drop
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))


def canonical_url(final_url: str, claimed: str | None) -> str:
    """The article's canonical URL: the page's rel=canonical or og:url when it names the same
    site as the URL it was fetched from, else the fetched URL (after redirects).

    A canonical on another site (a repost pointing at its original) does not merge the repost
    into the original: it is the repost's own copy that this archive keeps.
    """
    if (
        claimed
        and _site(claimed) == _site(final_url)
        and urlsplit(claimed).scheme in ("http", "https")
    ):
        return normalize(claimed)
    return normalize(final_url)


def article_id(canonical: str) -> str:
    """A stable id for the article at `canonical`."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:20]


def content_sha256(text: str) -> str:
    """Hash of the text with Unicode, case and whitespace differences normalised away."""
    folded = _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")
