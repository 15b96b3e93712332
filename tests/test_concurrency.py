"""Several processes on one catalog, and several catalogs in one folder: every run finishes
with true statuses, one response record per payload, and a spool of its own per catalog.

Processes start together: each imports what it needs, then waits for a go file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.storage.catalog.migrations import MIGRATIONS
from archive.storage.spool import Spool, SpoolError
from archive.storage.uploader import spool_dir
from tests.conftest import archive_env
from tests.support.site import PAGES

# Waits for the go file (argv[1]) after the imports, then runs the CLI with argv[2:].
CLI_AT_GO = (
    "import os, sys, time\n"
    "from archive.app.cli import cli\n"
    "import archive.storage.catalog, scrapy.crawler\n"
    "while not os.path.exists(sys.argv[1]): time.sleep(0.005)\n"
    "cli.main(sys.argv[2:], prog_name='wirearchive')\n"
)
OPEN_AT_GO = (
    "import os, sys, time\n"
    "from archive.storage.catalog import Catalog\n"
    "while not os.path.exists(sys.argv[1]): time.sleep(0.005)\n"
    "print(Catalog(sys.argv[2]).schema_version)\n"
)


def _together(commands: list[list[str]], envs: list[dict[str, str]], go: Path) -> list[tuple]:
    """Start every command, let them all go at once; (exit code, stdout, stderr) of each."""
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for command, env in zip(commands, envs, strict=True)
    ]
    time.sleep(1.0)  # not needed for correctness: only makes the start more simultaneous
    go.touch()
    outputs = [p.communicate(timeout=600) for p in procs]
    return [(p.returncode, *output) for p, output in zip(procs, outputs, strict=True)]


def test_concurrent_first_opens_of_a_fresh_catalog_never_race(tmp_path):
    env = archive_env(tmp_path)
    for attempt in range(3):
        db, go = tmp_path / f"fresh-{attempt}.db", tmp_path / f"go-{attempt}"
        command = [sys.executable, "-c", OPEN_AT_GO, str(go), str(db)]
        results = _together([command] * 6, [env] * 6, go)
        for code, out, err in results:
            assert (code, out.strip()) == (0, str(len(MIGRATIONS))), err


@pytest.mark.slow
def test_four_adds_on_one_catalog_all_archive_with_one_response_per_payload(tmp_path, test_site):
    origin, _ = test_site
    env = archive_env(tmp_path)
    names = sorted(PAGES)
    shared = [f"{origin}/pages/{name}" for name in names]
    own = [[f"{origin}/copy/{name}"] for name in names[:4]]
    commands = [
        [sys.executable, "-c", CLI_AT_GO, str(tmp_path / "go"), "add", *shared[i:], *shared[:i]]
        + own[i]
        for i in range(4)
    ]
    results = _together(commands, [env] * 4, tmp_path / "go")
    for code, out, err in results:
        lines = [json.loads(line) for line in out.splitlines()]
        assert len(lines) == len(shared) + 1, out + err
        statuses = {line["status"] for line in lines}
        assert statuses <= {"archived", "duplicate", "unchanged"}, out + err
        assert code == 0, err
        assert "database is locked" not in err and "unreachable" not in err, err
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        responses = conn.execute(
            "select payload_sha256, count(*) from captures where record_type = 'response' "
            "group by payload_sha256 having count(*) > 1"
        ).fetchall()
        assert responses == []
        assert conn.execute("select count(*) from crawls").fetchone()[0] == 4
        assert conn.execute("select count(*) from articles where pending = 1").fetchone()[0] == 0
        captures = conn.execute("select count(*) from captures").fetchone()[0]
    assert captures == 4 * len(shared) + 4  # every fetch kept: a response or a revisit


def test_two_catalogs_in_one_folder_each_have_their_own_spool(tmp_path, test_site):
    origin, _ = test_site
    assert spool_dir(str(tmp_path / "a.db"), None) != spool_dir(str(tmp_path / "b.db"), None)
    names = sorted(PAGES)
    envs = [archive_env(tmp_path, WIREARCHIVE_DB=str(tmp_path / f"{c}.db")) for c in "ab"]
    go = tmp_path / "go"
    commands = [
        [sys.executable, "-c", CLI_AT_GO, str(go), "add"]
        + [f"{origin}/{folder}/{name}" for name in names]
        for folder in ("pages", "copy")
    ]
    for code, out, err in _together(commands, envs, go):
        statuses = {json.loads(line)["status"] for line in out.splitlines()}
        assert (code, statuses) == (0, {"archived"}), out + err
    for catalog in "ab":
        with sqlite3.connect(tmp_path / f"{catalog}.db") as conn:
            assert (
                conn.execute("select count(*) from articles where pending = 1").fetchone()[0] == 0
            )


def test_a_spool_refuses_a_second_catalog_while_in_use(tmp_path):
    folder = tmp_path / "spool"
    first = Spool(folder, "store", catalog=tmp_path / "a.db")
    Spool(folder, "store", catalog=tmp_path / "a.db").close()  # one catalog's runs share it
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from archive.storage.spool import Spool; "
            "s = Spool(sys.argv[1], 'store', catalog=sys.argv[2]); print('held', flush=True); "
            "sys.stdin.read()",
            str(folder),
            str(tmp_path / "a.db"),
        ],
        env=archive_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        first.close()
        with pytest.raises(SpoolError, match=r"in use .*a\.db"):
            Spool(folder, "store", catalog=tmp_path / "b.db")
    finally:
        holder.communicate("", timeout=60)
    Spool(folder, "store", catalog=tmp_path / "b.db").close()  # unused and empty: it may move


def test_a_spool_holding_another_catalogs_objects_is_refused(tmp_path):
    folder = tmp_path / "spool"
    spool = Spool(folder, "store", catalog=tmp_path / "a.db")
    spool.put("articles/ab/x.json", b"{}")
    spool.close()
    with pytest.raises(SpoolError, match="flush"):
        Spool(folder, "store", catalog=tmp_path / "b.db")


def test_an_old_catalogs_spool_beside_it_moves_to_its_own(tmp_path):
    db = tmp_path / "archive.db"
    old = tmp_path / "spool" / "objects" / "articles" / "ab" / "x.json"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"{}")
    (tmp_path / "spool" / "STORE").write_text("store\n")
    folder = spool_dir(str(db), None)
    assert folder != tmp_path / "spool" and not (tmp_path / "spool").exists()
    spool = Spool(folder, "store", catalog=db)
    assert list(spool.ready()) == ["articles/ab/x.json"]
    spool.close()
    assert os.path.isdir(folder)
