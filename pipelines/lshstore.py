"""Where the near-duplicate index keeps its LSH buckets, signatures and clusters.

`LSHStore` is what `pipelines.neardup.NearDuplicateIndex` needs from storage; `SqliteLSH` keeps
it in the catalog (tables `minhashes` and `lsh_bands`), `RedisLSH` in a Redis server shared by
crawl workers on several machines. Both give the same answers for the same calls: candidates
come first inserted first (at most `limit`), cluster members first seen first, then first
inserted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, cast
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from sqlite_utils import Database

from archive.storage.catalog import write_transaction
from archive.storage.catalog.migrations import migrate

if TYPE_CHECKING:  # redis is imported where it is used: a crawl on SQLite never loads it
    import redis

DEFAULT_PREFIX = "wirearchive:lsh:"
# How often a worker waiting for the Redis lock tries again: an assignment holds it about a
# millisecond, and redis-py's default (0.1 s) would leave the lock idle most of the time.
LOCK_POLL_SECONDS = 0.002

BandHash = tuple[int, int]  # (band number, signed 64-bit hash of the band's rows)


class Candidate(NamedTuple):
    """An indexed article sharing a band hash with the one being looked up."""

    article_id: str
    cluster_id: str
    signature: np.ndarray
    cluster_first_seen: str  # first_seen of the cluster's first member


class LSHStore(Protocol):
    """Storage of the near-duplicate index. Writes made inside one `atomic()` block take
    effect together when it ends, and no other `atomic()` block runs meanwhile."""

    def atomic(self) -> contextlib.AbstractContextManager[Any]:
        """A block in which reads and writes are one isolated, all-or-nothing step."""
        ...

    def candidates(self, bands: Sequence[BandHash], limit: int) -> list[Candidate]:
        """Articles in any of the bands' buckets: the `limit` first inserted, in that order."""
        ...

    def cluster_of(self, article_id: str) -> str | None:
        """The article's cluster, None if it is not indexed."""
        ...

    def signature_of(self, article_id: str) -> np.ndarray | None:
        """The article's MinHash signature, None if it is not indexed."""
        ...

    def insert(
        self,
        article_id: str,
        cluster_id: str,
        first_seen: str,
        signature: np.ndarray,
        bands: Sequence[BandHash],
    ) -> None:
        """Index a new article in `cluster_id`."""
        ...

    def relabel(self, old: str, new: str) -> None:
        """Move every member of cluster `old` into cluster `new`."""
        ...

    def members(self, cluster_id: str) -> list[str]:
        """The cluster's article ids, first seen first (then first inserted)."""
        ...


