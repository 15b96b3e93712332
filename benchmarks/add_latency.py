"""How long `wirearchive add URL` of one local page takes, interpreter start included.

Serves the test site's pages (tests/support/site.py) on loopback and archives one page per run into
a fresh archive, with the default number of extraction workers; prints the median, minimum
and maximum over the runs, beside a bare `python -c pass` and `wirearchive --help`.

    python -m benchmarks.add_latency [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import archive_env
from tests.support import site


def timed(args: list[str], env: dict[str, str]) -> float:
    """Seconds one command takes; exits on failure."""
    started = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    pages = list(site.PAGES)
    with tempfile.TemporaryDirectory(prefix="wa-add-") as tmp, site.serve() as (origin, _):
        env = archive_env(Path(tmp) / "archive")
        env.pop("WIREARCHIVE_EXTRACT_WORKERS")  # the default: one per core
        # Python as installed: bytecode cached after the first run (a sandbox may say not to).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        command = [sys.executable, "-m", "archive"]
        bare = statistics.median(timed([sys.executable, "-c", "pass"], env) for _ in range(3))
        helps = statistics.median(timed([*command, "--help"], env) for _ in range(3))
        timed([*command, "add", f"{origin}/pages/{pages[-1]}"], env)  # caches the bytecode
        adds = [
            timed([*command, "add", f"{origin}/pages/{pages[n % len(pages)]}"], env)
            for n in range(args.runs)
        ]
    print(f"# `wirearchive add` of one local page, {args.runs} runs, {os.cpu_count()} cpus")
    print()
    print("| command | median s | min s | max s |")
    print("|---|--:|--:|--:|")
    print(f"| python -c pass | {bare:.2f} | | |")
    print(f"| wirearchive --help | {helps:.2f} | | |")
    print(
        f"| wirearchive add URL | {statistics.median(adds):.2f} | {min(adds):.2f} "
        f"| {max(adds):.2f} |"
    )


if __name__ == "__main__":
    main()
