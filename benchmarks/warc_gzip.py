"""What the gzip level of WARC records costs: CPU per page and size, over the corpus pages.

The project compresses each WARC record at archive.warc.GZIP_LEVEL; this prints the
alternatives side by side (median of 3 passes over ../shared/corpus/pages).

    python benchmarks/warc_gzip.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    pages = [p.read_bytes() for p in sorted((args.corpus / "pages").glob("*.html"))]
    if not pages:
        sys.exit(f"no corpus pages in {args.corpus}/pages: this benchmark needs ../shared/corpus")
    total = sum(map(len, pages))
    print(f"# gzip levels over {len(pages)} pages ({total / 1e6:.1f} MB)")
    print()
    print("| level | ms per page (median of 3) | compressed / original |")
    print("|--:|--:|--:|")
    for level in (1, 3, 6, 9):
        runs, size = [], 0
        for _ in range(3):
            started = time.perf_counter()
            size = sum(len(gzip.compress(page, compresslevel=level, mtime=0)) for page in pages)
            runs.append((time.perf_counter() - started) / len(pages) * 1000)
        print(f"| {level} | {statistics.median(runs):.2f} | {size / total:.3f} |")


if __name__ == "__main__":
    main()
