"""A crawl run's lifetimes: one ArchiveSession for every crawler of the run, closed once, and
SQL transactions written only by the catalog."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.conftest import ROOT, Archive
from tests.support.platforms import PlatformSite, make_posts
from tests.support.site import PAGES

# `wirearchive crawl` in a process that records each session the run makes, which session
# each crawler's components were handed, and how the session ended.
RECORDER = """
import json, sqlite3, sys
from archive.storage import session as mod

made, handed, closes = [], [], []
given = mod.session_of

def session_of(crawler):
    session = given(crawler)
    handed.append((id(crawler), id(session)))
    return session

mod.session_of = session_of  # before the components import it

class Recording(mod.ArchiveSession):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        made.append(self)

    def close(self):
        if not self.closed:
            closes.append(id(self))
        super().close()

import archive.app.crawl
archive.app.crawl.ArchiveSession = Recording
from archive.app.cli import cli

try:
    cli.main(sys.argv[1:], prog_name="wirearchive", standalone_mode=False)
finally:
    (session,) = made
    try:
        session._catalog.db.execute("select 1")
        open_after = True
    except sqlite3.ProgrammingError:
        open_after = False
    uploader = session.uploader
    print("SESSION " + json.dumps({
        "crawlers": len({c for c, _ in handed}),
        "sessions": len({s for _, s in handed} | {id(session)}),
        "closes": closes.count(id(session)),
        "catalog_open_after": open_after,
        "uploader_catalog_is_the_session_catalog": uploader.catalog is session._catalog,
        "uploader_stopped": uploader._task.done(),
    }))
"""


def test_two_crawlers_of_one_run_share_one_session_closed_once(archive: Archive):
    posts = make_posts(3, list(PAGES.values()))
    with PlatformSite("news", posts) as one, PlatformSite("site", posts[:2]) as two:
        sources = archive.root / "sources.toml"
        sources.write_text(
            f'[[sources]]\nname = "one"\nurl = "{one.origin}/"\n'
            f'[[sources]]\nname = "two"\nurl = "{two.origin}/"\n'
        )
        proc = subprocess.run(
            [sys.executable, "-c", RECORDER, "crawl", "--sources", str(sources)],
            capture_output=True,
            text=True,
            env=archive.env,
            cwd=archive.root,
            timeout=180,
        )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("SESSION ")]
    assert lines, proc.stdout + proc.stderr
    seen = json.loads(lines[0].removeprefix("SESSION "))
    assert seen == {
        "crawlers": 2,
        "sessions": 1,
        "closes": 1,
        "catalog_open_after": False,
        "uploader_catalog_is_the_session_catalog": True,
        "uploader_stopped": True,
    }
    # What the one uploader wrote reached the store: the session was closed in the reactor.
    assert archive.stored_keys(), proc.stderr


def test_only_the_catalog_writes_transaction_statements():
    files = subprocess.run(
        ["git", "ls-files", "archive", "crawlers", "pipelines"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    statement = re.compile(r"""["'](BEGIN|COMMIT|ROLLBACK)\b""")
    writers = {
        path
        for path in files
        if path.endswith(".py") and statement.search((ROOT / path).read_text())
    }
    assert writers and all(path.startswith("archive/storage/catalog/") for path in writers), writers
