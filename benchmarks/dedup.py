"""Near-duplicate clustering: quality and speed of `pipelines.neardup.NearDuplicateIndex`.

Run from the project root (the corpus defaults to ../shared/corpus next to the checkout):

    python -m benchmarks.dedup [--corpus DIR] [--seed N] [--skip-speed] [--skip-quality]
                               [--scale 1000,10000,100000]

Set. `benchmarks/dedup_set.py` generates the labelled set from the corpus (originals, reposts on
six blog templates with realistic edits, hard negatives; its docstring says how). Every item's
text is extracted with `pipelines.extraction.extract_article`, as the pipeline does; items without
a result are left out (and counted). The items are then fed in one shuffled order (seeded) to:

- stage: `NearDuplicateIndex` with its defaults, on a fresh SQLite file opened like the catalog
  (WAL, synchronous=NORMAL). A stage may merge clusters after the fact, so the partition scored is
  the index's answer after the run: every item assigned again (an indexed article keeps its
  cluster). "Re-add moves" counts items whose re-added cluster differs from the cluster returned
  online (merges reported in `Assignment.merged` applied).
- exact: `pipelines.identity.content_sha256` equal => same cluster.
- simhash: trafilatura's 64-bit `Simhash` of the text; an item joins the cluster whose first
  member is most similar if the similarity is >= `SIMHASH_THRESHOLD` (61/64: Hamming distance
  <= 3 bits, the setting of Manku et al., WWW 2007), else starts a cluster. A sweep of Hamming
  distances is printed too, so the baseline gets its best setting.

Metrics (over the items with text; truth = story id):
- pair precision / recall / F1: over all unordered item pairs; predicted positive when both items
  are in one predicted cluster, truly positive when both tell one story.
- B-cubed precision / recall / F1 (Bagga and Baldwin 1998): for item i with predicted cluster C(i)
  and true story S(i), P(i) = |C(i) & S(i)| / |C(i)| and R(i) = |C(i) & S(i)| / |S(i)|; precision
  and recall are the means over all items, F1 their harmonic mean.
Target for the stage: pair precision >= 0.99 and pair recall >= 0.95. The quality table repeats
each method on the set without the formula series (automated quake/market/weather reports, whose
editions share much of their wording), so their share of the false merges shows.

Determinism: the stage on three more shuffles; the partitions (sets of item ids per cluster) must
be identical. Sweep: the stage at every threshold x shingle size in the grid; the rows with the
best pair F1 among those with pair precision >= 0.99 are marked (all of them when they tie).
Separability: the true word-shingle Jaccard similarity of each repost to its original, and of
each item to its most similar item of another story, on the extracted texts: the window a
threshold can fall in.

Speed: synthetic articles (300-800 words drawn from the corpus vocabulary, 10 % of them
near-duplicates of an earlier one: 2 % word edits, sometimes the end trimmed). The index is filled
to N articles (untimed, progress on stderr), then 200 further articles are timed through the
stage's per-article work (`content_sha256` + `assign`); scales are cumulative on one file. Printed:
median and p90 ms per article, peak RSS (getrusage) and current RSS, and the SQLite file size
(with its WAL).
"""

from __future__ import annotations

import argparse
import inspect
import math
import multiprocessing
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from trafilatura.deduplication import Simhash

from benchmarks.corpus import DEFAULT_CORPUS, corpus_manifest
from benchmarks.dedup_set import Item, generate, load_stories
from pipelines.extraction import extract_article
from pipelines.identity import content_sha256

TARGET_PRECISION = 0.99
TARGET_RECALL = 0.95
SIMHASH_BITS = 64
SIMHASH_THRESHOLD = (SIMHASH_BITS - 3) / SIMHASH_BITS
SIMHASH_SWEEP_BITS = (0, 2, 3, 4, 6, 8, 10, 12)
SWEEP_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
SWEEP_SHINGLES = (3, 4, 5, 7)
DETERMINISM_RUNS = 3
DEFAULT_SCALES = (1_000, 10_000, 100_000)
TIMED_ARTICLES = 200
EXAMPLES = 8

