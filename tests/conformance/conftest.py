"""Fixtures of the real-platform suite: WordPress (MariaDB + Apache + mod_php) on loopback, and
each Hugo and Pelican site (full feed and feed cut to 10) built once per run in a temp folder
of its own and served on loopback. A platform that is not installed skips its tests, and fails
them under CI (CI=true), where .ci/run installs every one."""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conformance.staticsites import PLATFORMS, VARIANTS, StaticSite, serve_site
from tests.conformance.wordpress import (
    PlatformMissing,
    Population,
    Site,
    WordPressPlatform,
    binaries,
    populate,
    wordpress,
)

SITES = [f"{p}-{v}" for p in PLATFORMS for v in VARIANTS]


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
        print(
            f"\nWordPress platform: started in {platform.startup_seconds:.1f} s, "
            f"ready with content in {elapsed:.1f} s"
        )
        yield WordPressSites(platform, populations, elapsed)


def platform_available(site_or_platform: str) -> bool:
    """Whether the generator of a platform ("hugo", "pelican-cut", ...) is installed."""
    if site_or_platform.startswith("hugo"):
        return shutil.which("hugo") is not None
    return all(
        importlib.util.find_spec(m) for m in ("pelican", "markdown", "pelican.plugins.sitemap")
    )


def require_platform(platform: str) -> None:
    """Skip (or, with CI=true, fail) when the generator of `platform` is not installed."""
    if platform_available(platform):
        return
    if platform == "hugo":
        how = "apt-get install hugo (Debian's 0.111)"
    else:
        how = "pip install -e '.[test]' (pelican, markdown, pelican-sitemap)"
    _unavailable(f"{platform} is not installed: {how}")


@pytest.fixture(scope="session")
def _site_stack() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


@pytest.fixture(scope="session")
def static_site_factory(
    tmp_path_factory: pytest.TempPathFactory, _site_stack: ExitStack
) -> Callable[[str], StaticSite]:
    """`factory("hugo-cut")`: that site, built and served once per session. Read it, never
    edit it (the change scenario builds sites of its own with `fresh_site`)."""
    built: dict[str, StaticSite] = {}

    def factory(name: str) -> StaticSite:
        if name not in built:
            platform, variant = name.split("-")
            require_platform(platform)
            root = tmp_path_factory.mktemp(name)
            built[name] = _site_stack.enter_context(serve_site(platform, variant, root))
        return built[name]

    return factory


@pytest.fixture(scope="session", params=SITES)
def static_site(request: pytest.FixtureRequest, static_site_factory) -> StaticSite:
    """Each of the four sites in turn (hugo-full, hugo-cut, pelican-full, pelican-cut)."""
    return static_site_factory(request.param)


@pytest.fixture
def fresh_site(tmp_path: Path) -> Iterator[Callable[[str, str], StaticSite]]:
    """`fresh_site(platform, variant)`: a site of this test's own, free to edit and rebuild."""
    with ExitStack() as stack:

        def make(platform: str, variant: str = "full") -> StaticSite:
            require_platform(platform)
            root = tmp_path / f"{platform}-{variant}"
            return stack.enter_context(serve_site(platform, variant, root))

        yield make