class SqliteLSH:
    """The index in the catalog: `minhashes` (one row per article) and `lsh_bands` (one row
    per article and band, indexed by band and hash); `atomic()` is the catalog transaction,
    a savepoint inside one already open."""

    def __init__(self, db: Database) -> None:
        migrate(db)
        self.db = db

    def atomic(self) -> contextlib.AbstractContextManager[Any]:
        return write_transaction(self.db)

    def candidates(self, bands: Sequence[BandHash], limit: int) -> list[Candidate]:
        # Each bucket's first `limit` rows in rowid order straight from the (band, hash)
        # index (its entries end with the rowid); an article's band rows are inserted
        # together, so rowid order is article insertion order.
        bucket = (
            "select * from (select article_id, rowid as seq from lsh_bands "
            f"where band = ? and hash = ? order by rowid limit {limit})"
        )
        rows = self.db.conn.execute(
            f"with hits(article_id, seq) as ({' union all '.join([bucket] * len(bands))}) "
            "select m.article_id, m.cluster_id, m.signature, c.first_seen from "
            "(select article_id, min(seq) as seq from hits group by article_id "
            f"order by seq limit {limit}) h "
            "join minhashes m on m.article_id = h.article_id "
            "join minhashes c on c.article_id = m.cluster_id order by h.seq",
            [value for pair in bands for value in pair],
        )
        return [
            Candidate(article_id, cluster_id, np.frombuffer(blob, dtype=np.uint32), first or "")
            for article_id, cluster_id, blob, first in rows
        ]

    def cluster_of(self, article_id: str) -> str | None:
        row = self.db.conn.execute(
            "select cluster_id from minhashes where article_id = ?", [article_id]
        ).fetchone()
        return row[0] if row else None

    def signature_of(self, article_id: str) -> np.ndarray | None:
        row = self.db.conn.execute(
            "select signature from minhashes where article_id = ?", [article_id]
        ).fetchone()
        return np.frombuffer(row[0], dtype=np.uint32) if row else None

    def insert(
        self,
        article_id: str,
        cluster_id: str,
        first_seen: str,
        signature: np.ndarray,
        bands: Sequence[BandHash],
    ) -> None:
        self.db.conn.execute(
            "insert into minhashes (article_id, cluster_id, first_seen, signature) "
            "values (?, ?, ?, ?)",
            [article_id, cluster_id, first_seen, signature.tobytes()],
        )
        self.db.conn.executemany(
            "insert into lsh_bands (band, hash, article_id) values (?, ?, ?)",
            [(band, value, article_id) for band, value in bands],
        )

    def relabel(self, old: str, new: str) -> None:
        self.db.conn.execute("update minhashes set cluster_id = ? where cluster_id = ?", [new, old])

    def members(self, cluster_id: str) -> list[str]:
        rows = self.db.conn.execute(
            "select article_id from minhashes where cluster_id = ? order by first_seen, rowid",
            [cluster_id],
        )
        return [row[0] for row in rows]


