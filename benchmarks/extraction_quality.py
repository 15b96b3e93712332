"""Extraction quality of `pipelines.extraction.extract_article` under trafilatura options.

Run from the project root (the corpus defaults to ../shared/corpus next to the checkout):

    python -m benchmarks.extraction_quality [--corpus DIR] [--processes 2] [--failures [LABEL]]

`--failures` lists every miss of the chosen configuration (or of the one labelled LABEL).

Every configuration in CONFIGS runs `extract_article(html, url, options)` over every page of the
corpus (its README describes `manifest.json`). Pages are read as bytes and decoded as a crawler
would: UTF-8 first, else the charset the page declares, else trafilatura's charset detection.
trafilatura's deduplication cache is cleared before each call, so results do not depend on order
(and `deduplicate` only removes repetitions within a page). extract_article keeps the main text
only (trafilatura returns comments apart, and they are dropped), so `include_comments` changes
only what is pruned from the page, and what time is spent.

Matching. Texts, segments and metadata are normalised the same way: Unicode NFKC, typographic
quotes, apostrophes and dashes mapped to ASCII, zero-width characters and soft hyphens dropped,
whitespace collapsed, casefolded.

- with: a `with` segment counts as found if it is a substring of the normalised text; the share is
  over all segments of all pages (a page without result finds none of its segments).
- without: a `without` segment counts as kept out if it is not a substring of the text (a page
  without result keeps all of them out), again over all segments.
- title: equal, or one contains the other and the shorter is at least half as long as the longer
  (so "Title | Site" matches "Title", but a bare site name does not match a headline).
- date: the first 10 characters of `published` equal the gold YYYY-MM-DD. `published` is in
  UTC when the page gives a time with its zone, and the gold dates are local: a post of the
  evening in the Americas counts as a miss (4 pages of the corpus).
- author: equal, or the name tokens (words of two or more letters, accents stripped, without
  "by"/"and") overlap so that at least half of the gold tokens and at least half of the extracted
  tokens are shared; "A; B" and "A, B" and "A and B" thus all match a gold list [A, B].
- Title, date and author accuracy are over the pages whose gold value for that field is non-empty.
- no result: pages where extract_article returned None (or raised).
- listing: pages whose `page_kind` came out "listing" (every corpus page is one article: 0 is
  right; `--failures` names them with their `page_kind_reason`).
- ms/page: median wall time of one extract_article call (metadata and date search included).

Choice. For an archive the article text comes first, boilerplate second: the best configuration
maximises with-share + without-share; ties (within 0.1 point) go to the higher mean of title,
date and author accuracy, then to the faster one. The row equal to `EXTRACT_OPTIONS` in
pipelines/extraction.py is marked "(chosen)"; the trafilatura defaults row is always present.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import re
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import trafilatura
from trafilatura.deduplication import LRU_TEST
from trafilatura.utils import decode_file
from w3lib.encoding import html_body_declared_encoding

from benchmarks.corpus import DEFAULT_CORPUS, corpus_manifest
from pipelines import extraction

NO_COMMENTS: dict[str, Any] = {"include_comments": False}
RECALL: dict[str, Any] = {**NO_COMMENTS, "favor_recall": True}
PRECISION: dict[str, Any] = {**NO_COMMENTS, "favor_precision": True}

# (label, options passed to extract_article); labels name the options that differ from defaults.
CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("defaults", {}),
    ("fast", {"fast": True}),
    ("no tables", {"include_tables": False}),
    ("no comments", {**NO_COMMENTS}),
    ("no comments, precision", PRECISION),
    ("no comments, recall", RECALL),
    ("no comments, no tables", {**NO_COMMENTS, "include_tables": False}),
    ("no comments, fast", {**NO_COMMENTS, "fast": True}),
    ("no comments, deduplicate", {**NO_COMMENTS, "deduplicate": True}),
    ("no comments, recall, fast", {**RECALL, "fast": True}),
    ("no comments, recall, no tables", {**RECALL, "include_tables": False}),
    ("no comments, recall, deduplicate", {**RECALL, "deduplicate": True}),
    ("no comments, precision, fast", {**PRECISION, "fast": True}),
]

TIE_MARGIN = 0.001  # with + without shares closer than this count as a tie

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
        "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None,
    }
)  # fmt: skip
_SPACES = re.compile(r"\s+")
_NAME_TOKEN = re.compile(r"[^\W\d_]{2,}")
_NAME_STOPWORDS = {"by", "and"}


def normalise(value: str | None) -> str:
    """NFKC, ASCII quotes and dashes, no zero-width characters, single spaces, casefolded."""
    text = unicodedata.normalize("NFKC", value or "").translate(_TRANSLATE)
    return _SPACES.sub(" ", text).strip().casefold()


def title_matches(found: str | None, gold: str) -> bool:
    """Equal, or one contains the other and the shorter is at least half the longer."""
    got, want = normalise(found), normalise(gold)
    if not got:
        return False
    if got == want:
        return True
    shorter, longer = sorted((got, want), key=len)
    return shorter in longer and len(shorter) * 2 >= len(longer)


def _name_tokens(value: str) -> set[str]:
    plain = unicodedata.normalize("NFKD", normalise(value))
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    return {token for token in _NAME_TOKEN.findall(plain) if token not in _NAME_STOPWORDS}


def author_matches(found: str | None, gold: str | list[str]) -> bool:
    """Equal, or at least half the gold and half the extracted name tokens are shared."""
    want = "; ".join(gold) if isinstance(gold, list) else gold
    if not found:
        return False
    if normalise(found) == normalise(want):
        return True
    got_tokens, want_tokens = _name_tokens(found), _name_tokens(want)
    if not got_tokens or not want_tokens:
        return False
    shared = len(got_tokens & want_tokens)
    return shared * 2 >= len(want_tokens) and shared * 2 >= len(got_tokens)


def date_matches(found: str | None, gold: str) -> bool:
    return bool(found) and str(found)[:10] == gold[:10]


def decode_page(raw: bytes) -> str:
    """UTF-8, else the charset declared in the page, else trafilatura's detection."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = html_body_declared_encoding(raw)
    if declared:
        try:
            return raw.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_file(raw)


