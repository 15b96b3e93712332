"""Every hostile input of tests/support/hostile.py against the loopback hostile server, with
good pages; then the process faults of a crawl: extraction workers killed, SIGTERM, a full disk.

Each group of hostile pages is archived by one `wirearchive add --file -` run together with a
few good pages of the test site (tests/support/site.py); each hostile feed or sitemap by one
`wirearchive crawl` of it beside a `urls` source of the same good pages. Prints a markdown
table: what each input should end as and what it did (`settled s`: when its line came out),
the good pages lost (must be 0), the run's peak RSS (VmHWM of the crawling process; the
largest extraction worker seen, sampled every 50 ms) and its wall time.

The process faults crawl a 200-post site (tests/support/platforms.py) with two extraction
workers, inject the fault, then crawl again without it (after `flush` and more space for the
full disk): a second table says how the faulted run ended (exit status, summary, the longest
time the catalog went without a new article: a hang shows there), what it archived and failed,
and the posts still missing after the rerun, which must be 0. The full disk needs root (a
tmpfs).

    python -m benchmarks.faults
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import archive_env
from tests.support import hostile, site
from tests.support.hostile import GROUPS, SOURCES, Case, SourceCase
from tests.support.platforms import PlatformSite, make_posts
from tests.support.site import PAGES

GOOD = ["nature.com.telescope.html", "latimes.com.bloomberg.html", "msn.com.university.html"]
RUN_TIMEOUT = 120
FAULT_POSTS = 200


@dataclass
class Run:
    """One CLI run: its result lines with when each came out, peak memory and wall time."""

    code: int = 0
    lines: dict[str, tuple[dict, float]] = field(default_factory=dict)
    seconds: float = 0.0
    main_mb: float = 0.0
    worker_mb: float = 0.0


def _status_kb(pid: int, key: str) -> int:
    """A /proc/PID/status figure in kB (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (the forkserver and the extraction workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def run_cli(args: list[str], root: Path, stdin: str = "") -> Run:
    """Run `python -m archive ARGS`, timing each stdout line and sampling memory."""
    run = Run()
    started = time.monotonic()
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "archive", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            # Crawls warm up as a user's do; stalled pages end at a time limit of 2 s.
            env=archive_env(root, WIREARCHIVE_WARM_UP="1", WIREARCHIVE_DOWNLOAD_TIMEOUT="2"),
            cwd=root,
        )
        assert proc.stdin is not None and proc.stdout is not None
        stdout = proc.stdout
        proc.stdin.write(stdin)
        proc.stdin.close()

        def read() -> None:
            for line in stdout:
                if line.startswith("{"):
                    result = json.loads(line)
                    run.lines[result["url"]] = (result, time.monotonic() - started)

        reader = threading.Thread(target=read)
        reader.start()
        while proc.poll() is None and time.monotonic() - started < RUN_TIMEOUT:
            run.main_mb = max(run.main_mb, _status_kb(proc.pid, "VmHWM:") / 1024)
            for child in _descendants(proc.pid):
                run.worker_mb = max(run.worker_mb, _status_kb(child, "VmRSS:") / 1024)
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
        run.code = proc.wait()
        reader.join()
        run.seconds = time.monotonic() - started
    return run


def expected(case: Case | SourceCase) -> str:
    """What the input must end as, in words."""
    if isinstance(case, SourceCase):
        reason = f" …{case.reason}…" if case.reason else ""
        return f"{case.status}{reason}; {case.new_articles} new; no URL fetched twice"
    if case.status == "archived":
        return f"archived, text has {case.text[:30]!r}"
    return f"{case.status}: …{case.reason}…"


def cell(text: str, width: int = 110) -> str:
    """Text fit for one markdown table cell."""
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def add_group(cases: list[Case], origin: str, site_origin: str, root: Path) -> list[list]:
    """One `add` of the group's hostile URLs and the good pages: a table row per input."""
    urls = [origin + c.path for c in cases]
    good = [f"{site_origin}/pages/{name}" for name in GOOD]
    run = run_cli(["add", "--file", "-"], root, "\n".join(urls + good) + "\n")
    lost = sum(run.lines.get(u, ({},))[0].get("status") != "archived" for u in good)
    rows = []
    for case, url in zip(cases, urls, strict=True):
        result, at = run.lines.get(url, ({"status": "no line"}, run.seconds))
        observed = result["status"] + (f": {result['reason']}" if result.get("reason") else "")
        ok = result["status"] == case.status and case.reason in result.get("reason", "")
        rows.append([case.path, expected(case), observed, ok, f"{at:.1f}", lost, run])
    return rows


def crawl_source(
    case: SourceCase, origin: str, site_origin: str, root: Path, asked: list[str]
) -> list[list]:
    """One `crawl` of the hostile source beside a `urls` source of the good pages."""
    root.mkdir(parents=True)
    good = [f"{site_origin}/pages/{name}" for name in GOOD]
    sources = root / "sources.toml"
    sources.write_text(
        f'[[sources]]\nname = "hostile"\nurl = "{origin}{case.path}"\nkind = "{case.kind}"\n'
        f"{case.extra}\n\n"
        f'[[sources]]\nname = "good"\nkind = "urls"\nurls = {json.dumps(good)}\n'
    )
    before = len(asked)
    run = run_cli(["crawl", "--sources", str(sources)], root)
    with sqlite3.connect(root / "archive.db") as conn:
        conn.row_factory = sqlite3.Row
        rows = {r["source"]: r for r in conn.execute("select * from crawl_sources")}
        archived = {r[0] for r in conn.execute("select url from articles")}
    row = rows.get("hostile")
    repeats = max(Counter(asked[before:]).values(), default=0)
    if row is None:
        observed, ok = "no crawl_sources row", False
    else:
        observed = (
            f"{row['status']}{': ' + row['reason'] if row['reason'] else ''}; "
            f"{row['discovered']} discovered, {row['new_articles']} new; "
            f"each URL fetched at most {repeats}x"
        )
        ok = (
            row["status"] == case.status
            and case.reason in (row["reason"] or "")
            and row["new_articles"] == case.new_articles
            and repeats == 1
        )
    lost = sum(u not in archived for u in good)
    return [[case.path, expected(case), observed, ok, f"{run.seconds:.1f}", lost, run]]


def _workers(pid: int) -> list[int]:
    """The extraction workers under the crawl process `pid`: the forkserver's children."""
    below = _descendants(pid)  # one walk of /proc
    servers = {c for c in below if _ppid(c) == pid and b"forkserver" in _cmdline(c)}
    return [c for c in below if _ppid(c) in servers]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _articles(db: Path) -> set[str]:
    if not db.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return {url for (url,) in conn.execute("select url from articles")}
    except sqlite3.Error:
        return set()


@dataclass
class Faulted:
    """How a crawl under a fault ended."""

    code: int
    seconds: float
    summary: bool
    longest_wait: float
    failed: int | str
    stdout: str


def crawl_under_fault(root: Path, env: dict[str, str], sources: Path, fault: str) -> Faulted:
    """Crawl `sources` and inject `fault` (idle-kill, mid-kill, sigterm or none)."""
    db = Path(env["WIREARCHIVE_DB"])
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "archive", "crawl", "--sources", str(sources)],
        stdout=subprocess.PIPE,
        stderr=(root / f"crawl-{fault}.log").open("a"),
        text=True,
        env=env,
        cwd=root,
    )
    kills, count, last_change, longest = 0, 0, started, 0.0
    while proc.poll() is None and time.monotonic() - started < RUN_TIMEOUT * 2:
        now = time.monotonic()
        workers = _workers(proc.pid)
        if fault == "idle-kill" and kills == 0 and len(workers) >= 2 and not count:
            for pid in workers:  # before any page reached them
                os.kill(pid, signal.SIGKILL)
            kills = 1
        elif fault == "mid-kill" and kills < 5 and count >= 20 * (kills + 1) and workers:
            for pid in workers:  # both, each time 20 more posts are in
                os.kill(pid, signal.SIGKILL)
            kills += 1
        elif fault == "sigterm" and kills == 0 and count >= 50:
            proc.send_signal(signal.SIGTERM)
            kills = 1
        seen = len(_articles(db))
        if seen != count:
            count, last_change = seen, now
        longest = max(longest, now - last_change)
        time.sleep(0.25)
    if proc.poll() is None:
        proc.kill()
    stdout = proc.communicate()[0]
    with sqlite3.connect(db) as conn:  # this run's row (a full disk may have kept it out)
        row = conn.execute(
            "select failed from crawl_sources where source = 'blog' order by crawl_id desc"
        ).fetchone()
    failed = row[0] if row else "-"
    return Faulted(
        proc.returncode,
        time.monotonic() - started,
        "discovered" in stdout and "status" in stdout,
        longest,
        failed,
        stdout,
    )


