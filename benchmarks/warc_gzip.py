"""What the gzip level of WARC records costs: CPU per page and size, over the corpus pages.

The project compresses each WARC record with zlib-ng at archive.storage.warc.GZIP_LEVEL; this prints
the levels of zlib-ng and of Python's zlib side by side (median of 3 passes over
../shared/corpus/pages). Both write standard gzip members.

    python -m benchmarks.warc_gzip [--corpus DIR]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from zlib_ng import gzip_ng

from benchmarks.corpus import DEFAULT_CORPUS, corpus_pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    pages = [p.read_bytes() for p in corpus_pages(args.corpus)]
    total = sum(map(len, pages))
    print(f"# gzip levels over {len(pages)} pages ({total / 1e6:.1f} MB)")
    print()
    print("| library | level | ms per page (median of 3) | compressed / original |")
    print("|---|--:|--:|--:|")
    libraries: dict[str, Callable[..., bytes]] = {
        "zlib-ng": gzip_ng.compress,
        "zlib": gzip.compress,
    }
    for name, compress in libraries.items():
        for level in (1, 3, 5, 6, 9):
            runs, size = [], 0
            for _ in range(3):
                started = time.process_time()
                size = sum(len(compress(page, compresslevel=level, mtime=0)) for page in pages)
                runs.append((time.process_time() - started) / len(pages) * 1000)
            print(f"| {name} | {level} | {statistics.median(runs):.2f} | {size / total:.3f} |")


if __name__ == "__main__":
    main()
