"""The near-duplicate index on SQLite and on a real Redis server: the same assignments, step by
step; merges, re-assignment and concurrent workers on Redis; clear errors."""

from __future__ import annotations

import multiprocessing
import random
import socket

import numpy as np
import pytest
import redis
from sqlite_utils import Database

from pipelines.lshstore import RedisLSH, SqliteLSH
from pipelines.neardup import MAX_CANDIDATES, NUM_PERM, NearDuplicateIndex
from tests.support.texts import repost, story


@pytest.fixture(params=["sqlite", "redis"])
def index(request: pytest.FixtureRequest, tmp_path) -> NearDuplicateIndex:
    """An empty index with the default settings, in a SQLite file or in Redis."""
    if request.param == "sqlite":
        return NearDuplicateIndex(Database(tmp_path / "lsh.db"))
    return NearDuplicateIndex.for_redis(request.getfixturevalue("redis_url"))


def texts() -> dict[str, str]:
    """Six stories with three reposts each, and a bridge `b` between stories `a` and `c`."""
    corpus = {}
    for s in range(6):
        corpus[f"s{s}"] = story(s)
        for r in range(3):
            corpus[f"s{s}r{r}"] = repost(corpus[f"s{s}"], 100 * s + r)
    base = story(7, 450).split()
    corpus["a"] = " ".join(base[:300])  # a and c share 150 of 300 words: below the threshold
    corpus["c"] = " ".join(base[150:450])
    corpus["b"] = " ".join(base[75:375])  # b shares 225 words with each: above it
    return corpus


def crowded(seed: int, rows: int) -> dict[str, np.ndarray]:
    """Signatures that make the MAX_CANDIDATES cut matter: twenty pairs (`p3`, `p3copy`: 0.9
    similar) and 150 loners, all with the same band 0 and otherwise unrelated. Once that
    bucket holds MAX_CANDIDATES articles, whether a copy finds its pair depends on which
    candidates are looked at."""
    rng = np.random.default_rng(seed)
    band0 = rng.integers(0, 2**32, rows, dtype=np.uint32)
    signatures = {}
    for name in [f"loner{i}" for i in range(150)] + [f"p{i}" for i in range(20)]:
        signatures[name] = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32)
        signatures[name][:rows] = band0
    for i in range(20):
        copy = signatures[f"p{i}"].copy()
        copy[rng.choice(np.arange(rows, NUM_PERM), 12, replace=False)] += 1
        signatures[f"p{i}copy"] = copy
    return signatures


def partition(index: NearDuplicateIndex, ids: list[str]) -> set[frozenset[str]]:
    clusters: dict[str, set[str]] = {}
    for article_id in ids:
        cluster = index.store.cluster_of(article_id)
        assert cluster is not None, article_id
        clusters.setdefault(cluster, set()).add(article_id)
    for cluster, members in clusters.items():  # the member lists agree with the labels
        assert set(index.members(cluster)) == members
    return {frozenset(c) for c in clusters.values()}


def test_the_corpus_in_order_is_assigned_the_same_way_step_by_step(redis_url):
    corpus = texts()
    lite = NearDuplicateIndex(Database(memory=True))
    red = NearDuplicateIndex.for_redis(redis_url)
    assigned = {}
    for n, (article_id, text) in enumerate(corpus.items()):
        assigned[article_id] = lite.assign(article_id, text, f"{n:04d}")
        assert red.assign(article_id, text, f"{n:04d}") == assigned[article_id], article_id
    assert assigned["b"].merged == ("c",) and assigned["s0r2"].cluster_id == "s0"
    assert partition(red, list(corpus)) == partition(lite, list(corpus))
    for head in {lite.store.cluster_of(a) for a in corpus}:
        assert red.members(head) == lite.members(head)


@pytest.mark.parametrize("seed", range(5))
def test_any_order_is_assigned_the_same_way_by_both(redis_url, seed):
    lite = NearDuplicateIndex(Database(memory=True))
    red = NearDuplicateIndex.for_redis(redis_url, prefix=f"seed{seed}:")
    signatures = {a: lite.signature(t) for a, t in texts().items()} | crowded(seed, lite.rows)
    rng = random.Random(seed)
    ids = list(signatures)
    rng.shuffle(ids)
    first_seen = {a: f"2024-01-{rng.randint(1, 28):02d}" for a in ids}  # ties included
    for article_id in ids:
        expected = lite.assign(article_id, signatures[article_id], first_seen[article_id])
        assert red.assign(article_id, signatures[article_id], first_seen[article_id]) == expected
    assert partition(red, ids) == partition(lite, ids)
    for head in {lite.store.cluster_of(a) for a in ids}:
        assert red.members(head) == lite.members(head)


