"""Run a throwaway Redis server (Debian's `redis-server`) on loopback for tests.

`WIREARCHIVE_TEST_REDIS=redis://HOST:PORT` uses a server that is already running instead
(`.ci/run` starts one); each test then gets its own database number and flushes it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support.helpers import free_port


@dataclass
class RedisServer:
    """A Redis server on loopback; `url(db)` names one of its databases."""

    host: str
    port: int

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db))


@contextlib.contextmanager
def redis_server(root: Path) -> Iterator[RedisServer]:
    """A Redis server for the block: the one named by WIREARCHIVE_TEST_REDIS, else a private
    `redis-server` on a free loopback port with its files under `root`, stopped at the end."""
    given = os.environ.get("WIREARCHIVE_TEST_REDIS")
    if given:
        client = redis.Redis.from_url(given)
        client.ping()
        pool = client.connection_pool.connection_kwargs
        yield RedisServer(pool.get("host", "127.0.0.1"), int(pool.get("port", 6379)))
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(root),
            "--save", "", "--appendonly", "no", "--databases", "64",
        ],
        stdout=(root / "redis.log").open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = RedisServer("127.0.0.1", port)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                server.client().ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis-server did not start: {(root / 'redis.log').read_text()}"
                    ) from None
                time.sleep(0.05)
        yield server
    finally:
        proc.terminate()
        proc.wait(10)