def process_faults(tmp: Path) -> list[list]:
    """A row per process fault: the faulted crawl, then a rerun; posts missing after it."""
    posts = make_posts(FAULT_POSTS, list(PAGES.values()))
    rows = []
    with PlatformSite("news", posts) as blog:
        wanted = {blog.post_url(p) for p in posts}
        for fault in ("none", "idle-kill", "mid-kill", "sigterm", "disk-full"):
            root = tmp / f"fault-{fault}"
            root.mkdir()
            sources = root / "sources.toml"
            sources.write_text(f'[[sources]]\nname = "blog"\nurl = "{blog.origin}/"\n')
            disk = root / "disk"
            if fault == "disk-full":
                disk.mkdir()
                if (
                    os.geteuid() != 0
                    or subprocess.run(
                        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)]
                    ).returncode
                ):
                    rows.append([fault, "needs root (a tmpfs)", "", "", "", "", "", ""])
                    continue
            db = (disk if fault == "disk-full" else root) / "archive.db"
            env = archive_env(root, WIREARCHIVE_DB=str(db), WIREARCHIVE_EXTRACT_WORKERS="2")
            try:
                run = crawl_under_fault(root, env, sources, fault)
                archived = len(_articles(db) & wanted)
                if fault == "disk-full":
                    subprocess.run(["mount", "-o", "remount,size=256m", str(disk)], check=True)
                subprocess.run(
                    [sys.executable, "-m", "archive", "flush"],
                    env=env,
                    cwd=root,
                    capture_output=True,
                    timeout=RUN_TIMEOUT,
                )
                rerun = crawl_under_fault(root, env, sources, "none")
                missing = len(wanted - _articles(db))
            finally:
                if fault == "disk-full":
                    subprocess.run(["umount", "-l", str(disk)])
            status = next(
                (ln.split()[1] for ln in run.stdout.splitlines() if ln.startswith("blog ")), "?"
            )
            rows.append(
                [
                    fault,
                    f"exit {run.code}, {status}, summary {'yes' if run.summary else 'NO'}",
                    f"{run.seconds:.1f}",
                    f"{run.longest_wait:.1f}",
                    f"{archived}/{len(wanted)}",
                    str(run.failed),
                    f"exit {rerun.code}",
                    str(missing),
                ]
            )
    return rows