def test_candidates_are_the_first_inserted_in_insertion_order(index):
    store = index.store
    rng = np.random.default_rng(1)
    order = [f"x{n:03d}" for n in rng.permutation(100)]  # ids unrelated to insertion order
    signatures = {a: rng.integers(0, 2**32, 8, dtype=np.uint32) for a in ["lone", *order]}
    with store.atomic():
        store.insert("lone", "lone", "9", signatures["lone"], [(1, 7)])
        for n, article_id in enumerate(order):
            bands = [(0, -42), (2, n)]
            store.insert(article_id, "lone", f"{99 - n:02d}", signatures[article_id], bands)
    found = store.candidates([(0, -42), (1, 7), (2, 99), (3, 0)], MAX_CANDIDATES)
    assert [c.article_id for c in found] == ["lone", *order[: MAX_CANDIDATES - 1]]
    assert {(c.cluster_id, c.cluster_first_seen) for c in found} == {("lone", "9")}
    assert all((c.signature == signatures[c.article_id]).all() for c in found)
    assert store.candidates([(2, 99)], MAX_CANDIDATES)[0].article_id == order[99]
    assert store.candidates([(5, 5)], MAX_CANDIDATES) == []
    assert store.members("lone")[:2] == [order[99], order[98]]  # first seen first


def test_the_sqlite_lookup_reads_the_band_index_only():
    db = Database(memory=True)
    store = SqliteLSH(db)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    store.candidates([(0, 1), (1, 2)], MAX_CANDIDATES)
    db.conn.set_trace_callback(None)
    query = next(s for s in statements if "lsh_bands" in s)
    plan = [row[3] for row in db.conn.execute(f"explain query plan {query}")]
    assert plan.count("SEARCH lsh_bands USING INDEX idx_lsh_bands_band_hash (band=? AND hash=?)")
    assert not [step for step in plan if step.startswith("SCAN lsh_bands")], plan


def test_a_bridge_relabels_every_member_of_the_merged_clusters_in_redis(redis_url):
    rng = np.random.default_rng(7)
    a = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32)
    c = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32)
    c[:48] = a[:48]  # a ~ c: 0.375
    b = a.copy()
    b[96:] = c[96:]  # b ~ a: 0.75, b ~ c: 0.625

    def near(signature: np.ndarray, seed: int) -> np.ndarray:
        copy = signature.copy()
        copy[np.random.default_rng(seed).choice(NUM_PERM, 4, replace=False)] += 1
        return copy

    index = NearDuplicateIndex.for_redis(redis_url)
    copies = {"a": a, "a1": near(a, 1), "c": c, "c1": near(c, 2), "c2": near(c, 3)}
    for n, (article_id, signature) in enumerate(copies.items()):
        index.assign(article_id, signature, f"{n}")
    assert index.store.cluster_of("c2") == "c"
    joined = index.assign("b", b, "9")
    assert (joined.cluster_id, joined.merged, joined.similarity) == ("a", ("c",), 0.75)
    client = redis.Redis.from_url(redis_url)
    labels = client.hgetall("wirearchive:lsh:cluster")
    assert labels == {k.encode(): b"a" for k in [*copies, "b"]}
    assert not client.exists("wirearchive:lsh:members:c")
    assert index.members("a") == ["a", "a1", "c", "c1", "c2", "b"]
    assert index.assign("c1", "").cluster_id == "a"


def test_an_article_assigned_again_keeps_its_cluster(index):
    corpus = texts()
    first = index.assign("s0", corpus["s0"], "1")
    joined = index.assign("s0r0", corpus["s0r0"], "2")
    again = index.assign("s0r0", corpus["s1"], "3")  # re-extracted, even as another text
    assert first.cluster_id == joined.cluster_id == "s0"
    assert (again.cluster_id, again.similarity, again.merged) == ("s0", joined.similarity, ())
    index.assign("s1", corpus["s1"], "4")
    assert index.members("s0") == ["s0", "s0r0"] and index.members("s1") == ["s1"]


