"""Long commands show one progress line on stderr on a terminal, and nothing when piped."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Archive, archive_env

# (the CLI's arguments, the last progress line it draws) on the three-article archive.
COMMANDS = [
    (["reextract"], "reextract: 3 of 3 articles"),
    (["export", "--format", "jsonl", "-o", "out.jsonl"], "export: 3 of 3 articles"),
    (["--db", "rebuilt.db", "reindex"], "reindex: 3 of 3 articles"),
    (["--db", "ingested.db", "ingest", "--full"], "ingest: 3 of 3 articles"),
]


@pytest.fixture
def copied(tmp_path: Path, small_archive: tuple[Archive, dict[str, str]]) -> Archive:
    """A copy of the small archive (catalog and store) that commands may change."""
    source, _ = small_archive
    shutil.copytree(source.objects, tmp_path / "objects")
    subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(source.db), "stats"],
        env=source.env,
        capture_output=True,
        check=True,
    )  # a clean open and close: the catalog's WAL is checkpointed before the copy
    shutil.copy(source.db, tmp_path / "archive.db")
    return Archive(tmp_path, archive_env(tmp_path))


def run_on_terminal(archive: Archive, args: list[str]) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (stdout a pipe): exit code, stderr."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "archive", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=archive.env,
        cwd=archive.root,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.stdout is not None
    proc.stdout.read()
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode()


@pytest.mark.parametrize(("args", "last"), COMMANDS, ids=[c[1].split(":")[0] for c in COMMANDS])
def test_a_progress_line_on_a_terminal_only(copied: Archive, args: list[str], last: str):
    command = last.split(":")[0]
    code, stderr = run_on_terminal(copied, args)
    assert code == 0, stderr
    drawn = [part.strip() for part in stderr.split("\r\x1b[K") if part.strip()]
    assert drawn, stderr
    assert drawn[-1].splitlines()[0] == last  # rewritten in place, then a line of its own
    assert all(line.startswith(f"{command}: ") for line in drawn)

    piped = copied.run(*[a.replace(".db", "-piped.db") for a in args])
    assert piped.returncode == 0, piped.stderr
    assert "\r" not in piped.stderr and " of 3 " not in piped.stderr