Labels = dict[str, str]  # item id -> cluster (or story) id


# ---------------------------------------------------------------------------------------------
# Metrics


@dataclass(frozen=True)
class Scores:
    """Pair and B-cubed precision/recall/F1 of one partition against the truth."""

    pair_p: float
    pair_r: float
    bcubed_p: float
    bcubed_r: float
    clusters: int

    @property
    def pair_f1(self) -> float:
        return _f1(self.pair_p, self.pair_r)

    @property
    def bcubed_f1(self) -> float:
        return _f1(self.bcubed_p, self.bcubed_r)

    @property
    def meets_target(self) -> bool:
        return self.pair_p >= TARGET_PRECISION and self.pair_r >= TARGET_RECALL


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score(predicted: Labels, truth: Labels) -> Scores:
    """Pair and B-cubed scores of `predicted` (over its items) against `truth`."""
    ids = list(predicted)
    joint = Counter((predicted[i], truth[i]) for i in ids)
    pred_size = Counter(predicted[i] for i in ids)
    true_size = Counter(truth[i] for i in ids)
    together = sum(_pairs(n) for n in joint.values())
    pred_pairs = sum(_pairs(n) for n in pred_size.values())
    true_pairs = sum(_pairs(n) for n in true_size.values())
    overlap = [joint[predicted[i], truth[i]] for i in ids]
    return Scores(
        pair_p=together / pred_pairs if pred_pairs else 1.0,
        pair_r=together / true_pairs if true_pairs else 1.0,
        bcubed_p=statistics.fmean(
            o / pred_size[predicted[i]] for o, i in zip(overlap, ids, strict=True)
        ),
        bcubed_r=statistics.fmean(
            o / true_size[truth[i]] for o, i in zip(overlap, ids, strict=True)
        ),
        clusters=len(pred_size),
    )


def partition(labels: Labels) -> frozenset[frozenset[str]]:
    """The clusters as sets of item ids (cluster names do not matter)."""
    groups: dict[str, set[str]] = {}
    for item_id, cluster in labels.items():
        groups.setdefault(cluster, set()).add(item_id)
    return frozenset(frozenset(group) for group in groups.values())


# ---------------------------------------------------------------------------------------------
# Methods


@dataclass
class StageRun:
    """One pass of the stage: the final partition and what `assign` returned online."""

    final: Labels
    online: Labels  # the cluster returned by assign, merges reported later applied
    returned: Labels  # the cluster returned by assign, as returned
    similarity: dict[str, float]
    ms: list[float]
    lsh: str = "?"

    @property
    def readd_moves(self) -> int:
        return sum(1 for i in self.final if self.final[i] != self.online[i])


def _index_class() -> type:
    try:
        from pipelines.neardup import NearDuplicateIndex
    except ImportError as exc:
        sys.exit(f"pipelines/neardup.py is missing or broken ({exc}); nothing to measure.")
    return NearDuplicateIndex


def _open_db(path: Path) -> Database:
    """A SQLite file opened the way archive.storage.catalog.Catalog opens the catalog."""
    db = Database(path)
    db.execute("PRAGMA busy_timeout = 30000")
    db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def _unpack(result: Any) -> tuple[str, float, tuple[str, ...]]:
    """(cluster_id, similarity, merged clusters) from a tuple or an Assignment-like object."""
    if isinstance(result, tuple):
        return str(result[0]), float(result[1]), ()
    merged = tuple(getattr(result, "merged", ()) or ())
    return str(result.cluster_id), float(result.similarity), merged


