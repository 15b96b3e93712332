"""The web-archiving community's own tools, to check wirearchive's packages with: pywb (replay)
and py-wacz (`wacz validate`), in a virtualenv of their own (their pins are not ours), made
once per machine under the cache folder and shared by the test workers (a file lock)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.support.helpers import free_port, stop_process

TOOLS = ("pywb==2.10.0", "wacz==0.6.0")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wirearchive-tests"


def tools_bin() -> Path:
    """The bin folder of the tools' virtualenv, made (pip install) on first use."""
    venv = CACHE / ("tools-" + "-".join(t.replace("==", "") for t in TOOLS))
    ready = venv / ".ready"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "tools.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
            subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *TOOLS],
                check=True,
                timeout=900,
            )
            ready.touch()
    return venv / "bin"


def wacz_validate(path: Path) -> subprocess.CompletedProcess[str]:
    """`wacz validate -f PATH`."""
    return subprocess.run(
        [str(tools_bin() / "wacz"), "validate", "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@contextmanager
def pywb(root: Path) -> Iterator[str]:
    """pywb's `wayback` serving the collections under `root` (root/collections/NAME/archive
    and indexes); its base URL while it runs."""
    port = free_port()
    log = open(root / "pywb.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(tools_bin() / "wayback"), "--port", str(port), "--bind", "127.0.0.1"],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(base + "/", timeout=5)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((root / "pywb.log").read_text()) from None
                time.sleep(0.2)
        yield base
    finally:
        stop_process(process)
        log.close()
