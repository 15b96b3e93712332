"""Run `wirearchive serve` (the real uvicorn server) on a free loopback port for tests."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.helpers import free_port, stop_process

START_TIMEOUT = 30.0


@dataclass
class Server:
    """A running `wirearchive serve`: its base URL, archive folder and process."""

    base: str
    root: Path
    process: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        return self.base + path

    def log(self) -> str:
        return (self.root / "serve.log").read_text(errors="replace")


@contextmanager
def serve(root: Path, env: dict[str, str]) -> Iterator[Server]:
    """`python -m archive serve` with `env` in `root`, once it answers; stopped (SIGTERM,
    as uvicorn is stopped in production) on exit."""
    port = free_port()
    with open(root / "serve.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "archive", "serve", "--port", str(port)],
            env=env,
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", root, process)
    try:
        _wait_until_up(server)
        yield server
    finally:
        stop(server)


def stop(server: Server) -> None:
    """SIGTERM the server and wait for it (SIGKILL after 15 s)."""
    stop_process(server.process)


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"wirearchive serve exited:\n{server.log()}")
        try:
            requests.get(server.url("/api/stats"), timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"wirearchive serve did not answer in {START_TIMEOUT} s:\n{server.log()}")


def wait_for_job(server: Server, job_id: str, timeout: float = 60) -> dict:
    """Poll GET /api/jobs/ID until the job is done or failed; its record."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = requests.get(server.url(f"/api/jobs/{job_id}"), timeout=5).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains `text` (Linux /proc)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return pids
