"""End-to-end crawl throughput against the extraction limit, and the crawl's memory.

Builds a loopback news site (sitemap index) of N posts from the pages of ../shared/corpus
(each post made unique by tests.support.platforms.make_posts), then in one run:

- the extraction limit: the project's extract_page over the same page bodies in one worker
  process per extraction worker, forked warm as the crawl's are, fed from memory (no network,
  no storage);
- `wirearchive crawl` of the site end to end into a fresh catalog and object store (a local
  folder, or SeaweedFS with --s3), timed from start to exit;

and prints pages/s of both, their ratio, and the crawl's peak RSS (its main process, and the
whole process tree with the extraction workers).

    python -m benchmarks.throughput [--posts 2000] [--workers 2] [--s3] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.corpus import DEFAULT_CORPUS, corpus_pages
from pipelines.extract import start_workers, worker_context
from pipelines.extraction import extract_page
from tests.support.platforms import PlatformSite, make_posts

ROOT = Path(__file__).resolve().parents[1]

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class CrawlRun:
    """One end-to-end crawl."""

    seconds: float
    archived: int
    main_peak_mb: float
    tree_peak_mb: float
    tree_pss_mb: float
    cpu_seconds: float  # the crawl process and its extraction workers
    main_cpu_seconds: float  # the crawl process alone (reactor, pipelines, threads)


def extraction_limit(bodies: list[bytes], workers: int) -> tuple[float, float]:
    """Extraction alone, `workers` processes, pages fed from memory: (pages/s, CPU seconds
    the workers spent extracting)."""
    start_workers(warm=True)  # the crawl's own workers: forked warm
    with ProcessPoolExecutor(workers, mp_context=worker_context()) as pool:
        list(pool.map(_extract, bodies[:workers] * 2))  # every worker started first
        started = time.perf_counter()
        cpu = sum(pool.map(_extract, bodies, chunksize=4))
        return len(bodies) / (time.perf_counter() - started), cpu


def _extract(body: bytes) -> float:
    started = time.process_time()
    extract_page(body, "text/html; charset=utf-8", "http://bench.example/", None)
    return time.process_time() - started


def crawl(
    site: PlatformSite,
    workdir: Path,
    workers: int,
    env_extra: dict[str, str],
    prefix: tuple[str, ...] = (),
) -> CrawlRun:
    """`wirearchive crawl` of the whole site in a fresh archive, with its peak memory;
    `prefix`: a command that runs the crawl (a profiler)."""
    sources = workdir / "sources.toml"
    sources.write_text(f'[[sources]]\nname = "bench"\nurl = "{site.origin}/"\nkind = "sitemap"\n')
    env = (
        os.environ
        | {
            "WIREARCHIVE_DB": str(workdir / "archive.db"),
            "WIREARCHIVE_STORE": str(workdir / "objects"),
            "WIREARCHIVE_ALLOW_PRIVATE": "127.0.0.0/8",
            "WIREARCHIVE_EXTRACT_WORKERS": str(workers),
            "WIREARCHIVE_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        | env_extra
    )
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", "archive", "crawl", "--sources", str(sources)],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with _memory_watch(proc.pid) as peaks:
        out, err = proc.communicate()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"crawl failed:\n{out}\n{err[-3000:]}")
    import sqlite3

    with sqlite3.connect(workdir / "archive.db") as conn:
        archived = conn.execute("select count(*) from articles").fetchone()[0]
    return CrawlRun(
        seconds,
        archived,
        peaks.main_rss / 1024,
        peaks.tree_rss / 1024,
        peaks.tree_pss / 1024,
        sum(peaks.ticks.values()) / TICKS,
        peaks.ticks.get(proc.pid, 0) / TICKS,
    )


@dataclass
class Peaks:
    """What the watcher saw of a process tree."""

    main_rss: int = 0  # KiB, the process's own high-water mark
    tree_rss: int = 0  # KiB, the largest sampled sum over the tree
    tree_pss: int = 0  # KiB, the same with shared pages split between their processes
    ticks: dict[int, int] = field(default_factory=dict)  # CPU clock ticks, last seen, by pid


@contextlib.contextmanager
def _memory_watch(pid: int) -> Iterator[Peaks]:
    """Sample the process tree every 0.2 s: peak RSS and CPU time of each process."""
    peaks = Peaks()
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            tree = [pid, *_descendants(pid)]
            peaks.main_rss = max(peaks.main_rss, _status_kib(pid, "VmHWM"))
            peaks.tree_rss = max(peaks.tree_rss, sum(_status_kib(p, "VmRSS") for p in tree))
            peaks.tree_pss = max(peaks.tree_pss, sum(_pss_kib(p) for p in tree))
            for member in tree:
                peaks.ticks[member] = max(peaks.ticks.get(member, 0), _cpu_ticks(member))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        done.set()
        thread.join()


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found += [int(child), *_descendants(int(child))]
    return found


def _cpu_ticks(pid: int) -> int:
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    return 0


def _pss_kib(pid: int) -> int:
    with contextlib.suppress(OSError, IndexError, ValueError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def _status_kib(pid: int, field: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


@contextlib.contextmanager
def _store(use_s3: bool, tmp: Path) -> Iterator[dict[str, str]]:
    """Environment for the crawl's store: a local folder, or a bucket on SeaweedFS."""
    if not use_s3:
        yield {}
        return
    from tests.support.s3server import ACCESS_KEY, REGION, SECRET_KEY, s3_client, seaweedfs

    with seaweedfs(tmp / "weed") as server:
        s3_client(server.endpoint).create_bucket(Bucket="bench")
        yield {
            "WIREARCHIVE_STORE": "s3://bench/archive",
            "AWS_ENDPOINT_URL": server.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--s3", action="store_true", help="archive to SeaweedFS, not a folder")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    pages = corpus_pages(args.corpus)
    print(f"building {args.posts} posts from {len(pages)} corpus pages...", file=sys.stderr)
    posts = make_posts(args.posts, pages)
    bodies = [post.body_html for post in posts]
    megabytes = sum(map(len, bodies)) / 1e6
    print("measuring the extraction limit...", file=sys.stderr)
    limit, extract_cpu = extraction_limit(bodies, args.workers)
    print("crawling...", file=sys.stderr)
    with (
        tempfile.TemporaryDirectory(prefix="wa-throughput-") as tmp,
        PlatformSite("news", posts) as site,
        _store(args.s3, Path(tmp)) as store_env,
    ):
        own_cpu = time.process_time()  # this process: the site server and the sampler
        run = crawl(site, Path(tmp), args.workers, store_env)
        own_cpu = time.process_time() - own_cpu
    rate = run.archived / run.seconds
    print(f"# Throughput: {args.posts} posts ({megabytes:.0f} MB of HTML), {args.workers} workers")
    print(f"cpus: {os.cpu_count()}; store: {'SeaweedFS (S3)' if args.s3 else 'local folder'}")
    print()
    print("| measure | value |")
    print("|---|--:|")
    print(f"| extraction limit (pages/s) | {limit:.1f} |")
    print(f"| end-to-end crawl (pages/s) | {rate:.1f} |")
    print(f"| ratio end-to-end / limit | {rate / limit:.2f} |")
    print(f"| crawl wall time (s) | {run.seconds:.1f} |")
    print(f"| articles archived | {run.archived} |")
    print(f"| peak RSS, crawl process (MB) | {run.main_peak_mb:.0f} |")
    print(f"| peak RSS, crawl + workers (MB) | {run.tree_peak_mb:.0f} |")
    print(f"| peak PSS, crawl + workers (MB) | {run.tree_pss_mb:.0f} |")
    per_page = 1000 / args.posts
    print(f"| CPU ms/page, extraction alone | {extract_cpu * per_page:.1f} |")
    print(f"| CPU ms/page, crawl in all | {run.cpu_seconds * per_page:.1f} |")
    print(f"| CPU ms/page, crawl process (not workers) | {run.main_cpu_seconds * per_page:.1f} |")
    print(f"| CPU ms/page, the benchmark's site server and sampler | {own_cpu * per_page:.1f} |")
    busy = (run.cpu_seconds + own_cpu) / ((os.cpu_count() or 1) * run.seconds)
    print(f"| cores busy during the crawl | {busy:.0%} |")


if __name__ == "__main__":
    main()