def run_stage(order: Sequence[str], texts: dict[str, str], **params: Any) -> StageRun:
    """Feed the items in `order` to a fresh index; then ask it again for every item."""
    index_class = _index_class()
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
        db = _open_db(Path(tmp) / "neardup.db")
        index = index_class(db, **params)
        parent: dict[str, str] = {}

        def find(cluster: str) -> str:
            while parent.get(cluster, cluster) != cluster:
                parent[cluster] = parent.get(parent[cluster], parent[cluster])
                cluster = parent[cluster]
            return cluster

        returned: dict[str, str] = {}
        similarity: dict[str, float] = {}
        ms = []
        for item_id in order:
            start = time.perf_counter()
            result = index.assign(item_id, texts[item_id])
            ms.append((time.perf_counter() - start) * 1000)
            cluster, sim, merged = _unpack(result)
            for other in merged:
                parent[find(other)] = find(cluster)
            returned[item_id], similarity[item_id] = cluster, sim
        online = {item_id: find(cluster) for item_id, cluster in returned.items()}
        final = {i: _unpack(index.assign(i, texts[i]))[0] for i in reversed(order)}
        db.close()
    bands, rows = getattr(index, "bands", None), getattr(index, "rows", None)
    lsh = f"{bands} x {rows}" if isinstance(bands, int) and isinstance(rows, int) else "?"
    return StageRun(final, online, returned, similarity, ms, lsh)


def run_exact(order: Sequence[str], texts: dict[str, str]) -> Labels:
    """Same normalised-text hash => same cluster (the first item with that hash names it)."""
    first: dict[str, str] = {}
    return {i: first.setdefault(content_sha256(texts[i]), i) for i in order}


def run_simhash(order: Sequence[str], hashes: dict[str, int], threshold: float) -> Labels:
    """Join the cluster whose first member's simhash is most similar, if >= threshold."""
    max_bits = math.floor((1 - threshold) * SIMHASH_BITS + 1e-9)
    firsts: list[tuple[int, str]] = []
    labels: Labels = {}
    for item_id in order:
        value = hashes[item_id]
        best: tuple[int, str] | None = None
        for first_hash, cluster in firsts:
            bits = (value ^ first_hash).bit_count()
            if bits <= max_bits and (best is None or bits < best[0]):
                best = (bits, cluster)
        if best is None:
            firsts.append((value, item_id))
            labels[item_id] = item_id
        else:
            labels[item_id] = best[1]
    return labels


# ---------------------------------------------------------------------------------------------
# Extraction and shingles


def _extract(args: tuple[str, str]) -> str | None:
    html, url = args
    doc = extract_article(html, url)
    return doc["text"] if doc else None


def extract_all(items: list[Item]) -> dict[str, str | None]:
    """Every item's extracted text (None when extract_article finds no article)."""
    workers = max(1, min(2, os.cpu_count() or 1))
    with ProcessPoolExecutor(workers) as pool:
        texts = pool.map(_extract, [(item.html, item.url) for item in items], chunksize=8)
        return {item.id: text for item, text in zip(items, texts, strict=True)}


_WORD = re.compile(r"\w+")


def shingle_set(text: str, size: int) -> frozenset[str]:
    """Word `size`-grams after Unicode and case folding (for the true Jaccard figures)."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(words) <= size:
        return frozenset({" ".join(words)})
    return frozenset(" ".join(words[i : i + size]) for i in range(len(words) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


# ---------------------------------------------------------------------------------------------
# Printing


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table; floats with three decimals."""

    def cell(value: Any) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _score_row(name: str, setting: str, s: Scores, target: bool = False) -> list[Any]:
    mark = ("yes" if s.meets_target else "**no**") if target else ""
    return [
        name,
        setting,
        s.clusters,
        s.pair_p,
        s.pair_r,
        s.pair_f1,
        s.bcubed_p,
        s.bcubed_r,
        s.bcubed_f1,
        mark,
    ]


