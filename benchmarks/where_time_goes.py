"""Where a crawl's CPU goes (the profile figures of docs/performance.md).

- first use: in fresh processes, what the extractor loads on first use (the language model,
  jusText's stoplist, dateparser's locales), and ms a page over the corpus pages cold, after
  `warm_up()`, and on a second pass;
- the extraction worker: `py-spy record` of a warmed process extracting the corpus pages,
  the share of `extract_page`'s samples in each stage;
- the crawl process: `py-spy record` of `wirearchive crawl` of benchmarks/throughput.py's
  site (the crawl process, not its workers), the share of its samples in each part.

    python -m benchmarks.where_time_goes [--posts 2000] [--workers 2] [--corpus DIR]

The profiles need py-spy on PATH (`pip install py-spy`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from itertools import pairwise
from pathlib import Path

from benchmarks.corpus import DEFAULT_CORPUS, corpus_pages
from benchmarks.throughput import crawl
from tests.support.platforms import PlatformSite, make_posts

ROOT = Path(__file__).resolve().parents[1]

URL = "http://bench.example/"
Stack = list[str]  # function names, outermost first

# Stages of extract_page; a sample counts in each stage its stack is in.
WORKER_STAGES: dict[str, Callable[[Stack], bool]] = {
    "trafilatura: main content": lambda s: "trafilatura_sequence" in s,
    "  of which its comparison with readability and jusText": lambda s: "compare_extraction" in s,
    "trafilatura: metadata": lambda s: "extract_metadata" in s,
    "parsing the HTML (load_html)": lambda s: "load_html" in s,
    "the MinHash signature": lambda s: _calls(s, "extract_page", "signature"),
    "htmldate's modified date": lambda s: _calls(s, "extract_article", "find_date"),
    "language identification": lambda s: _calls(s, "extract_article", "classify"),
    "wire attribution": lambda s: _calls(s, "extract_page", "detect"),
    "text hash": lambda s: _calls(s, "extract_page", "content_sha256"),
    "decoding": lambda s: _calls(s, "extract_page", "html_to_unicode"),
}

# Parts of the crawl process: a sample goes to the first part named by its innermost frame
# that names one.
CRAWL_PARTS = [
    ("compress (zlib_ng", "WARC gzip (zlib-ng)"),
    ("capture_records", "WARC record headers and warcio's SHA-1 digests"),
    ("SqliteLSH", "near-duplicate index (LSH lookup and insert)"),
    ("NearDuplicateIndex", "near-duplicate index (LSH lookup and insert)"),
    # Catalog methods live in the modules of archive/storage/catalog/ (mixins of Catalog).
    ("storage/catalog/", "catalog rows (article, capture, ledger, cluster summary, FTS)"),
    ("Uploader.commit", "group commits"),
    ("Spool.", "spool (article JSON files) and uploads"),
    ("spool.py", "spool (article JSON files) and uploads"),
    ("store.py", "spool (article JSON files) and uploads"),
    ("Uploader", "spool (article JSON files) and uploads"),
    ("pebble", "extraction hand-off (pebble's pipes and threads)"),
    ("ExtractPipeline", "extraction hand-off (pebble's pipes and threads)"),
    ("writeSomeData", "loopback TCP sends"),
    ("doRead", "loopback TCP reads"),
    ("payload_sha256", "payload SHA-256"),
    ("DedupPipeline", "dedup"),
]
REST = "Scrapy, Twisted, start-up and the rest"


def _calls(stack: Stack, caller: str, callee: str) -> bool:
    return any(
        a.rpartition(".")[2] == caller and b.rpartition(".")[2] == callee
        for a, b in pairwise(stack)
    )


def first_use_costs() -> dict[str, float]:
    """CPU seconds of what the extractor loads on first use (run in a fresh process)."""
    import py3langid
    from htmldate.extractors import get_external_parser
    from trafilatura.external import jt_stoplist_init

    loads: dict[str, Callable[[], object]] = {
        "the language model (py3langid)": lambda: py3langid.classify("an English sentence"),
        "jusText's stoplist of all languages": jt_stoplist_init,
        "dateparser's patterns of every locale": lambda: get_external_parser().get_date_data(
            "2021 warm-up 17"
        ),
    }
    costs = {}
    for name, load in loads.items():
        started = time.process_time()
        load()
        costs[name] = time.process_time() - started
    return costs


def pass_costs(pages: list[Path], warm: bool) -> tuple[float, float]:
    """ms a page of a first and a second pass over `pages` (run in a fresh process),
    after `warm_up()` if `warm`."""
    from pipelines.extraction import extract_page, warm_up

    if warm:
        warm_up()
    bodies = [page.read_bytes() for page in pages]
    passes = []
    for _ in range(2):
        started = time.process_time()
        for body in bodies:
            extract_page(body, "text/html; charset=utf-8", URL)
        passes.append((time.process_time() - started) / len(bodies) * 1000)
    return passes[0], passes[1]


def _fresh(function: Callable[..., object], *args: object) -> object:
    """`function(*args)` in a new process of its own."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def _samples(raw: Path) -> list[tuple[Stack, Stack, int]]:
    """py-spy's raw output: (function names, frames, samples) per stack, outermost first."""
    found = []
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        found.append(([re.sub(r" \(.*", "", f) for f in frames], frames, int(count)))
    return found


