"""Session fixtures of the static-platform suite: each Hugo and Pelican site (full feed and feed
cut to 10) built once per run in a temp folder of its own and served on loopback."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conformance.staticsites import PLATFORMS, VARIANTS, StaticSite, serve_site

SITES = [f"{p}-{v}" for p in PLATFORMS for v in VARIANTS]


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
    message = f"{platform} is not installed: {how}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs the static platforms: {message}", pytrace=False)
    pytest.skip(message)


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