SCORE_HEADERS = (
    "method",
    "setting",
    "clusters",
    "pair P",
    "pair R",
    "pair F1",
    "B3 P",
    "B3 R",
    "B3 F1",
    f"target P>={TARGET_PRECISION} R>={TARGET_RECALL}",
)


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _defaults(cls: type) -> dict[str, Any]:
    params = inspect.signature(cls.__init__).parameters
    return {
        name: p.default
        for name, p in params.items()
        if name not in ("self", "db") and p.default is not inspect.Parameter.empty
    }


# ---------------------------------------------------------------------------------------------
# Quality report


def quality(items: list[Item], seed: int) -> None:
    """Quality, determinism, sweep and separability tables for the labelled set."""
    by_id = {item.id: item for item in items}
    roles = Counter(item.role for item in items)
    start = time.perf_counter()
    extracted = extract_all(items)
    print(
        f"## Labelled set\n\nextraction: {time.perf_counter() - start:.1f} s, {len(items)} pages\n"
    )
    texts = {i: t for i, t in extracted.items() if t}
    missing = Counter(by_id[i].role for i, t in extracted.items() if not t)
    rows: list[list[Any]] = [
        [role, roles[role], roles[role] - missing[role], missing[role]]
        for role in ("original", "repost", "negative")
    ]
    rows.append(["all", len(items), len(texts), sum(missing.values())])
    print(table(("role", "generated", "with text", "no text (left out)"), rows))
    stories = Counter(by_id[i].story for i in texts)
    multi = sum(1 for n in stories.values() if n > 1)
    true_pairs = sum(_pairs(n) for n in stories.values())
    print(
        f"\n{len(stories)} stories, {multi} with more than one copy; {true_pairs} true pairs "
        f"among {_pairs(len(texts))} item pairs.\n"
    )
    truth = {i: by_id[i].story for i in texts}
    order = sorted(texts)
    random.Random(seed).shuffle(order)

    index_class = _index_class()
    defaults = _defaults(index_class)
    stage = run_stage(order, texts)
    exact = run_exact(order, texts)
    hashes = {i: Simhash(texts[i], length=SIMHASH_BITS).hash for i in order}
    simhash = run_simhash(order, hashes, SIMHASH_THRESHOLD)
    results = {"stage": stage.final, "exact": exact, "simhash": simhash}

    print("## Quality (one shuffled order)\n")
    setting = ", ".join(f"{k}={v}" for k, v in defaults.items())
    bits = round((1 - SIMHASH_THRESHOLD) * SIMHASH_BITS)
    setting_of = {
        "stage": setting,
        "exact": "content_sha256",
        "simhash": f">= {SIMHASH_THRESHOLD:.3f} (<= {bits} bits)",
    }
    rows = [
        _score_row("stage: NearDuplicateIndex", setting, score(stage.final, truth), target=True),
        _score_row("exact hash", setting_of["exact"], score(exact, truth)),
        _score_row("trafilatura simhash", setting_of["simhash"], score(simhash, truth)),
    ]
    plain = [i for i in texts if not by_id[i].notes.endswith(";formula")]
    if len(plain) < len(texts):
        rows += [
            _score_row(f"{name}, without the formula series", setting_of[name],
                       score({i: labels[i] for i in plain}, truth), target=name == "stage")
            for name, labels in results.items()
        ]  # fmt: skip
    print(table(SCORE_HEADERS, rows))
    print(
        f"\nstage: LSH {stage.lsh}; median {statistics.median(stage.ms):.2f} ms per assign on "
        f"this set; re-add moves: {stage.readd_moves} of {len(stage.final)} items changed "
        "cluster when assigned again after the run.\n"
    )
    print("## Simhash baseline sweep\n")
    rows = []
    for bits in SIMHASH_SWEEP_BITS:
        threshold = (SIMHASH_BITS - bits) / SIMHASH_BITS
        labels = run_simhash(order, hashes, threshold)
        rows.append(
            _score_row("simhash", f"<= {bits} bits ({threshold:.3f})", score(labels, truth))
        )
    print(table(SCORE_HEADERS[:-1], [row[:-1] for row in rows]), "\n")

    _variation_tables(by_id, texts, truth, results)
    _examples(by_id, texts, truth, stage, int(defaults.get("shingle_size", 5)))
    _determinism(texts, truth, stage, seed)
    _sweep(index_class, order, texts, truth, defaults)
    _separability(by_id, texts, truth)


