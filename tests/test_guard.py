"""The address guard's URL and address rules (the end-to-end refusals are in test_add)."""

from __future__ import annotations

import ipaddress

import pytest

from archive.core.addresses import AddressPolicy, check_ip, check_url
from tests.conftest import Archive


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://example.com/2022/01/post.html", None),
        ("http://93.184.216.34/", None),
        ("ftp://example.com/", "scheme ftp"),
        ("file:///etc/passwd", "scheme file"),
        ("javascript:alert(1)", "scheme javascript"),
        ("example.com/post", "no scheme"),
        ("http:///nohost", "no host"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://example.com:99999/", "invalid URL"),
        ("http://127.0.0.1/", "loopback"),
        ("http://127.1.2.3:8080/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://192.168.1.1/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://[fd00::1]/", "private"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://100.64.0.1/", "not a public address"),
        ("http://224.0.0.1/", "multicast"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://example.com/" + "a" * 3000, "longer than"),
        ("http://[fec0::1]/", "site-local"),
        # IPv6 addresses that carry an IPv4 one are judged by the IPv4 rules.
        ("http://[2002:a9fe:a9fe::]/", "embeds 169.254.169.254"),  # 6to4
        ("http://[2002:7f00:1::1]/", "loopback"),
        ("http://[2002:c0a8:101::]/", "private"),
        ("http://[2002:808:808::]/", None),  # 6to4 of 8.8.8.8
        ("http://[64:ff9b::a9fe:a9fe]/", "embeds 169.254.169.254"),  # NAT64
        ("http://[64:ff9b::a00:1]/", "private"),
        ("http://[64:ff9b::808:808]/", None),
        ("http://[64:ff9b:1::a00:1]/", "reserved"),  # local-use NAT64: not decoded
        # Teredo: server 65.54.227.120, client 192.168.1.1 (obfuscated: 3f57:fefe).
        ("http://[2001:0:4136:e378:8000:63bf:3f57:fefe]/", "embeds 192.168.1.1"),
        ("http://[2001:0:a9fe:a9fe:8000:63bf:f7f7:f7f7]/", "embeds 169.254.169.254"),
        ("http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/", None),  # client 8.8.8.8
    ],
)
def test_check_url(url, reason):
    result = check_url(url)
    if reason is None:
        assert result is None
    else:
        assert result is not None and reason in result


def test_policy_allows_only_listed_networks():
    policy = AddressPolicy("127.0.0.0/8, 10.1.0.0/16")
    assert check_url("http://127.0.0.1:8000/", policy) is None
    assert check_url("http://10.1.2.3/", policy) is None
    assert "private" in check_url("http://10.2.0.1/", policy)
    assert "link-local" in check_url("http://169.254.169.254/", policy)


@pytest.mark.parametrize("value", ["1", "true", "yes", True])
def test_policy_allow_all(value):
    assert check_url("http://169.254.169.254/", AddressPolicy(value)) is None


@pytest.mark.parametrize("value", ["", "0", "false", None])
def test_policy_default_refuses(value):
    assert check_url("http://127.0.0.1/", AddressPolicy(value))


def test_bad_policy_is_a_clear_error():
    with pytest.raises(ValueError, match="WIREARCHIVE_ALLOW_PRIVATE"):
        AddressPolicy("localhost")


def test_refusal_says_how_to_allow_it():
    assert "WIREARCHIVE_ALLOW_PRIVATE=1" in check_url("http://127.0.0.1/")
    assert "WIREARCHIVE_ALLOW_PRIVATE=1" in check_url(
        "http://10.2.0.1/", AddressPolicy("10.1.0.0/16")
    )


def test_public_address_passes():
    assert check_ip(ipaddress.ip_address("8.8.8.8")) is None


def test_an_over_long_url_is_refused_before_fetching(archive: Archive):
    url = "https://example.com/" + "a" * 100_000
    code, results = archive.add(url)
    assert code == 1
    assert results[url]["status"] == "refused"
    assert "longer than the limit of 2048" in results[url]["reason"]