def main() -> None:
    rows: list[list] = []
    with (
        tempfile.TemporaryDirectory(prefix="wa-faults-") as tmp,
        hostile.serve() as (origin, asked),
        site.serve() as (site_origin, _),
    ):
        for group, cases in GROUPS.items():
            rows += [[group, *r] for r in add_group(cases, origin, site_origin, Path(tmp, group))]
        for case in SOURCES:
            root = Path(tmp, case.path.strip("/"))
            rows += [["listing", *r] for r in crawl_source(case, origin, site_origin, root, asked)]
        faults = process_faults(Path(tmp))
    print(f"# Hostile inputs, {os.cpu_count()} cpus, download timeout 2 s, 20 MiB size cap")
    print()
    print(
        "| group | scenario | expected | observed | as expected | settled s | good pages lost "
        "| peak RSS crawl MB | peak RSS worker MB | run wall s |"
    )
    print("|---|---|---|---|---|--:|--:|--:|--:|--:|")
    for group, path, want, got, ok, at, lost, run in rows:
        print(
            f"| {group} | `{path}` | {cell(want, 70)} | {cell(got)} | {'yes' if ok else 'NO'} "
            f"| {at} | {lost} | {run.main_mb:.0f} | {run.worker_mb:.0f} | {run.seconds:.1f} |"
        )
    print()
    print(f"# Process faults: a {FAULT_POSTS}-post site, 2 extraction workers, then a rerun")
    print()
    print(
        "| fault | faulted run | wall s | longest wait for a new article s | archived "
        "| failed (1: the robots.txt-disallowed /private/ post) | rerun "
        "| posts missing after rerun |"
    )
    print("|---|---|--:|--:|--:|--:|---|--:|")
    for row in faults:
        print("| " + " | ".join(row) + " |")
    if any(not r[4] or r[6] for r in rows):
        sys.exit("some input did not end as expected, or a good page was lost")
    if any(r[-1] not in ("0", "") or "summary NO" in r[1] for r in faults):
        sys.exit("a process fault lost posts or ended without a summary")


if __name__ == "__main__":
    main()
