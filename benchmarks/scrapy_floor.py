"""The CPU a bare Scrapy crawl spends per page, against what extraction costs.

Fetches every post of a loopback news site (the same site benchmarks/throughput.py builds)
with a minimal Scrapy spider: the project's settings for politeness and concurrency, no
middlewares of ours, no pipelines, each response dropped. Its CPU per page is a floor no crawl
that downloads with Scrapy can go under; beside it, the CPU per page of the project's extraction
(extract_page) on the same pages. On a machine where the extraction workers have every core,
end to end can reach at most extraction / (extraction + floor) of the extraction limit.

    python -m benchmarks.scrapy_floor [--posts 2000] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.corpus import DEFAULT_CORPUS, corpus_pages
from pipelines.extraction import extract_page
from tests.support.platforms import PlatformSite, make_posts

SPIDER = """
import sys
from scrapy.crawler import CrawlerProcess
from scrapy.spiders import SitemapSpider

class Bare(SitemapSpider):
    name = "bare"
    sitemap_urls = [sys.argv[1]]

    def parse(self, response):
        self.crawler.stats.inc_value("bare/pages")

process = CrawlerProcess({
    "LOG_LEVEL": "WARNING", "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
    "AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_START_DELAY": 0.5,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0, "TELNETCONSOLE_ENABLED": False,
    "EXTENSIONS": {"scrapy.extensions.remote_control.RemoteControl": None},
})
process.crawl(Bare)
process.start()
"""


def bare_crawl(site: PlatformSite) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of the bare Scrapy crawl of the site, in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", SPIDER, f"{site.origin}/sitemap_index.xml"], check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def startup_cpu() -> float:
    """CPU seconds of starting and stopping the same process with nothing to crawl."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-c", SPIDER, "http://127.0.0.1:9/none.xml"],
        check=False,
        capture_output=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    pages = corpus_pages(args.corpus)
    posts = make_posts(args.posts, pages)
    sample = [p.body_html for p in posts[:300]]
    started = time.process_time()
    for body in sample:
        extract_page(body, "text/html; charset=utf-8", "http://bench.example/", None)
    extract_ms = (time.process_time() - started) * 1000 / len(sample)
    with PlatformSite("news", posts) as site:
        cpu, wall = bare_crawl(site)
        fetched = len(site.article_fetches())
    if fetched < args.posts:
        sys.exit(f"the bare crawl fetched {fetched} of {args.posts} posts")
    base = startup_cpu()
    floor_ms = (cpu - base) * 1000 / args.posts
    print(f"# Scrapy's floor: {args.posts} posts")
    print()
    print("| measure | value |")
    print("|---|--:|")
    print(f"| bare Scrapy crawl, CPU ms/page (start-up excluded) | {floor_ms:.1f} |")
    print(f"| bare Scrapy crawl, pages/s on one core | {args.posts / wall:.0f} |")
    print(f"| extraction (extract_page), CPU ms/page | {extract_ms:.1f} |")
    print(
        f"| best end-to-end / extraction limit, all cores extracting | "
        f"{extract_ms / (extract_ms + floor_ms):.2f} |"
    )


if __name__ == "__main__":
    main()