def _variation_features(notes: str) -> list[str]:
    """The table rows a repost counts in, from the notes dedup_set gave it."""
    tags = notes.split(";")
    changes = [t.rstrip("0123456789") for t in tags if t[:4] in ("trim", "add1", "add2")]
    changes += [t for t in tags if t in ("intro", "credit")]
    edits = next(float(t[5:-1]) for t in tags if t.startswith("edits"))
    names = [f"template: {tags[0]}", *changes, "edits >= 2%" if edits >= 2 else "edits < 2%"]
    if any(t.startswith("comments") and t != "comments0" for t in tags):
        names.append("comments on page")
    if not changes:
        names.append("edits only")
    return names


def _variation_tables(
    by_id: dict[str, Item], texts: dict[str, str], truth: Labels, results: dict[str, Labels]
) -> None:
    """Repost recall by kind of variation; items kept apart from other stories, by kind."""
    original = {by_id[i].story: i for i in texts if by_id[i].role == "original"}
    features: dict[str, list[str]] = {"all reposts": []}
    for i in texts:
        if by_id[i].role == "repost" and truth[i] in original:
            for name in ["all reposts", *_variation_features(by_id[i].notes)]:
                features.setdefault(name, []).append(i)
    print("## Reposts found with their original, by variation\n")
    rows: list[list[Any]] = []
    for name, ids in features.items():
        if not ids:
            continue
        row: list[Any] = [name, len(ids)]
        for labels in results.values():
            row.append(sum(labels[i] == labels[original[truth[i]]] for i in ids) / len(ids))
        rows.append(row)
    rows[1:] = sorted(rows[1:])
    print(table(("variation", "reposts", *results), rows), "\n")

    print("## Items kept apart from every other story\n")
    kinds: dict[str, list[str]] = {}
    for i in texts:
        item = by_id[i]
        kind = item.role if item.role != "negative" else f"negative: {item.notes.split(';')[1]}"
        kinds.setdefault(kind, []).append(i)
    stories_per_cluster = [
        Counter(cluster for cluster, _ in {(labels[j], truth[j]) for j in texts})
        for labels in results.values()
    ]
    rows = []
    for kind, ids in sorted(kinds.items()):
        row = [kind, len(ids)]
        for labels, stories_in in zip(results.values(), stories_per_cluster, strict=True):
            row.append(sum(stories_in[labels[i]] == 1 for i in ids) / len(ids))
        rows.append(row)
    print(table(("items", "count", *results), rows), "\n")


def _examples(
    by_id: dict[str, Item], texts: dict[str, str], truth: Labels, stage: StageRun, size: int
) -> None:
    """False merges and missed reposts of the stage, with true Jaccard similarities."""
    cache: dict[str, frozenset[str]] = {}

    def sim(a: str, b: str) -> float:
        for i in (a, b):
            if i not in cache:
                cache[i] = shingle_set(texts[i], size)
        return jaccard(cache[a], cache[b])

    groups: dict[str, list[str]] = {}
    for i, cluster in stage.final.items():
        groups.setdefault(cluster, []).append(i)
    mixed = [sorted(g) for g in groups.values() if len({truth[i] for i in g}) > 1]
    print(f"## Stage failures\n\nClusters mixing stories: {len(mixed)}\n")
    rows: list[list[Any]] = []
    for group in sorted(mixed, key=len)[:EXAMPLES]:
        cross = [(sim(a, b), a, b) for a in group for b in group if truth[a] < truth[b]]
        j, a, b = max(cross)
        rows.append([len(group), len({truth[i] for i in group}), a, by_id[a].notes, b,
                     by_id[b].notes, j])  # fmt: skip
    if rows:
        headers = ("size", "stories", "item a", "a made as", "item b", "b made as", f"J{size} a-b")
        print(table(headers, rows), "\n")
    original = {truth[i]: i for i in texts if by_id[i].role == "original"}
    missed = [
        i
        for i in texts
        if by_id[i].role == "repost"
        and truth[i] in original
        and stage.final[i] != stage.final[original[truth[i]]]
    ]
    print(f"Reposts not in their original's cluster: {len(missed)}\n")
    rows = []
    for i in sorted(missed, key=lambda i: -sim(i, original[truth[i]]))[:EXAMPLES]:
        o = original[truth[i]]
        joined = stage.returned[i] != i
        online = f"joined at {stage.similarity[i]:.2f}" if joined else "started a cluster"
        rows.append([i, by_id[i].notes, len(texts[i].split()), len(texts[o].split()),
                     sim(i, o), online])  # fmt: skip
    if rows:
        headers = ("repost", "made as", "words", "original words", f"true J{size}", "online")
        print(table(headers, rows), "\n")


