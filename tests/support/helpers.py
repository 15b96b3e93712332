"""Small helpers the tests share: waiting for a condition, reading a catalog, a free port,
a crawl of one loopback site."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.conftest import Archive
    from tests.support.platforms import PlatformSite


def wait_for(condition: Callable[[], Any], timeout: float = 60, interval: float = 0.05) -> None:
    """Poll `condition` every `interval` seconds until it is true; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting"
        time.sleep(interval)


def rows(db: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """What `sql` (with `args`) selects from the SQLite catalog `db`, as tuples."""
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def records(db: Path, sql: str, *args: object) -> list[sqlite3.Row]:
    """What `sql` (with `args`) selects from `db`, as rows read by column name."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, args).fetchall()


def count(db: Path, table_and_filter: str, missing_ok: bool = False) -> int:
    """`select count(*) from TABLE_AND_FILTER` ("articles where pending = 1") in `db`;
    `missing_ok`: 0 while the table does not exist yet (a crawl still starting)."""
    try:
        return rows(db, f"select count(*) from {table_and_filter}")[0][0]
    except sqlite3.OperationalError:
        if not missing_ok:
            raise
        return 0


def stop_process(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    """SIGTERM `process` and wait for it (SIGKILL after `timeout` seconds)."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def crawl(
    archive: Archive, site: PlatformSite, *args: str, kind: str | None = None, name: str = "src"
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run `wirearchive crawl` on one source, `site`; the process and its crawl_sources row."""
    kind_line = f'kind = "{kind}"\n' if kind else ""
    sources = archive.root / "sources.toml"
    sources.write_text(f'[[sources]]\nname = "{name}"\nurl = "{site.origin}/"\n{kind_line}')
    proc = archive.run("crawl", "--sources", str(sources), *args)
    found = records(
        archive.db,
        "select * from crawl_sources where source = ? order by crawl_id desc limit 1",
        name,
    )
    return proc, dict(found[0]) if found else {}
