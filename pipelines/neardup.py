"""Near-duplicate stories: MinHash over word shingles, LSH band hashes in SQLite or Redis.

One wire story reposted by many blogs becomes one cluster. A cluster is a connected component
of the "estimated Jaccard similarity >= threshold" graph, so the same articles in any order
give the same clusters; its id is its first-seen member. The index lives in an `LSHStore`
(`pipelines.lshstore`): the catalog (`lsh_bands`, indexed by band and hash; `minhashes`, one
signature per article), or Redis for workers on several machines. Either way a lookup is a
handful of indexed reads whatever the size of the archive, nothing is loaded whole into memory
or pickled, and the same calls give the same clusters.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlite_utils import Database

from archive.core.settings import DEFAULTS
from pipelines.lshstore import DEFAULT_PREFIX, BandHash, LSHStore, RedisLSH, SqliteLSH

if TYPE_CHECKING:
    import redis

# Chosen by measurement: `python -m benchmarks.dedup` sweeps both (figures in docs/quality.md);
# declared with the other settings (WIREARCHIVE_NEAR_THRESHOLD, WIREARCHIVE_SHINGLE_SIZE).
DEFAULT_THRESHOLD = DEFAULTS.near_threshold
DEFAULT_SHINGLE_SIZE = DEFAULTS.shingle_size
NUM_PERM = 128
# LSH bands are laid out for a threshold this much lower than the verification threshold:
# at 0.5, datasketch's optimum (25 bands x 5 rows) finds only ~55% of pairs at J=0.5, while
# 37 x 3 (laid out for 0.3) finds ~99%; every candidate is then checked against the threshold.
CANDIDATE_MARGIN = 0.2
# Candidates verified per lookup at most: a story with thousands of copies stays cheap.
MAX_CANDIDATES = 64

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Assignment:
    """Where an article went: its cluster and its estimated similarity to the cluster's
    first member (1.0 for that member itself)."""

    cluster_id: str
    similarity: float
    merged: tuple[str, ...] = ()  # clusters this article joined into this one


def near_settings(settings: Any) -> tuple[float, int]:
    """(threshold, shingle size) from Scrapy settings."""
    return (
        settings.getfloat("WIREARCHIVE_NEAR_THRESHOLD"),
        settings.getint("WIREARCHIVE_SHINGLE_SIZE"),
    )


def shingles(text: str, size: int) -> set[bytes]:
    """Word `size`-grams of the text, after Unicode and case folding."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(words) <= size:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


def signature(text: str, shingle_size: int, num_perm: int = NUM_PERM) -> np.ndarray:
    """The MinHash signature of `text`'s word shingles (uint32 array of num_perm values).
    CPU-bound: the extract stage computes it in its worker processes."""
    from datasketch import MinHash  # imports scipy: only where signatures are made

    minhash = MinHash(num_perm=num_perm)
    minhash.update_batch(list(shingles(text, shingle_size)))
    return minhash.hashvalues.astype(np.uint32)