def _determinism(texts: dict[str, str], truth: Labels, first: StageRun, seed: int) -> None:
    print("## Determinism (stage defaults, different shuffles)\n")
    runs = [first.final]
    rows: list[list[Any]] = [
        ["run 0 (above)", score(first.final, truth).pair_f1, first.readd_moves]
    ]
    for n in range(1, DETERMINISM_RUNS + 1):
        order = sorted(texts)
        random.Random(seed + 1000 * n).shuffle(order)
        run = run_stage(order, texts)
        runs.append(run.final)
        rows.append([f"shuffle {n}", score(run.final, truth).pair_f1, run.readd_moves])
    print(table(("order", "pair F1", "re-add moves"), rows))
    parts = [partition(labels) for labels in runs]
    same = all(p == parts[0] for p in parts[1:])
    print(f"\npartitions identical across {len(parts)} orders: {'yes' if same else '**no**'}")
    for n, p in enumerate(parts[1:], 1):
        if p != parts[0]:
            print(f"- shuffle {n}: {len(p - parts[0])} of its clusters are not in run 0")
    print()


def _sweep(
    index_class: type,
    order: Sequence[str],
    texts: dict[str, str],
    truth: Labels,
    defaults: dict[str, Any],
) -> None:
    print("## Sweep: threshold x shingle size (stage, same order)\n")
    accepted = inspect.signature(index_class.__init__).parameters
    if "threshold" not in accepted or "shingle_size" not in accepted:
        print("NearDuplicateIndex takes no threshold/shingle_size: sweep skipped.\n")
        return
    rows: list[list[Any]] = []
    for size in SWEEP_SHINGLES:
        for threshold in SWEEP_THRESHOLDS:
            run = run_stage(order, texts, threshold=threshold, shingle_size=size)
            s = score(run.final, truth)
            default = (threshold, size) == (defaults.get("threshold"), defaults.get("shingle_size"))
            rows.append([threshold, size, run.lsh, s.pair_p, s.pair_r, s.pair_f1, s.bcubed_f1,
                         statistics.median(run.ms), "default" if default else ""])  # fmt: skip
    eligible = [row for row in rows if row[3] >= TARGET_PRECISION]
    best_f1 = max((row[5] for row in eligible), default=None)
    ties = [row for row in eligible if best_f1 is not None and row[5] >= best_f1 - 1e-9]
    for row in ties:
        row[-1] = (row[-1] + " " if row[-1] else "") + "**best**"
    headers = ("threshold", "shingle", "LSH bands x rows", "pair P", "pair R", "pair F1",
               "B3 F1", "ms/assign", "mark")  # fmt: skip
    print(table(headers, rows))
    print(
        f"\nbest = highest pair F1 among settings with pair precision >= {TARGET_PRECISION}"
        + (f" ({len(ties)} settings tie at {best_f1:.4f})" if len(ties) > 1 else "")
        + ".\n"
    )