_DEFAULTS: dict[str, Any] = {
    name: param.default
    for name, param in inspect.signature(trafilatura.bare_extraction).parameters.items()
    if param.default is not inspect.Parameter.empty
}


def effective_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options minus those equal to trafilatura's defaults, to compare configurations."""
    return {key: value for key, value in options.items() if _DEFAULTS.get(key, object()) != value}


@dataclass
class PageResult:
    """One configuration's outcome on one page."""

    text: str | None
    title: str | None
    author: str | None
    published: str | None
    ms: float
    error: str | None = None
    page_kind: str | None = None


def run_page(page: dict[str, Any]) -> list[PageResult]:
    """Extract one page with every configuration (runs in a worker process)."""
    logging.disable(logging.CRITICAL)
    html = decode_page(Path(page["path"]).read_bytes())
    results = []
    for _label, options in CONFIGS:
        LRU_TEST.clear()
        error = None
        start = time.perf_counter()
        try:
            doc = extraction.extract_article(html, page["url"], dict(options))
        except Exception as exc:  # a crash counts as a page without result
            doc, error = None, f"{type(exc).__name__}: {exc}"
        elapsed = (time.perf_counter() - start) * 1000
        if doc is None:
            results.append(PageResult(None, None, None, None, elapsed, error))
        else:
            kind = doc.get("page_kind")
            if kind == "listing":
                kind = f"listing ({doc.get('page_kind_reason')})"
            results.append(
                PageResult(
                    doc["text"], doc["title"], doc["author"], doc["published"], elapsed, None, kind
                )
            )
    return results


@dataclass
class Score:
    """Totals for one configuration over the corpus."""

    label: str
    options: dict[str, Any]
    with_found: int = 0
    with_total: int = 0
    without_out: int = 0
    without_total: int = 0
    hits: dict[str, int] = field(default_factory=lambda: {"title": 0, "date": 0, "author": 0})
    golds: dict[str, int] = field(default_factory=lambda: {"title": 0, "date": 0, "author": 0})
    no_result: int = 0
    listings: int = 0
    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def share(self, part: int, whole: int) -> float:
        return part / whole if whole else 0.0

    @property
    def with_share(self) -> float:
        return self.share(self.with_found, self.with_total)

    @property
    def without_share(self) -> float:
        return self.share(self.without_out, self.without_total)

    def accuracy(self, name: str) -> float:
        return self.share(self.hits[name], self.golds[name])

    @property
    def metadata(self) -> float:
        return statistics.mean(self.accuracy(name) for name in self.hits)

    @property
    def ms(self) -> float:
        return statistics.median(self.times) if self.times else 0.0

    def add(self, page: dict[str, Any], result: PageResult) -> None:
        text = normalise(result.text)
        self.times.append(result.ms)
        name = page["file"]
        if result.text is None:
            self.no_result += 1
            self.failures.append(f"{name}: no result{f' ({result.error})' if result.error else ''}")
        if result.page_kind and result.page_kind.startswith("listing"):
            self.listings += 1
            self.failures.append(f"{name}: page kind {result.page_kind}")
        for segment in page["with"]:
            self.with_total += 1
            if normalise(segment) in text:
                self.with_found += 1
            else:
                self.failures.append(f"{name}: with missing: {segment!r}")
        for segment in page["without"]:
            self.without_total += 1
            if normalise(segment) not in text:
                self.without_out += 1
            else:
                self.failures.append(f"{name}: without kept: {segment!r}")
        checks = (
            ("title", result.title, title_matches),
            ("date", result.published, date_matches),
            ("author", result.author, author_matches),
        )
        for field_name, found, matches in checks:
            gold = page.get(field_name)
            if not gold:
                continue
            self.golds[field_name] += 1
            if matches(found, gold):
                self.hits[field_name] += 1
            else:
                self.failures.append(f"{name}: {field_name} {found!r} != gold {gold!r}")


