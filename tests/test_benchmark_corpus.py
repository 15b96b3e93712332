"""Benchmarks that read the development corpus say where it comes from when it is absent."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

CORPUS_BENCHMARKS = [
    "dedup.py",
    "extraction_quality.py",
    "incremental_crawl.py",
    "scaleout.py",
    "scrapy_floor.py",
    "throughput.py",
    "warc_gzip.py",
    "where_time_goes.py",
]


@pytest.mark.parametrize("script", CORPUS_BENCHMARKS)
def test_missing_corpus_is_explained(script, tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--corpus", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode != 0
    message = " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "trafilatura" in message and "--corpus DIR" in message, proc.stderr


def test_dedup_set_without_a_corpus_is_explained(tmp_path):
    script = ROOT / "benchmarks" / "dedup_set.py"
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "none")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "--corpus DIR" in proc.stderr