def _nearest_other(sets: dict[str, frozenset[str]], truth: Labels) -> list[float]:
    """For each item, the highest Jaccard similarity to an item of another story."""
    ids = list(sets)
    postings: dict[str, list[int]] = {}
    for k, i in enumerate(ids):
        for shingle in sets[i]:
            postings.setdefault(shingle, []).append(k)
    nearest = []
    for i in ids:
        shared = Counter(k for shingle in sets[i] for k in postings[shingle])
        nearest.append(
            max(
                (n / (len(sets[i]) + len(sets[ids[k]]) - n)
                 for k, n in shared.items() if truth[ids[k]] != truth[i]),
                default=0.0,
            )
        )  # fmt: skip
    return nearest


def _separability(by_id: dict[str, Item], texts: dict[str, str], truth: Labels) -> None:
    print("## Separability: true Jaccard of extracted texts\n")
    original = {truth[i]: i for i in texts if by_id[i].role == "original"}
    reposts = [i for i in texts if by_id[i].role == "repost" and truth[i] in original]
    rows: list[list[Any]] = []
    for size in SWEEP_SHINGLES:
        sets = {i: shingle_set(texts[i], size) for i in sorted(texts)}
        same = [jaccard(sets[i], sets[original[truth[i]]]) for i in reposts]
        other = _nearest_other(sets, truth)
        rows.append([size, min(same), _pct(same, 0.05), statistics.median(same),
                     statistics.median(other), _pct(other, 0.99), max(other)])  # fmt: skip
    headers = ("shingle", "repost-original min", "p5", "median", "other-story nearest p50",
               "p99", "max")  # fmt: skip
    print(table(headers, rows))
    print(
        "\nA threshold separates the set if it lies between the other-story max and the "
        "repost-original min; MinHash estimates J with a standard error of about "
        "sqrt(J(1-J)/num_perm) (0.044 at J=0.5, 128 permutations), and LSH banding finds a "
        "pair with a probability that falls steeply below its design threshold.\n"
    )


# ---------------------------------------------------------------------------------------------
# Speed