def sort_key(score: Score) -> tuple[float, float, float]:
    """Higher is better: text shares (to TIE_MARGIN), then metadata, then speed."""
    text = score.with_share + score.without_share
    return (round(text / TIE_MARGIN), score.metadata, -score.ms)


def markdown_table(scores: list[Score], chosen: dict[str, Any]) -> str:
    def pct(value: float) -> str:
        return f"{100 * value:.1f}%"

    lines = [
        "| configuration | options | with | without | title | date | author | no result "
        "| listing | ms/page |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for score in scores:
        label = score.label
        if effective_options(score.options) == chosen:
            label += " (chosen)"
        options = ", ".join(f"{key}={value}" for key, value in score.options.items()) or "{}"
        lines.append(
            f"| {label} | `{options}` | {pct(score.with_share)} | {pct(score.without_share)} "
            f"| {pct(score.accuracy('title'))} | {pct(score.accuracy('date'))} "
            f"| {pct(score.accuracy('author'))} | {score.no_result} | {score.listings} "
            f"| {score.ms:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus directory")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--failures",
        nargs="?",
        const="",
        metavar="LABEL",
        help="list the misses of the chosen configuration, or of the one labelled LABEL",
    )
    args = parser.parse_args(argv)

    manifest = corpus_manifest(args.corpus)
    pages: list[dict[str, Any]] = json.loads(manifest.read_text(encoding="utf-8"))
    for page in pages:
        page["path"] = str(args.corpus / "pages" / page["file"])

    scores = [Score(label, options) for label, options in CONFIGS]
    started = time.perf_counter()
    with Pool(max(1, args.processes)) as pool:
        for page, results in zip(pages, pool.imap(run_page, pages), strict=True):
            for score, result in zip(scores, results, strict=True):
                score.add(page, result)
    elapsed = time.perf_counter() - started

    chosen = effective_options(extraction.EXTRACT_OPTIONS)
    print(
        f"{len(pages)} pages, {scores[0].with_total} with / {scores[0].without_total} without "
        f"segments; gold titles {scores[0].golds['title']}, dates {scores[0].golds['date']}, "
        f"authors {scores[0].golds['author']}; {extraction.EXTRACTOR_VERSION}; "
        f"{elapsed:.0f} s on {args.processes} processes\n"
    )
    print(markdown_table(scores, chosen))

    best = max(scores, key=sort_key)
    print(
        f"\nBest by with + without share (ties: metadata accuracy, then speed): {best.label} "
        f"`{effective_options(best.options)}`"
    )
    if effective_options(best.options) == chosen:
        print("EXTRACT_OPTIONS already holds the best configuration.")
    else:
        print(f"EXTRACT_OPTIONS {extraction.EXTRACT_OPTIONS} differs from the best configuration.")
    if not any(effective_options(score.options) == chosen for score in scores):
        print("EXTRACT_OPTIONS matches no configuration in CONFIGS.")

    if args.failures is not None:
        wanted = [
            score
            for score in scores
            if score.label == args.failures
            or (not args.failures and effective_options(score.options) == chosen)
        ]
        if not wanted:
            print(f"\nNo configuration labelled {args.failures!r}.", file=sys.stderr)
        for score in wanted[:1]:
            print(f"\nMisses of {score.label}:")
            print("\n".join(f"- {line}" for line in score.failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
