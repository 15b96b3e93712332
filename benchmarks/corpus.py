"""The development corpus some benchmarks read, and a clear exit when it is absent.

It is not in the repository: 161 real pages from trafilatura's evaluation data (Apache-2.0,
https://github.com/adbar/trafilatura, the pages of tests/cache/) as DIR/pages/*.html, with
DIR/manifest.json (per page: url, file, text segments it must and must not yield, gold
metadata). Tests never need it (they use tests/fixtures/).
"""

from __future__ import annotations

import sys
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def missing(corpus: Path, what: str) -> str:
    """Why a benchmark cannot run without the corpus, and what to do about it."""
    return (
        f"no development corpus at {corpus} ({what} is missing). This benchmark reads the "
        "development corpus: real pages from trafilatura's evaluation data "
        "(https://github.com/adbar/trafilatura, tests/cache/*.html) in DIR/pages/, and for "
        "quality figures DIR/manifest.json. It is ../shared/corpus next to the checkout by "
        "default; point at another copy with --corpus DIR."
    )


def corpus_pages(corpus: Path) -> list[Path]:
    """The corpus's HTML pages; exits with `missing()` when there are none."""
    pages = sorted((corpus / "pages").glob("*.html"))
    if not pages:
        sys.exit(missing(corpus, "pages/*.html"))
    return pages


def corpus_manifest(corpus: Path) -> Path:
    """The corpus's manifest.json; exits with `missing()` when it is absent."""
    manifest = corpus / "manifest.json"
    if not manifest.is_file():
        sys.exit(missing(corpus, "manifest.json"))
    return manifest
