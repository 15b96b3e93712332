"""Fixtures of the real-platform suite: WordPress (MariaDB + Apache + mod_php) on loopback."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conformance.wordpress import (
    PlatformMissing,
    Population,
    Site,
    WordPressPlatform,
    binaries,
    populate,
    wordpress,
)


@dataclass
class WordPressSites:
    """The running platform, its three sites and what `populate` made on each."""

    platform: WordPressPlatform
    populations: dict[str, Population]
    startup_seconds: float

    @property
    def sites(self) -> dict[str, Site]:
        return self.platform.sites


def _unavailable(reason: str) -> None:
    """Fail in CI (CI=true), where the packages must be installed; skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def wp() -> Iterator[WordPressSites]:
    """MariaDB and Apache serving the `pretty`, `plain` and `prefix` WordPress sites, each
    filled by `populate` (30 published posts and one each draft, private, future, trashed and
    password-protected, 2 pages). Tests that change a site must not rely on other tests' posts."""
    try:
        binaries()
    except PlatformMissing as missing:
        _unavailable(str(missing))
    started = time.monotonic()
    with wordpress() as platform:
        populations = {name: populate(site) for name, site in platform.sites.items()}
        elapsed = time.monotonic() - started
        print(f"\nWordPress platform: started in {platform.startup_seconds:.1f} s, "
              f"ready with content in {elapsed:.1f} s")
        yield WordPressSites(platform, populations, elapsed)