class Synthetic:
    """Deterministic synthetic articles: article n is rebuilt from its own seed on demand."""

    def __init__(self, vocabulary: list[str], seed: int) -> None:
        self.vocabulary = vocabulary
        self.seed = seed

    def base(self, n: int) -> str:
        rng = random.Random(f"{self.seed}:{n}")
        words = rng.choices(self.vocabulary, k=rng.randint(300, 800))
        out, sentence = [], 0
        for k, word in enumerate(words):
            out.append(word.capitalize() if sentence == 0 else word)
            sentence += 1
            if sentence > rng.randint(8, 25) or k == len(words) - 1:
                out[-1] += "."
                sentence = 0
                if rng.random() < 0.2:
                    out[-1] += "\n"
        return " ".join(out).replace("\n ", "\n")

    def text(self, n: int) -> str:
        """Article n: 10 % are near-duplicates of an earlier article."""
        rng = random.Random(f"{self.seed}:dup:{n}")
        if n == 0 or rng.random() >= 0.1:
            return self.base(n)
        words = self.base(rng.randrange(n)).split(" ")
        for k in rng.sample(range(len(words)), max(1, len(words) // 50)):
            words[k] = rng.choice(self.vocabulary)
        if rng.random() < 0.3:
            words = words[: int(len(words) * rng.uniform(0.75, 1.0))]
        return " ".join(words)


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def speed(corpus: Path, scales: list[int], seed: int) -> None:
    """Median and p90 cost per article at each archive size, memory and file size.

    Runs in a fresh (spawned) process, so that the memory figures are the stage's own."""
    index_class = _index_class()
    synthetic = Synthetic(_vocabulary(corpus), seed)
    baseline = _rss_mb()
    baseline_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="dedup-speed-") as tmp:
        path = Path(tmp) / "speed.db"
        db = _open_db(path)
        index = index_class(db)
        filled = 0
        for n in sorted(scales):
            start = time.perf_counter()
            while filled < n:
                index.assign(f"syn-{filled}", synthetic.text(filled))
                filled += 1
                if filled % 5000 == 0:
                    elapsed = time.perf_counter() - start
                    print(f"  prefill {filled:,}/{n:,} ({elapsed:.0f} s)", file=sys.stderr)
            prefill_s = time.perf_counter() - start
            timings = []
            for k in range(TIMED_ARTICLES):
                text = synthetic.text(filled + k)
                t0 = time.perf_counter()
                content_sha256(text)
                index.assign(f"syn-{filled + k}", text)
                timings.append((time.perf_counter() - t0) * 1000)
            filled += TIMED_ARTICLES
            db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            size = sum(f.stat().st_size for f in path.parent.glob(path.name + "*")) / 2**20
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            rows.append([f"{n:,}", f"{statistics.median(timings):.2f}",
                         f"{_pct(timings, 0.9):.2f}", f"{_rss_mb():.0f}", f"{peak:.0f}",
                         f"{size:.1f}", f"{prefill_s:.0f}"])  # fmt: skip
            print(f"  N={n:,} timed", file=sys.stderr)
        db.close()
    print("## Speed: per-article cost at archive size N (synthetic texts)\n")
    headers = ("N archived", "median ms/article", "p90 ms", "RSS MB", "peak RSS MB",
               "SQLite MB", "prefill s")  # fmt: skip
    print(table(headers, rows))
    print(
        f"\nTimed: {TIMED_ARTICLES} further articles per N, content_sha256 + assign each (10 % "
        f"near-duplicates); N grows on one file. Before the index existed, this process (its "
        f"imports and the corpus extraction for the vocabulary) had an RSS of {baseline:.0f} MB "
        f"and a peak of {baseline_peak:.0f} MB.\n",
        flush=True,
    )


def _speed_in_child(corpus: Path, scales: list[int], seed: int) -> None:
    """Run `speed` in a spawned interpreter (clean memory figures); fail if it fails."""
    sys.stdout.flush()
    process = multiprocessing.get_context("spawn").Process(
        target=speed, args=(corpus, scales, seed)
    )
    process.start()
    process.join()
    if process.exitcode:
        sys.exit(f"speed run failed (exit code {process.exitcode})")


# ---------------------------------------------------------------------------------------------


def _scales(value: str) -> list[int]:
    try:
        scales = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of integers: {value!r}") from exc
    if not scales or min(scales) < 1:
        raise argparse.ArgumentTypeError("scales must be positive integers")
    return scales


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-speed", action="store_true", help="quality tables only")
    parser.add_argument("--skip-quality", action="store_true", help="speed table only")
    parser.add_argument(
        "--scale",
        type=_scales,
        default=list(DEFAULT_SCALES),
        help="archive sizes for the speed table, e.g. 1000,10000,100000",
    )
    args = parser.parse_args(argv)
    corpus_manifest(args.corpus)
    _index_class()
    print(f"# Near-duplicate benchmark (seed {args.seed})\n")
    if not args.skip_quality:
        start = time.perf_counter()
        items = generate(args.corpus, args.seed)
        counts = Counter(item.role for item in items)
        print(
            f"set generated in {time.perf_counter() - start:.1f} s: "
            + ", ".join(f"{n} {role}s" for role, n in counts.items())
            + "\n"
        )
        quality(items, args.seed)
    if not args.skip_speed:
        _speed_in_child(args.corpus, args.scale, args.seed)
    return 0


def _vocabulary(corpus: Path) -> list[str]:
    """The corpus stories' words, repeated as often as they occur (a list to sample from)."""
    return [
        word
        for story in load_stories(corpus)
        for paragraph in story.paragraphs
        for word in re.findall(r"[^\W\d_]+", paragraph)
        if len(word) > 1
    ]


if __name__ == "__main__":
    raise SystemExit(main())
