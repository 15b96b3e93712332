"""A stand-in for the extraction worker that misbehaves on command (fault injection: no real
page reliably hangs, exhausts memory or kills trafilatura's process on every machine)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from pipelines.extract import extract_in_worker


def misbehave(body: bytes, *args: Any) -> dict | None:
    """Hang, allocate without bound, or die when the page says so; else extract it."""
    if b"<!--HANG-->" in body:
        time.sleep(3600)
    if b"<!--EXPLODE-->" in body:
        hog = [bytearray(64 * 1024 * 1024) for _ in range(1024)]  # 64 GiB, past any cap
        return {"text": str(len(hog))}
    if b"<!--CRASH-->" in body:
        os._exit(9)
    return extract_in_worker(body, *args)


def hold(body: bytes, *args: Any) -> dict | None:
    """Extract a page that says `<!--HOLD:DIR-->` once DIR/go exists (up to a minute),
    after writing this worker's pid in DIR: a test can kill workers busy with pages."""
    found = re.search(rb"<!--HOLD:([^>]+)-->", body)
    if found:
        folder = Path(found.group(1).decode())
        (folder / f"worker-{os.getpid()}").touch()
        deadline = time.monotonic() + 60
        while not (folder / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    return extract_in_worker(body, *args)
