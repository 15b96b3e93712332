"""One crawl at a time per catalog: an advisory lock file next to the database."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class CrawlLocked(RuntimeError):
    """Another crawl holds the lock on this catalog."""


@contextlib.contextmanager
def crawl_lock(db_path: str | Path) -> Iterator[None]:
    """Hold `<db>.lock` for the duration; raise CrawlLocked at once if another process has it.

    The kernel releases the lock when its holder dies, so a killed crawl never leaves a stale
    lock behind.
    """
    path = Path(f"{db_path}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise CrawlLocked(
                f"another crawl (pid {holder}) is running on {db_path}; not starting a second"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
