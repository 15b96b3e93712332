"""The generated reference pages in docs/ are current, and the CLI reference is complete."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from archive.app.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))


def _commands(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    """Every command under `command` (itself included), with its command path."""
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, f"{path} {name}")


def test_generated_pages_are_current() -> None:
    """`cog --check` passes: no page differs from what its generator prints now."""
    done = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "--verbosity=1", *map(str, DOCS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


COMMANDS = dict(_commands(cli, "wirearchive"))


@pytest.mark.parametrize("path", list(COMMANDS))
def test_cli_reference_has_every_option(path: str) -> None:
    """docs/cli.md has a section for each command, naming each of its options."""
    command = COMMANDS[path]
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    heading = f"## `{path}`\n"
    assert heading in page, f"no section for {path}"
    section = page.split(heading, 1)[1].split("\n## ", 1)[0]
    for param in command.params:
        if isinstance(param, click.Option):
            for flag in param.opts + param.secondary_opts:
                assert flag in section, f"{path}: {flag} missing from docs/cli.md"


LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_links_resolve(page: Path) -> None:
    """Every relative link in the README and in docs/ names a file that exists."""
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        path = target.partition("#")[0]
        if not path or "://" in target:
            continue
        resolved = (page.parent / path).resolve()
        assert resolved.exists(), f"{page.name}: broken link {target}"
