"""Which URLs and addresses may be fetched: only public http(s) ones, judged without Scrapy.

Refuses other schemes, malformed and over-long URLs, credentials in URLs, and hosts that are
or resolve to loopback, private, link-local (cloud metadata), site-local, multicast or reserved
addresses (also when embedded in an IPv6 address: 6to4, NAT64, Teredo), unless allowed
by WIREARCHIVE_ALLOW_PRIVATE: "1" allows them all, a comma-separated list of networks
("127.0.0.0/8,10.1.0.0/16") allows only those. The crawl applies it on every request and
redirect and again at connect time (crawlers/middlewares/addressguard.py); the HTTP service
to every URL submitted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from archive.core.settings import FALSE_WORDS, TRUE_WORDS

ALLOWED_SCHEMES = frozenset({"http", "https"})
MAX_URL_LENGTH = 2048
ALLOW_HINT = "set WIREARCHIVE_ALLOW_PRIVATE=1, or to networks such as 10.0.0.0/8, to allow it"


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressPolicy:
    """Which non-public addresses may be fetched, from the WIREARCHIVE_ALLOW_PRIVATE value."""

    def __init__(self, allow: str | bool | None = None) -> None:
        value = str(allow or "").strip().lower()
        self.allow_all = value in TRUE_WORDS
        networks = [] if self.allow_all or value in FALSE_WORDS | {""} else value.split(",")
        try:
            self.networks = [ipaddress.ip_network(n.strip(), strict=False) for n in networks]
        except ValueError as exc:
            raise ValueError(f"WIREARCHIVE_ALLOW_PRIVATE: {exc}") from None

    @classmethod
    def from_settings(cls, settings: Any) -> AddressPolicy:
        return cls(settings.get("WIREARCHIVE_ALLOW_PRIVATE"))

    def check_ip(self, ip: IPAddress) -> str | None:
        """Why a connection to `ip` is refused under this policy; None when it is allowed."""
        if self.allow_all or any(ip in net for net in self.networks):
            return None
        reason = check_ip(ip)
        return f"{reason} ({ALLOW_HINT})" if reason else None


def check_length(url: str) -> str | None:
    """Why `url` is too long to fetch (Scrapy would drop it without a word); None if not."""
    if len(url) > MAX_URL_LENGTH:
        return f"URL of {len(url)} characters, longer than the limit of {MAX_URL_LENGTH}"
    return None


def check_url(url: str, policy: AddressPolicy | None = None) -> str | None:
    """Why `url` must not be fetched, judged without DNS; None when it may be."""
    if reason := check_length(url):
        return reason
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        return f"invalid URL: {exc}"
    scheme = parts.scheme.lower()
    if not scheme:
        return "invalid URL: no scheme (expected http:// or https://)"
    if scheme not in ALLOWED_SCHEMES:
        return f"scheme {scheme}: is not allowed (only http and https)"
    host = parts.hostname
    if not host:
        return "invalid URL: no host"
    if parts.username is not None or parts.password is not None:
        return "URLs with credentials are not allowed"
    if port == 0:
        return "invalid URL: port 0"
    if any(c.isspace() or c in "%\\" for c in host):
        return f"invalid URL: bad host {host!r}"
    policy = policy or AddressPolicy()
    ip = as_ip(host)
    if ip is not None:
        return policy.check_ip(ip)
    return None


def check_ip(ip: IPAddress) -> str | None:
    """Why a connection to `ip` is refused; None for a public address.

    An IPv6 address that carries an IPv4 one (mapped, 6to4, NAT64, Teredo) is judged by the
    IPv4 rules for the address it reaches."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded:
            for inner in embedded:
                reason = check_ip(inner)
                if reason:
                    return f"address {ip} embeds {inner}: {reason}"
            return None
    for kind in _KINDS:
        if getattr(ip, f"is_{kind}", False):
            return f"address {ip} is {kind.replace('_', '-')}"
    if not ip.is_global:
        return f"address {ip} is not a public address"
    return None


_KINDS = ("unspecified", "loopback", "link_local", "site_local", "multicast", "reserved", "private")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address reaches through: IPv4-mapped, 6to4 (2002::/16),
    NAT64 (64:ff9b::/96) and Teredo (2001::/32: its server and its client); none for others."""
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip in _NAT64:
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    if ip.teredo is not None:
        return ip.teredo
    return ()


def as_ip(host: str) -> IPAddress | None:
    """`host` as an IP address (brackets of an IPv6 literal allowed), or None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve_and_check(host: str, policy: AddressPolicy) -> str | None:
    """Resolve `host` and say why any of its addresses is refused; None when all are allowed."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    for *_, sockaddr in infos:
        reason = policy.check_ip(ipaddress.ip_address(sockaddr[0]))
        if reason:
            return f"host {host} resolves to a refused address: {reason}"
    return None
