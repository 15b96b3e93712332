"""The HTTP service's job queue: archive requests run one at a time as `wirearchive add`."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any

from archive.core.clock import now_iso

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
KILL_GRACE_SECONDS = 5.0
STDERR_TAIL = 2000


class QueueFull(Exception):
    """As many jobs wait as the queue holds."""


@dataclass
class Job:
    """One archive request and, once run, the result line of each URL."""

    id: str
    urls: list[str]
    submitted_at: str
    status: str = QUEUED
    results: list[dict[str, Any]] = field(default_factory=list)
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None


class JobQueue:
    """A bounded queue of jobs served by one worker thread; each job is a subprocess
    `python -m archive --db DB --store STORE add --file -` with this process's environment,
    so submitted URLs take the same path (address guard, robots.txt, pipelines) as the CLI."""

    def __init__(self, db: str, store: str, max_waiting: int, max_records: int = 1000) -> None:
        self.command = [sys.executable, "-m", "archive", "--db", db, "--store", store]
        self.command += ["add", "--file", "-"]
        self.max_records = max(max_records, max_waiting + 1)
        self._waiting: queue.Queue[Job] = queue.Queue(maxsize=max_waiting)
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._process: subprocess.Popen[str] | None = None
        self._worker = threading.Thread(target=self._work, name="archive-jobs", daemon=True)

    def start(self) -> None:
        """Start the worker thread."""
        self._worker.start()

    def stop(self) -> None:
        """Stop the worker; a running job's process group is terminated (killed if slow)."""
        self._stop.set()
        with self._lock:
            process = self._process
        if process is not None:
            _end(process)
        self._worker.join(timeout=KILL_GRACE_SECONDS * 2)

    def submit(self, urls: list[str]) -> dict[str, Any]:
        """Queue a job for `urls`; its record. Raises QueueFull when the queue is full."""
        job = Job(id=uuid.uuid4().hex, urls=list(urls), submitted_at=now_iso())
        with self._lock:
            try:
                self._waiting.put_nowait(job)
            except queue.Full:
                raise QueueFull(f"{self._waiting.maxsize} jobs are waiting already") from None
            self._jobs[job.id] = job
            self._evict()
            return asdict(job)

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The record of a job (a copy), or None for an unknown or evicted id."""
        with self._lock:
            job = self._jobs.get(job_id)
            return asdict(job) if job is not None else None

    def _evict(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.status in (DONE, FAILED)]
        for job_id in finished[: max(0, len(self._jobs) - self.max_records)]:
            del self._jobs[job_id]

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._waiting.get(timeout=0.2)
            except queue.Empty:
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            job.status, job.started_at = RUNNING, now_iso()
            self._process = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # its own process group: stop() ends its workers too
            )
        stdout, stderr = self._process.communicate("\n".join(job.urls) + "\n")
        results = _result_lines(stdout)
        code = self._process.returncode
        with self._lock:
            self._process = None
            job.results, job.finished_at = results, now_iso()
            # `add` exits 1 when a URL failed, was refused or is pending: still a finished job.
            if code == 0 or (code == 1 and results):
                job.status = DONE
            else:
                job.status = FAILED
                tail = stderr.strip()[-STDERR_TAIL:]
                job.error = "stopped: the server shut down" if self._stop.is_set() else tail
                job.error = job.error or f"wirearchive add exited with status {code}"


def _result_lines(stdout: str) -> list[dict[str, Any]]:
    lines = []
    for line in stdout.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            lines.append(value)
    return lines


def _end(process: subprocess.Popen[str]) -> None:
    """SIGTERM to the process group, SIGKILL if it is still there after a grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=KILL_GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue
