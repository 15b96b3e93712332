"""What Redis costs for the scale-out: memory of a seen-set and of the near-duplicate index,
and the time of one `assign` on Redis beside SQLite.

Starts a private redis-server (tests/support/redisserver.py) and measures `INFO memory` used_memory
before and after filling:

1. a scrapy-redis style seen-set: SADD of N SHA-1 request fingerprints (40 hex chars);
2. the `RedisLSH` near-duplicate index of N articles assigned through `NearDuplicateIndex`:
   random uint32 MinHash signatures through the real band layout, a share of them near copies
   (10% of the values changed) of an earlier one, so clusters and shared buckets occur; with
   the bytes per article of each key family (`MEMORY USAGE ... SAMPLES 0`) and, for scale,
   the growth of a SQLite catalog file holding the same index;
3. the median and 95th percentile ms of each `assign` of those articles on `SqliteLSH` (a file
   opened like the catalog) and `RedisLSH` (loopback), and whether both assigned alike.

    python -m benchmarks.redis_memory [--fingerprints 200000] [--articles 20000] [--copies 0.3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import redis
from sqlite_utils import Database

from pipelines.lshstore import DEFAULT_PREFIX
from pipelines.neardup import NUM_PERM, Assignment, NearDuplicateIndex
from tests.support.redisserver import redis_server

Article = tuple[str, np.ndarray, str]  # (id, signature, first_seen)


def used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def seen_set(client: redis.Redis, count: int, seed: int) -> tuple[int, str]:
    """used_memory growth for `count` fingerprints in one set, and the set's encoding."""
    rng = random.Random(seed)
    key = "bench:dupefilter"
    before = used_memory(client)
    for start in range(0, count, 1000):
        batch = [
            hashlib.sha1(rng.randbytes(16)).hexdigest() for _ in range(min(1000, count - start))
        ]
        client.sadd(key, *batch)
    return used_memory(client) - before, client.object("encoding", key).decode()


def articles(count: int, copies: float, seed: int) -> list[Article]:
    """Articles in first-seen order; a `copies` share are near copies of an earlier story."""
    rng = np.random.default_rng(seed)
    stories: list[np.ndarray] = []
    made = []
    for n in range(count):
        if stories and rng.random() < copies:
            signature = stories[rng.integers(len(stories))].copy()
            changed = rng.choice(NUM_PERM, NUM_PERM // 10, replace=False)
            signature[changed] = rng.integers(0, 2**32, len(changed), dtype=np.uint32)
        else:
            signature = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32)
            stories.append(signature)
        article_id = hashlib.sha1(f"article {seed} {n}".encode()).hexdigest()[:20]
        made.append((article_id, signature, f"2024-05-{1 + n * 30 // count:02d}T{n:08d}"))
    return made


def timed(index: NearDuplicateIndex, batch: list[Article]) -> tuple[list[float], list[Assignment]]:
    """Milliseconds of each assign, and what each returned."""
    ms, assigned = [], []
    for article_id, signature, first_seen in batch:
        started = time.perf_counter()
        assigned.append(index.assign(article_id, signature, first_seen))
        ms.append((time.perf_counter() - started) * 1000)
    return ms, assigned


def key_families(client: redis.Redis, prefix: str) -> dict[str, list[int]]:
    """Key family (the part after the prefix, up to ':') -> [keys, MEMORY USAGE bytes]."""
    families: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    keys = list(client.scan_iter(match=f"{prefix}*", count=10_000))
    for start in range(0, len(keys), 10_000):
        chunk = keys[start : start + 10_000]
        pipe = client.pipeline(transaction=False)
        for key in chunk:
            pipe.memory_usage(key, samples=0)
        for key, size in zip(chunk, pipe.execute(), strict=True):
            family = families[key[len(prefix) :].decode().split(":")[0]]
            family[0] += 1
            family[1] += size
    return families


def open_catalog(path: Path) -> Database:
    """A SQLite file opened the way archive.storage.catalog.Catalog opens the catalog."""
    db = Database(path)
    db.execute("PRAGMA busy_timeout = 30000")
    db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def file_bytes(db: Database, path: Path) -> int:
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def percentile(values: list[float], share: float) -> float:
    return sorted(values)[min(len(values) - 1, int(share * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fingerprints", type=int, default=200_000)
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--copies", type=float, default=0.3, help="share of near copies")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ.pop("WIREARCHIVE_TEST_REDIS", None)  # a private server: used_memory is ours
    batch = articles(args.articles, args.copies, args.seed)
    with tempfile.TemporaryDirectory(prefix="wa-redis-") as tmp, redis_server(Path(tmp)) as srv:
        client = srv.client()
        server = client.info("server")
        seen_bytes, encoding = seen_set(client, args.fingerprints, args.seed)
        client.flushall()

        red = NearDuplicateIndex.for_redis(client)
        before = used_memory(client)
        red_ms, red_assigned = timed(red, batch)
        index_bytes = used_memory(client) - before
        families = key_families(client, DEFAULT_PREFIX)

        path = Path(tmp) / "catalog.db"
        lite = NearDuplicateIndex(open_catalog(path))
        empty = file_bytes(lite.store.db, path)
        lite_ms, lite_assigned = timed(lite, batch)
        lite_bytes = file_bytes(lite.store.db, path) - empty

    n = args.articles
    alike = sum(a == b for a, b in zip(lite_assigned, red_assigned, strict=True))
    clusters = len({a.cluster_id for a in lite_assigned})
    print(
        f"# Redis {server['redis_version']} ({server['arch_bits']}-bit), "
        f"{os.cpu_count()} cpus; used_memory deltas"
    )
    print()
    print("| structure | entries | MB | bytes per entry |")
    print("|---|--:|--:|--:|")
    print(
        f"| seen-set, SADD of SHA-1 hex fingerprints ({encoding}) | {args.fingerprints:,} "
        f"| {seen_bytes / 1e6:.1f} | {seen_bytes / args.fingerprints:.0f} |"
    )
    print(
        f"| RedisLSH index ({red.bands} bands x {red.rows} rows, {NUM_PERM} perms; "
        f"{args.copies:.0%} near copies, {clusters:,} clusters) | {n:,} articles "
        f"| {index_bytes / 1e6:.1f} | {index_bytes / n:.0f} |"
    )
    print(
        f"| SQLite catalog file growth, same index | {n:,} articles "
        f"| {lite_bytes / 1e6:.1f} | {lite_bytes / n:.0f} |"
    )
    print()
    print("RedisLSH by key family (MEMORY USAGE, SAMPLES 0):")
    print()
    print("| family | keys | keys per article | bytes per article |")
    print("|---|--:|--:|--:|")
    for family, (keys, size) in sorted(families.items(), key=lambda f: -f[1][1]):
        print(f"| {family} | {keys:,} | {keys / n:.2f} | {size / n:.0f} |")
    print()
    print(f"`assign` of the same {n:,} articles (signatures given), ms:")
    print()
    print("| backend | median | p95 | median vs SQLite |")
    print("|---|--:|--:|--:|")
    lite_median = statistics.median(lite_ms)
    for name, ms in (("SqliteLSH (file, WAL)", lite_ms), ("RedisLSH (loopback)", red_ms)):
        median = statistics.median(ms)
        print(
            f"| {name} | {median:.3f} | {percentile(ms, 0.95):.3f} | {median / lite_median:.2f}x |"
        )
    print()
    print(f"identical assignments (cluster, similarity, merged): {alike:,} of {n:,}")


if __name__ == "__main__":
    main()
