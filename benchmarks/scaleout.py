"""The figures docs/scaling.md plans with: a crawl on one Redis frontier, and its ingest.

Builds a loopback news site of N posts from ../shared/corpus (as benchmarks/throughput.py
does), starts a private redis-server, then in one run:

- one `wirearchive crawl` alone (its own scheduler, no Redis), and W worker processes on the
  Redis frontier (`crawl --redis`, one extraction worker each), each into a fresh store;
- for both: pages/s, CPU ms per page of the crawling processes (extraction workers apart),
  and for the workers the Redis server's CPU ms per page and its memory per page (the
  frontier's seen-set, the shared article hashes, the near-duplicate index);
- `wirearchive ingest` of the workers' store into a fresh catalog: articles/s of the single
  writer, and the catalog's bytes per article;
- what the store holds per page: objects (one S3 PUT each, more for multipart WARC files)
  and bytes.

    python -m benchmarks.scaleout [--posts 1000] [--workers 2] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.corpus import DEFAULT_CORPUS, corpus_pages
from tests.support.platforms import PlatformSite, make_posts
from tests.support.redisserver import redis_server

ROOT = Path(__file__).resolve().parents[1]

TICKS = os.sysconf("SC_CLK_TCK")
PART = 16 * 1024 * 1024  # archive/storage/store.py uploads files of this size and more in parts


@dataclass
class Run:
    """One crawl: wall seconds, and CPU seconds of the crawling processes (not workers)."""

    seconds: float
    cpu: float


def env_for(root: Path, store: Path, extra: dict[str, str]) -> dict[str, str]:
    return (
        os.environ
        | {
            "WIREARCHIVE_DB": str(root / "archive.db"),
            "WIREARCHIVE_STORE": str(store),
            "WIREARCHIVE_ALLOW_PRIVATE": "127.0.0.0/8",
            "WIREARCHIVE_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        | extra
    )


def crawl(roots: list[Path], store: Path, sources: Path, extra: dict[str, str]) -> Run:
    """Crawl with one process per root at once; wall time and the crawl processes' CPU."""
    started = time.perf_counter()
    procs = []
    for root in roots:
        root.mkdir(parents=True)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "archive", "crawl", "--sources", str(sources)],
                env=env_for(root, store, extra),
                cwd=root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    cpu = {proc.pid: 0 for proc in procs}
    while any(proc.poll() is None for proc in procs):
        for proc in procs:
            cpu[proc.pid] = max(cpu[proc.pid], _cpu_ticks(proc.pid))
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"crawl failed:\n{out}\n{err[-3000:]}")
    return Run(seconds, sum(cpu.values()) / TICKS)


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def articles(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("select count(*) from articles").fetchone()[0]


def store_figures(store: Path) -> tuple[int, int, int]:
    """(objects, PUT requests, bytes) in a store folder."""
    sizes = [p.stat().st_size for p in store.rglob("*") if p.is_file()]
    puts = sum(1 if size < PART else -(-size // PART) + 2 for size in sizes)
    return len(sizes), puts, sum(sizes)


def redis_memory(client) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Bytes Redis uses per kind of key: frontier, shared articles, near-duplicate index."""
    kinds = {"frontier": 0, "articles": 0, "near-duplicate index": 0}
    for key in client.scan_iter(count=1000):
        name = key.decode()
        kind = (
            "articles"
            if name.startswith("wirearchive:articles:")
            else "near-duplicate index"
            if name.startswith("wirearchive:lsh:")
            else "frontier"
        )
        kinds[kind] += client.memory_usage(key) or 0
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    pages = corpus_pages(args.corpus)
    posts = make_posts(args.posts, pages)
    with (
        tempfile.TemporaryDirectory(prefix="wa-scaleout-") as tmp,
        PlatformSite("news", posts) as site,
        redis_server(Path(tmp) / "redis") as server,
    ):
        base = Path(tmp)
        sources = base / "sources.toml"
        sources.write_text(f'[[sources]]\nname = "bench"\nurl = "{site.origin}/"\n')
        print("crawling alone...", file=sys.stderr)
        alone = crawl([base / "alone"], base / "alone-store", sources, {})
        alone_archived = articles(base / "alone" / "archive.db")
        print(f"crawling with {args.workers} workers on Redis...", file=sys.stderr)
        client = server.client()
        redis_pid = int(client.info("server")["process_id"])
        redis_before = _cpu_ticks(redis_pid)
        workers = [base / f"worker{n}" for n in range(args.workers)]
        shared = crawl(
            workers,
            base / "store",
            sources,
            {"WIREARCHIVE_REDIS": server.url(), "WIREARCHIVE_EXTRACT_WORKERS": "1"},
        )
        redis_cpu = (_cpu_ticks(redis_pid) - redis_before) / TICKS
        memory = redis_memory(client)
        archived = sum(articles(w / "archive.db") for w in workers)
        print("ingesting...", file=sys.stderr)
        catalog = base / "catalog"
        catalog.mkdir()
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "archive", "ingest"],
            env=env_for(catalog, base / "store", {}),
            cwd=catalog,
            capture_output=True,
            text=True,
        )
        ingest_seconds = time.perf_counter() - started
        if proc.returncode != 0:
            sys.exit(f"ingest failed:\n{proc.stderr[-3000:]}")
        ingested = articles(catalog / "archive.db")
        catalog_bytes = sum(p.stat().st_size for p in catalog.glob("archive.db*"))
        objects, puts, size = store_figures(base / "store")

    per = 1000 / args.posts
    print(f"# Scale-out: {args.posts} posts, {args.workers} workers on one Redis frontier")
    print(f"cpus: {os.cpu_count()}")
    print()
    print("| measure | alone | workers on Redis |")
    print("|---|--:|--:|")
    print(f"| articles archived | {alone_archived} | {archived} |")
    print(f"| pages/s | {args.posts / alone.seconds:.1f} | {args.posts / shared.seconds:.1f} |")
    print(f"| CPU ms/page, crawling processes | {alone.cpu * per:.1f} | {shared.cpu * per:.1f} |")
    print(f"| CPU ms/page, redis-server | - | {redis_cpu * per:.2f} |")
    for kind, used in memory.items():
        print(f"| Redis bytes/page, {kind} | - | {used / args.posts:.0f} |")
    print(f"| ingest, articles/s (one writer) | - | {ingested / ingest_seconds:.1f} |")
    print(f"| catalog bytes/article (SQLite with FTS) | - | {catalog_bytes / ingested:.0f} |")
    print(f"| store objects/page | - | {objects / args.posts:.2f} |")
    print(f"| store PUT requests/page | - | {puts / args.posts:.2f} |")
    print(f"| store bytes/page | - | {size / args.posts:.0f} |")


if __name__ == "__main__":
    main()