def profile_worker(corpus: Path, raw: Path) -> Counter[str]:
    """Shares of extract_page's samples by stage, in a warmed process (py-spy)."""
    code = (
        "import pathlib; from pipelines.extraction import extract_page, warm_up; warm_up(); "
        f"pages = sorted(pathlib.Path({str(corpus / 'pages')!r}).glob('*.html')); "
        "bodies = [p.read_bytes() for p in pages]; "
        f"[extract_page(b, 'text/html; charset=utf-8', {URL!r}) for _ in range(3) for b in bodies]"
    )
    _py_spy(raw, [sys.executable, "-c", code])
    shares: Counter[str] = Counter()
    total = 0
    for names, _, count in _samples(raw):
        if "extract_page" not in names or "warm_up" in names:
            continue
        total += count
        for stage, test in WORKER_STAGES.items():
            shares[stage] += count * test(names)
    return Counter({stage: n / total for stage, n in shares.items()})


def profile_crawl(posts: int, workers: int, corpus: Path, raw: Path) -> Counter[str]:
    """Shares of the crawl process's samples by part (py-spy, not its workers)."""
    site_posts = make_posts(posts, corpus_pages(corpus))
    with (
        tempfile.TemporaryDirectory(prefix="wa-profile-") as tmp,
        PlatformSite("news", site_posts) as site,
    ):
        crawl(site, Path(tmp), workers, {}, prefix=_py_spy_command(raw))
    shares: Counter[str] = Counter()
    total = 0
    for _, frames, count in _samples(raw):
        total += count
        part = next(
            (name for frame in reversed(frames) for key, name in CRAWL_PARTS if key in frame),
            REST,
        )
        shares[part] += count
    return Counter({part: n / total for part, n in shares.items()})


def _py_spy_command(raw: Path) -> tuple[str, ...]:
    # --nonblocking: sampled without pausing it, the process runs as it would alone.
    return ("py-spy", "record", "--nonblocking", "-r", "200", "-f", "raw", "-o", str(raw), "--")


def _py_spy(raw: Path, command: list[str]) -> None:
    done = subprocess.run(
        [*_py_spy_command(raw), *command], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        sys.exit(f"py-spy failed:\n{done.stderr[-2000:]}")


def _table(title: str, rows: list[tuple[str, str]], head: tuple[str, str]) -> None:
    print(f"\n## {title}\n\n| {head[0]} | {head[1]} |\n|---|--:|")
    for name, value in rows:
        print(f"| {name} | {value} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    pages = corpus_pages(args.corpus)
    print(f"# Where the time goes ({len(pages)} corpus pages; crawl of {args.posts} posts)")
    loads = _fresh(first_use_costs)
    cold, cold_again = _fresh(pass_costs, pages, False)
    warm, warm_again = _fresh(pass_costs, pages, True)
    _table(
        "What a cold extraction process pays",
        [(name, f"{seconds:.2f} s") for name, seconds in loads.items()]  # type: ignore[union-attr]
        + [
            ("corpus pages, cold process, first pass", f"{cold:.1f} ms a page"),
            ("corpus pages, cold process, second pass", f"{cold_again:.1f} ms a page"),
            ("corpus pages after warm_up(), first pass", f"{warm:.1f} ms a page"),
            ("corpus pages after warm_up(), second pass", f"{warm_again:.1f} ms a page"),
        ],
        ("first use", "CPU"),
    )
    if shutil.which("py-spy") is None:
        sys.exit("\nthe profiles need py-spy on PATH: pip install py-spy")
    with tempfile.TemporaryDirectory(prefix="wa-spy-") as tmp:
        worker = profile_worker(args.corpus, Path(tmp) / "worker.raw")
        _table(
            "The extraction worker (share of extract_page)",
            [(stage, f"{worker[stage]:.0%}") for stage in WORKER_STAGES],
            ("stage", "share"),
        )
        print(f"\ncrawling {args.posts} posts under py-spy...", file=sys.stderr)
        process = profile_crawl(args.posts, args.workers, args.corpus, Path(tmp) / "crawl.raw")
        _table(
            f"The crawl process ({args.posts} posts, {args.workers} workers; share of samples)",
            [(part, f"{share:.0%}") for part, share in process.most_common()],
            ("part", "share"),
        )


if __name__ == "__main__":
    main()
