"""Near-duplicate stories: MinHash over word shingles, LSH band hashes in SQLite.

One wire story reposted by many blogs becomes one cluster. A cluster is a connected component
of the "estimated Jaccard similarity >= threshold" graph, so the same articles in any order
give the same clusters; its id is its first-seen member. The index lives in the catalog
(`lsh_bands`, indexed by band and hash; `minhashes`, one signature per article), so a lookup is
a handful of indexed queries whatever the size of the archive, and nothing is loaded whole
into memory or pickled.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlite_utils import Database

from archive.migrations import migrate

# Chosen by measurement: `python benchmarks/dedup.py` sweeps both (figures in the README).
DEFAULT_THRESHOLD = 0.5
DEFAULT_SHINGLE_SIZE = 4
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
    """(threshold, shingle size) from Scrapy settings, the measured defaults where unset."""
    return (
        settings.getfloat("WIREARCHIVE_NEAR_THRESHOLD", DEFAULT_THRESHOLD),
        settings.getint("WIREARCHIVE_SHINGLE_SIZE", DEFAULT_SHINGLE_SIZE),
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
            error = 0.5 * false_positive + 0.5 * false_negative
            if error < best:
                best, choice = error, (bands, rows)
    return choice


class NearDuplicateIndex:
    """MinHash LSH over word shingles, persisted as band hashes in an indexed SQLite table."""

    def __init__(
        self,
        db: Database,
        threshold: float = DEFAULT_THRESHOLD,
        shingle_size: int = DEFAULT_SHINGLE_SIZE,
        num_perm: int = NUM_PERM,
    ) -> None:
        if not 0 < threshold <= 1:
            raise ValueError("near-duplicate threshold must be in (0, 1]")
        if shingle_size < 1:
            raise ValueError("shingle size must be at least 1")
        migrate(db)
        self.db = db
        self.threshold = threshold
        self.shingle_size = shingle_size
        self.num_perm = num_perm
        candidate = max(0.1, threshold - CANDIDATE_MARGIN)
        self.bands, self.rows = optimal_bands(candidate, num_perm)

    def signature(self, text: str) -> np.ndarray:
        """The MinHash signature of `text` (uint32 array of num_perm values)."""
        return signature(text, self.shingle_size, self.num_perm)

    def assign(
        self, article_id: str, text: str | np.ndarray, first_seen: str | None = None
    ) -> Assignment:
        """Put the article in a cluster (joining, and merging, every cluster it is similar to)
        and write it to the index; an article already indexed keeps its cluster."""
        known = self._cluster_of(article_id)
        if known is not None:
            return Assignment(known, self._similarity_to(article_id, known))
        signature = text if isinstance(text, np.ndarray) else self.signature(text)
        matches = self._similar_clusters(signature)
        with self.db.atomic():
            if not matches:
                cluster_id, merged = article_id, ()
            else:
                cluster_id, *others = sorted(matches, key=lambda c: (matches[c], c))
                merged = tuple(others)
                for other in merged:
                    self.db.conn.execute(
                        "update minhashes set cluster_id = ? where cluster_id = ?",
                        [cluster_id, other],
                    )
            self.db.conn.execute(
                "insert into minhashes (article_id, cluster_id, first_seen, signature) "
                "values (?, ?, ?, ?)",
                [article_id, cluster_id, first_seen or "", signature.tobytes()],
            )
            self.db.conn.executemany(
                "insert into lsh_bands (band, hash, article_id) values (?, ?, ?)",
                [(band, value, article_id) for band, value in self._band_hashes(signature)],
            )
        similarity = (
            1.0
            if cluster_id == article_id
            else self._similarity(signature, self._signature_of(cluster_id))
        )
        return Assignment(cluster_id, similarity, merged)

    def members(self, cluster_id: str) -> list[str]:
        """Article ids in a cluster, first seen first."""
        rows = self.db.execute(
            "select article_id from minhashes where cluster_id = ? order by first_seen, rowid",
            [cluster_id],
        )
        return [row[0] for row in rows]

    # -- internals --------------------------------------------------------------------------

    def _band_hashes(self, signature: np.ndarray) -> Iterable[tuple[int, int]]:
        for band in range(self.bands):
            chunk = signature[band * self.rows : (band + 1) * self.rows].tobytes()
            digest = hashlib.blake2b(chunk, digest_size=8).digest()
            yield band, int.from_bytes(digest, "big", signed=True)

    def _similar_clusters(self, signature: np.ndarray) -> dict[str, str]:
        """Clusters with a member at or above the threshold -> that cluster's first_seen."""
        pairs = list(self._band_hashes(signature))
        bands = ", ".join("(?, ?)" for _ in pairs)
        # Candidates first, each once (a near copy shares most bands), then their rows.
        rows = self.db.conn.execute(
            f"with q(band, hash) as (values {bands}), "
            f"candidates(id) as (select distinct b.article_id from q join lsh_bands b "
            f"on b.band = q.band and b.hash = q.hash limit {MAX_CANDIDATES}) "
            f"select m.article_id, m.cluster_id, m.signature, c.first_seen from candidates "
            f"join minhashes m on m.article_id = candidates.id "
            f"join minhashes c on c.article_id = m.cluster_id",
            [value for pair in pairs for value in pair],
        ).fetchall()
        found: dict[str, str] = {}
        for _, cluster_id, blob, cluster_first_seen in rows:
            if cluster_id in found:
                continue
            other = np.frombuffer(blob, dtype=np.uint32)
            if self._similarity(signature, other) >= self.threshold:
                found[cluster_id] = cluster_first_seen or ""
        return found

    def _similarity(self, a: np.ndarray, b: np.ndarray) -> float:
        return float(np.count_nonzero(a == b)) / self.num_perm

    def _cluster_of(self, article_id: str) -> str | None:
        row = self.db.conn.execute(
            "select cluster_id from minhashes where article_id = ?", [article_id]
        ).fetchone()
        return row[0] if row else None

    def _signature_of(self, article_id: str) -> np.ndarray:
        row = self.db.conn.execute(
            "select signature from minhashes where article_id = ?", [article_id]
        ).fetchone()
        return np.frombuffer(row[0], dtype=np.uint32)

    def _similarity_to(self, article_id: str, cluster_id: str) -> float:
        if article_id == cluster_id:
            return 1.0
        return self._similarity(self._signature_of(article_id), self._signature_of(cluster_id))
