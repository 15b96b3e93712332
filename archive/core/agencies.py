"""The news agencies' own sites: a copy found on one is the origin of its story."""

from __future__ import annotations

from functools import lru_cache

# The agencies' own sites: a copy found there is the origin of its story's cluster.
AGENCY_DOMAINS: dict[str, tuple[str, ...]] = {
    "Reuters": ("reuters.com",),
    "Associated Press": ("apnews.com", "ap.org"),
    "AFP": ("afp.com",),
    "Sputnik": ("sputniknews.com", "sputnikglobe.com", "sputnik.by", "sputniknews.cn"),
    "TASS": ("tass.com", "tass.ru"),
    "Xinhua": ("xinhuanet.com", "news.cn"),
    "Bloomberg": ("bloomberg.com",),
    "UPI": ("upi.com",),
    "dpa": ("dpa.com", "dpa-international.com"),
    "ANI": ("aninews.in",),
    "PTI": ("ptinews.com",),
    "Anadolu Agency": ("aa.com.tr",),
    "EFE": ("efe.com",),
    "Kyodo": ("kyodonews.net",),
    "Yonhap": ("yna.co.kr",),
    "RT": ("rt.com",),
    "Interfax": ("interfax.com", "interfax.ru"),
    "Al Jazeera": ("aljazeera.com",),
}


@lru_cache(maxsize=4096)
def agency_of_host(host: str | None) -> str | None:
    """The wire service whose own site `host` is, if any."""
    host = (host or "").lower().rstrip(".")
    for agency, domains in AGENCY_DOMAINS.items():
        if any(host == d or host.endswith("." + d) for d in domains):
            return agency
    return None
