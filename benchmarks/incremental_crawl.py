"""Incremental crawling: an unchanged rerun against the first crawl of the same site.

Builds loopback sites of N posts (default 500) from the pages of ../shared/corpus (the test
platforms in tests/support/platforms.py: a Blogger blog, whose listings carry dates, and a site of
archive pages only, where reruns rely on conditional GETs), runs `wirearchive crawl` end to
end twice on each into a fresh archive, and prints wall time, requests served and article
pages fetched with 200 for both runs, and their ratios.

    python -m benchmarks.incremental_crawl [--posts 500] [--kinds blogger,site] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.corpus import DEFAULT_CORPUS, corpus_pages
from tests.support.platforms import PlatformSite, make_posts

ROOT = Path(__file__).resolve().parents[1]


def run_crawl(site: PlatformSite, workdir: Path, kind: str) -> tuple[float, int, int]:
    """One `wirearchive crawl`: (seconds, requests the site served, article 200s)."""
    sources = workdir / "sources.toml"
    sources.write_text(f'[[sources]]\nname = "bench"\nurl = "{site.origin}/"\nkind = "{kind}"\n')
    env = os.environ | {
        "WIREARCHIVE_DB": str(workdir / "archive.db"),
        "WIREARCHIVE_STORE": str(workdir / "objects"),
        "WIREARCHIVE_ALLOW_PRIVATE": "127.0.0.0/8",
        "WIREARCHIVE_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    requests_before, fetches_before = len(site.requests), len(site.article_fetches())
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "archive", "crawl", "--sources", str(sources)],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"crawl failed:\n{proc.stdout}\n{proc.stderr[-3000:]}")
    return (
        seconds,
        len(site.requests) - requests_before,
        len(site.article_fetches()) - fetches_before,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--kinds", default="blogger,site")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    pages = corpus_pages(args.corpus)
    print(f"building {args.posts} posts from {len(pages)} corpus pages...", flush=True)
    posts = make_posts(args.posts, pages)
    print()
    print("| site | run | wall s | requests | article 200s |")
    print("|---|---|--:|--:|--:|")
    for kind in args.kinds.split(","):
        with tempfile.TemporaryDirectory() as tmp, PlatformSite(kind, posts) as site:
            first = run_crawl(site, Path(tmp), kind)
            again = run_crawl(site, Path(tmp), kind)
        print(f"| {kind} | first crawl | {first[0]:.1f} | {first[1]} | {first[2]} |")
        print(f"| {kind} | unchanged rerun | {again[0]:.1f} | {again[1]} | {again[2]} |")
        print(
            f"| {kind} | rerun / first | {again[0] / first[0]:.2f} | "
            f"{again[1] / first[1]:.3f} | {again[2] / max(first[2], 1):.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
