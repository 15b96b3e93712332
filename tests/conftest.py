"""Shared fixtures: the loopback test site, an isolated archive, and the CLI as a user runs it."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import site
from tests.support.redisserver import RedisServer, redis_server
from tests.support.s3server import ACCESS_KEY, REGION, SECRET_KEY, SeaweedFS, seaweedfs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def test_site() -> Iterator[tuple[str, list[str]]]:
    """(origin, paths requested so far) of the loopback test site."""
    with site.serve() as served:
        yield served


@dataclass
class Archive:
    """An archive in a temp folder and a way to run `wirearchive` against it."""

    root: Path
    env: dict[str, str]

    @property
    def db(self) -> Path:
        return self.root / "archive.db"

    @property
    def objects(self) -> Path:
        return self.root / "objects"

    def run(
        self, *args: str, stdin: str | None = None, cwd: Path | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run the CLI (`python -m archive ARGS`) in a fresh process."""
        return subprocess.run(
            [sys.executable, "-m", "archive", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=cwd or self.root,
            timeout=timeout,
        )

    def add(self, *urls: str) -> tuple[int, dict[str, dict[str, Any]]]:
        """`wirearchive add URLS`: exit code and the result line of each URL."""
        proc = self.run("add", *urls)
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        assert len(lines) == len(set(urls)), proc.stdout + proc.stderr
        return proc.returncode, {line["url"]: line for line in lines}

    def stored_keys(self) -> set[str]:
        return {str(p.relative_to(self.objects)) for p in self.objects.rglob("*") if p.is_file()}

    def show(self, id_or_url: str) -> dict[str, Any]:
        proc = self.run("show", "--json", id_or_url)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)


def archive_env(root: Path, **extra: str) -> dict[str, str]:
    """Environment for a CLI run against an archive in `root` (created if missing). A page
    gets the default time limit (30 s), which no loopback page comes near however busy the
    machine; tests of pages that time out set a short one."""
    root.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIREARCHIVE_", "AWS_"))}
    env.update(
        WIREARCHIVE_DB=str(root / "archive.db"),
        WIREARCHIVE_STORE=str(root / "objects"),
        WIREARCHIVE_ALLOW_PRIVATE="127.0.0.0/8",  # the test site only, never other private nets
        WIREARCHIVE_EXTRACT_WORKERS="1",
        # No extractor warm-up (6 s a crawl): test crawls are a few pages each.
        # tests/test_crawl.py keeps one crawl with it on.
        WIREARCHIVE_WARM_UP="0",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    """A fresh, empty archive that may fetch from loopback (the test site) only."""
    return Archive(tmp_path, archive_env(tmp_path))


TELESCOPE = "nature.com.telescope.html"


@pytest.fixture(scope="session")
def small_archive(
    tmp_path_factory: pytest.TempPathFactory, test_site: tuple[str, list[str]]
) -> tuple[Archive, dict[str, str]]:
    """An archive (built by `wirearchive add`) of the seed (Sputnik, published 2022-01-09),
    its unattributed repost (2022-01-10) and an unrelated page; the article id of each by
    name ("seed", "repost", TELESCOPE). Read it; do not change it."""
    origin, _ = test_site
    root = tmp_path_factory.mktemp("small-archive")
    archive = Archive(root, archive_env(root))
    urls = {
        "seed": f"{origin}/seed-repost.html",
        "repost": f"{origin}/repost-elsewhere.html",
        TELESCOPE: f"{origin}/pages/{TELESCOPE}",
    }
    # The seed on its own first, so that it names its story (one `add` archives its pages
    # in whatever order they come back).
    code, results = archive.add(urls["seed"])
    assert code == 0, results
    code, rest = archive.add(*list(urls.values())[1:])
    assert code == 0, rest
    results |= rest
    return archive, {name: results[url]["id"] for name, url in urls.items()}


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """A real S3 API (SeaweedFS) on loopback for the whole session."""
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


def s3_env(root: Path, endpoint: str, store: str) -> dict[str, str]:
    """An archive environment whose store is `store` on the S3 server at `endpoint`."""
    return archive_env(
        root,
        WIREARCHIVE_STORE=store,
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=REGION,
    )


@pytest.fixture(scope="session")
def redis_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real Redis server on loopback for the whole session."""
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


# Databases 1-63 of the one server, dealt out among the pytest-xdist workers (gw0, gw1, ...),
# which share WIREARCHIVE_TEST_REDIS: each test gets one no other test uses.
_worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:])
_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
_redis_dbs = itertools.cycle(range(1 + _worker, 64, _workers))  # each test flushes its own


@pytest.fixture
def redis_url(redis_service: RedisServer) -> str:
    """The URL of a Redis database of this test's own, empty."""
    db = next(_redis_dbs)
    redis_service.client(db).flushdb()
    return redis_service.url(db)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The real-platform suite runs on one xdist worker: its WordPress, MariaDB and Apache
    start once per worker that needs them."""
    for item in items:
        if item.get_closest_marker("platforms"):
            item.add_marker(pytest.mark.xdist_group("platforms"))