class RedisLSH:
    """The index in Redis, under `prefix`:

    - `band:{band}:{hash}`: a bucket, a sorted set of article ids scored by insertion number
      (so a lookup reads each bucket's first `limit` in O(log n + limit));
    - `signature`, `cluster`, `first_seen`: hashes by article id (signature as raw uint32s);
    - `members:{cluster}`: a sorted set of the cluster's article ids by insertion number;
    - `seq`: the insertion counter; `lock`: the lock `atomic()` holds.

    `atomic()` takes the lock (blocking up to `blocking_timeout` seconds), so assignments from
    any number of processes are serialised; its writes are queued and run in one MULTI/EXEC
    that also WATCHes the lock, so if the lock expired (held over `lock_timeout` seconds) and
    another worker took it, nothing is written and `redis.exceptions.LockError` is raised.
    One instance per thread: the open block is instance state.
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = DEFAULT_PREFIX,
        lock_timeout: float = 30.0,
        blocking_timeout: float = 60.0,
    ) -> None:
        if client.get_connection_kwargs().get("decode_responses"):
            raise ValueError("RedisLSH needs a client without decode_responses (signatures)")
        self.client = client
        self.prefix = prefix
        self.lock_timeout = lock_timeout
        self.blocking_timeout = blocking_timeout
        self._writes: redis.client.Pipeline | None = None

    @classmethod
    def connect(cls, url_or_client: str | redis.Redis, prefix: str = DEFAULT_PREFIX) -> RedisLSH:
        """A store on the Redis server at a `redis://` URL (or an existing client), checked
        to answer: `redis.ConnectionError` naming the server if it does not."""
        import redis

        client = (
            redis.Redis.from_url(url_or_client, socket_connect_timeout=10)
            if isinstance(url_or_client, str)
            else url_or_client
        )
        try:
            client.ping()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            where = _redacted(url_or_client) if isinstance(url_or_client, str) else client
            raise redis.ConnectionError(
                f"near-duplicate index: cannot reach Redis at {where}: {exc}"
            ) from exc
        return cls(client, prefix)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        from redis.exceptions import LockError, LockNotOwnedError, WatchError

        if self._writes is not None:
            raise RuntimeError("RedisLSH.atomic() blocks do not nest")
        name = self._key("lock")
        lock = self.client.lock(name, timeout=self.lock_timeout, sleep=LOCK_POLL_SECONDS)
        if not lock.acquire(blocking_timeout=self.blocking_timeout):
            raise LockError(
                f"near-duplicate index: {name} still taken after {self.blocking_timeout} s",
                lock_name=name,
            )
        writes = self.client.pipeline(transaction=True)
        try:
            writes.watch(name)
            writes.multi()
            self._writes = writes
            yield
            if writes.command_stack:
                writes.execute()
        except WatchError:
            raise LockError(
                f"near-duplicate index: {name} expired before the assignment was written "
                f"(held over {self.lock_timeout} s); nothing was written",
                lock_name=name,
            ) from None
        finally:
            self._writes = None
            writes.reset()
            with contextlib.suppress(LockNotOwnedError):
                lock.release()

    def candidates(self, bands: Sequence[BandHash], limit: int) -> list[Candidate]:
        lookup = self.client.pipeline(transaction=False)
        for band, value in bands:
            lookup.zrange(self._bucket(band, value), 0, limit - 1, withscores=True)
        seq: dict[bytes, float] = {}
        for bucket in lookup.execute():
            seq.update(bucket)  # an article has one insertion number in every bucket
        found = sorted(seq, key=seq.__getitem__)[:limit]
        if not found:
            return []
        lookup.hmget(self._key("cluster"), found)
        lookup.hmget(self._key("signature"), found)
        clusters, blobs = lookup.execute()
        heads = list(dict.fromkeys(clusters))
        first = dict(zip(heads, self.client.hmget(self._key("first_seen"), heads), strict=True))
        return [
            Candidate(
                article_id.decode(),
                cluster_id.decode(),
                np.frombuffer(blob, dtype=np.uint32),
                (first[cluster_id] or b"").decode(),
            )
            for article_id, cluster_id, blob in zip(found, clusters, blobs, strict=True)
        ]

    def cluster_of(self, article_id: str) -> str | None:
        value = self.client.hget(self._key("cluster"), article_id)
        return value.decode() if isinstance(value, bytes) else value

    def signature_of(self, article_id: str) -> np.ndarray | None:
        blob = self.client.hget(self._key("signature"), article_id)
        return np.frombuffer(blob, dtype=np.uint32) if isinstance(blob, bytes) else None

    def insert(
        self,
        article_id: str,
        cluster_id: str,
        first_seen: str,
        signature: np.ndarray,
        bands: Sequence[BandHash],
    ) -> None:
        writes = self._queue()
        seq = self.client.incr(self._key("seq"))  # under the lock: insertion order
        writes.hset(self._key("signature"), article_id, signature.tobytes())
        writes.hset(self._key("cluster"), article_id, cluster_id)
        writes.hset(self._key("first_seen"), article_id, first_seen)
        writes.zadd(self._key("members", cluster_id), {article_id: seq})
        for band, value in bands:
            writes.zadd(self._bucket(band, value), {article_id: seq})

    def relabel(self, old: str, new: str) -> None:
        writes = self._queue()
        # redis-py types a sorted set's range as any of its reply shapes; this one is pairs.
        scored = self.client.zrange(self._key("members", old), 0, -1, withscores=True)
        moving = dict(cast("list[tuple[bytes, float]]", scored))
        if moving:
            writes.hset(self._key("cluster"), mapping=dict.fromkeys(moving, new))
            writes.zadd(self._key("members", new), moving)
            writes.delete(self._key("members", old))

    def members(self, cluster_id: str) -> list[str]:
        # Insertion order; members without scores (redis-py types every reply shape).
        ids = cast("list[bytes]", self.client.zrange(self._key("members", cluster_id), 0, -1))
        if not ids:
            return []
        first = self.client.hmget(self._key("first_seen"), ids)
        ordered = sorted(zip(first, ids, strict=True), key=lambda pair: pair[0] or b"")
        return [article_id.decode() for _, article_id in ordered]

    def _queue(self) -> redis.client.Pipeline:
        if self._writes is None:
            raise RuntimeError("RedisLSH writes belong in an atomic() block")
        return self._writes

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _bucket(self, band: int, value: int) -> str:
        return f"{self.prefix}band:{band}:{value}"


def _redacted(url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