def _assign_all(url: str, jobs: list[tuple[str, bytes, str]], step) -> None:
    """A worker: assigns its jobs into Redis, each when every worker is ready for its own."""
    index = NearDuplicateIndex.for_redis(url)
    for article_id, blob, first_seen in jobs:
        step.wait(30)  # broken, so raising, if another worker failed
        index.assign(article_id, np.frombuffer(blob, dtype=np.uint32), first_seen)


def test_three_processes_at_once_give_the_sequential_partition(redis_url):
    corpus = {}
    for s in range(20):
        corpus[f"s{s}"] = story(1000 + s)
        for r in range(2):
            corpus[f"s{s}r{r}"] = repost(corpus[f"s{s}"], 5000 + 10 * s + r)
    bridge = {a: t for a, t in texts().items() if a in ("a", "b", "c")}
    sequential = NearDuplicateIndex(Database(memory=True))
    signatures = {a: sequential.signature(t) for a, t in (corpus | bridge).items()}
    # Worker k takes copy k of every story, in step: the copies of each story race.
    workers: list[list[tuple[str, bytes, str]]] = [[], [], []]
    for s in range(20):
        for k, article_id in enumerate((f"s{s}", f"s{s}r0", f"s{s}r1")):
            workers[k].append((article_id, signatures[article_id].tobytes(), f"{s:03d}"))
    for k, article_id in enumerate(("a", "c", "b")):
        workers[k].append((article_id, signatures[article_id].tobytes(), "999"))
    for jobs in workers:
        for article_id, _, first_seen in jobs:
            sequential.assign(article_id, signatures[article_id], first_seen)
    context = multiprocessing.get_context("spawn")
    step = context.Barrier(3)
    processes = [
        context.Process(target=_assign_all, args=(redis_url, jobs, step)) for jobs in workers
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    ids = list(signatures)
    expected = partition(sequential, ids)
    assert len(expected) == 21  # 20 stories and the bridged pair
    assert partition(NearDuplicateIndex.for_redis(redis_url), ids) == expected


def test_bad_settings_are_refused(redis_url):
    with pytest.raises(ValueError, match="threshold"):
        NearDuplicateIndex.for_redis(redis_url, threshold=0)
    with pytest.raises(ValueError, match="threshold"):
        NearDuplicateIndex.for_redis(redis_url, threshold=1.5)
    with pytest.raises(ValueError, match="decode_responses"):
        RedisLSH(redis.Redis.from_url(redis_url, decode_responses=True))


def test_an_unreachable_redis_is_named_without_its_password():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    with pytest.raises(redis.ConnectionError, match=rf"Redis at redis://127\.0\.0\.1:{port}/3"):
        NearDuplicateIndex.for_redis(f"redis://127.0.0.1:{port}/3")
    with pytest.raises(redis.ConnectionError) as error:
        NearDuplicateIndex.for_redis(f"redis://:hunter2@127.0.0.1:{port}/0")
    assert f"redis://:***@127.0.0.1:{port}/0" in str(error.value)
    assert "hunter2" not in str(error.value)


def test_a_lock_held_elsewhere_or_lost_writes_nothing(redis_url):
    client = redis.Redis.from_url(redis_url)
    store = RedisLSH(client, prefix="p:", lock_timeout=5, blocking_timeout=0.2)
    signature = np.arange(NUM_PERM, dtype=np.uint32)
    client.set("p:lock", "another worker")
    with pytest.raises(redis.exceptions.LockError, match="p:lock still taken"), store.atomic():
        pass
    client.delete("p:lock")
    with pytest.raises(redis.exceptions.LockError, match="expired"), store.atomic():
        store.insert("x", "x", "1", signature, [(0, 1)])
        client.set("p:lock", "another worker")  # ours expired, and someone else took it
    assert store.cluster_of("x") is None and store.candidates([(0, 1)], 64) == []
    client.delete("p:lock")
    with store.atomic():
        store.insert("x", "x", "1", signature, [(0, 1)])
    assert store.cluster_of("x") == "x" and not client.exists("p:lock")
    with pytest.raises(RuntimeError, match="atomic"):
        store.relabel("x", "y")