def optimal_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) with the least false-positive plus false-negative probability mass
    around `threshold`: datasketch's MinHashLSH choice (equal weights), integrated with
    numpy here so that the crawling process need not import scipy."""
    below = np.linspace(0.0, threshold, 2001)
    above = np.linspace(threshold, 1.0, 2001)
    best, choice = float("inf"), (0, 0)
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            false_positive = np.trapezoid(1 - (1 - below**rows) ** bands, below)
            false_negative = np.trapezoid((1 - above**rows) ** bands, above)
            error = float(0.5 * false_positive + 0.5 * false_negative)
            if error < best:
                best, choice = error, (bands, rows)
    return choice


class NearDuplicateIndex:
    """MinHash LSH over word shingles; storage in an `LSHStore` (the catalog, or Redis)."""

    def __init__(
        self,
        store: LSHStore | Database,
        threshold: float = DEFAULT_THRESHOLD,
        shingle_size: int = DEFAULT_SHINGLE_SIZE,
        num_perm: int = NUM_PERM,
    ) -> None:
        """`store`: an `LSHStore`, or the catalog's Database (kept in it by `SqliteLSH`)."""
        if not 0 < threshold <= 1:
            raise ValueError("near-duplicate threshold must be in (0, 1]")
        if shingle_size < 1:
            raise ValueError("shingle size must be at least 1")
        self.store: LSHStore = SqliteLSH(store) if isinstance(store, Database) else store
        self.threshold = threshold
        self.shingle_size = shingle_size
        self.num_perm = num_perm
        candidate = max(0.1, threshold - CANDIDATE_MARGIN)
        self.bands, self.rows = optimal_bands(candidate, num_perm)

    @classmethod
    def for_redis(
        cls,
        url_or_client: str | redis.Redis,
        threshold: float = DEFAULT_THRESHOLD,
        shingle_size: int = DEFAULT_SHINGLE_SIZE,
        num_perm: int = NUM_PERM,
        prefix: str = DEFAULT_PREFIX,
    ) -> NearDuplicateIndex:
        """The index in Redis (a `redis://` URL or a client), its keys under `prefix`; any
        number of processes may assign into it at once. Every worker must use the same
        threshold and num_perm (they fix the band layout)."""
        return cls(RedisLSH.connect(url_or_client, prefix), threshold, shingle_size, num_perm)

    def signature(self, text: str) -> np.ndarray:
        """The MinHash signature of `text` (uint32 array of num_perm values)."""
        return signature(text, self.shingle_size, self.num_perm)

    def assign(
        self, article_id: str, text: str | np.ndarray, first_seen: str | None = None
    ) -> Assignment:
        """Put the article in a cluster (joining, and merging, every cluster it is similar to)
        and write it to the index, as one atomic step; an article already indexed keeps its
        cluster."""
        known = self.store.cluster_of(article_id)
        if known is None:
            signature = text if isinstance(text, np.ndarray) else self.signature(text)
            with self.store.atomic():
                known = self.store.cluster_of(article_id)  # another worker's, meanwhile
                if known is None:
                    return self._insert(article_id, signature, first_seen or "")
        return Assignment(known, self._similarity_to(article_id, known))

    def members(self, cluster_id: str) -> list[str]:
        """Article ids in a cluster, first seen first."""
        return self.store.members(cluster_id)

    # -- internals --------------------------------------------------------------------------

    def _insert(self, article_id: str, signature: np.ndarray, first_seen: str) -> Assignment:
        bands = list(self._band_hashes(signature))
        matches = self._similar_clusters(signature, bands)
        merged: tuple[str, ...]
        if not matches:
            cluster_id, merged = article_id, ()
        else:
            cluster_id, *others = sorted(matches, key=lambda c: (matches[c], c))
            merged = tuple(others)
            for other in merged:
                self.store.relabel(other, cluster_id)
        self.store.insert(article_id, cluster_id, first_seen, signature, bands)
        similarity = (
            1.0 if cluster_id == article_id else self._similarity_to_head(signature, cluster_id)
        )
        return Assignment(cluster_id, similarity, merged)

    def _band_hashes(self, signature: np.ndarray) -> Iterable[BandHash]:
        for band in range(self.bands):
            chunk = signature[band * self.rows : (band + 1) * self.rows].tobytes()
            digest = hashlib.blake2b(chunk, digest_size=8).digest()
            yield band, int.from_bytes(digest, "big", signed=True)

    def _similar_clusters(self, signature: np.ndarray, bands: list[BandHash]) -> dict[str, str]:
        """Clusters with a member at or above the threshold -> that cluster's first_seen,
        among the first MAX_CANDIDATES articles indexed that share a band with `signature`."""
        found: dict[str, str] = {}
        for candidate in self.store.candidates(bands, MAX_CANDIDATES):
            if candidate.cluster_id in found:
                continue
            if self._similarity(signature, candidate.signature) >= self.threshold:
                found[candidate.cluster_id] = candidate.cluster_first_seen
        return found

    def _similarity(self, a: np.ndarray, b: np.ndarray) -> float:
        return float(np.count_nonzero(a == b)) / self.num_perm

    def _similarity_to_head(self, signature: np.ndarray, cluster_id: str) -> float:
        head = self.store.signature_of(cluster_id)
        assert head is not None, f"cluster {cluster_id} has no indexed first member"
        return self._similarity(signature, head)

    def _similarity_to(self, article_id: str, cluster_id: str) -> float:
        if article_id == cluster_id:
            return 1.0
        own = self.store.signature_of(article_id)
        assert own is not None, f"{article_id} is clustered but not indexed"
        return self._similarity_to_head(own, cluster_id)
