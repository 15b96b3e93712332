"""Crawl-trap bounds and Retry-After parsing, on their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from scrapy import Request

from crawlers.middlewares.refusals import CrawlTrap
from crawlers.middlewares.retryafter import retry_after_seconds
from crawlers.middlewares.traps import TrapGuardMiddleware, trap_reason


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://blog.example/2022/01/moscow-talks.html", None),
        ("https://blog.example/?page=3", None),
        ("https://blog.example/calendar/2026/12/", None),
        ("https://blog.example/calendar/2100/01/", "date 2100"),
        ("https://blog.example/calendar/1890/01/", "date 1890"),
        ("https://blog.example/events?month=2399-05", "date 2399"),
        ("https://blog.example/a/b/a/b/a/b/", "repeats"),
        ("https://blog.example/tag/x/tag/x/tag/x", "repeats"),
        ("https://blog.example/2024/02/party-like-its-1923.html", None),  # a slug, not a date
        ("https://blog.example/archive?date=1923-01-01", "date 1923"),
    ],
)
def test_trap_shapes(url, reason):
    found = trap_reason(url, latest_year=2027)
    assert found is None if reason is None else reason in found


def test_posts_may_live_under_old_years():
    assert trap_reason("https://archive.example/1923/05/story.html", 2027, listing=False) is None
    assert "date 1923" in trap_reason("https://archive.example/1923/05/", 2027, listing=True)


def test_host_budget_is_enforced_per_host():
    guard = TrapGuardMiddleware(host_budget=2)
    for _ in range(2):
        guard.process_request(Request("https://a.example/post.html"))
    with pytest.raises(CrawlTrap, match="page budget of 2"):
        guard.process_request(Request("https://a.example/another.html"))
    guard.process_request(Request("https://b.example/post.html"))  # another host: own budget
    robots = Request("https://a.example/robots.txt", meta={"dont_obey_robotstxt": True})
    guard.process_request(robots)  # robots.txt is never counted


def test_retry_after_values():
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    assert 85 <= retry_after_seconds(later) <= 90
    earlier = format_datetime(datetime.now(UTC) - timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(earlier) == 0
