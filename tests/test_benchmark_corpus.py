"""Benchmarks that read the development corpus say where it comes from when it is absent."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

CORPUS_BENCHMARKS = [
    "dedup",
    "extraction_quality",
    "incremental_crawl",
    "scaleout",
    "scrapy_floor",
    "throughput",
    "warc_gzip",
    "where_time_goes",
]


@pytest.mark.parametrize("name", CORPUS_BENCHMARKS)
def test_missing_corpus_is_explained(name, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--corpus", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode != 0
    message = " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "trafilatura" in message and "--corpus DIR" in message, proc.stderr


def test_dedup_set_without_a_corpus_is_explained(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.dedup_set", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "--corpus DIR" in proc.stderr
